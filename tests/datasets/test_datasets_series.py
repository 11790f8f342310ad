"""Time series from statsmodels (datasets/series.py): split by time, no leakage, fixed."""

import numpy as np
import pytest

import datasets
from datasets import series

SPLITS = ("train", "validation", "test")


@pytest.fixture(scope="module")
def co2():
    return series.load("co2", window=24, horizon=12)


def _arrays(splits, to_numpy):
    return {split: to_numpy(getattr(splits, split)) for split in SPLITS}


def test_co2_is_the_monthly_mean_of_the_weekly_readings():
    import statsmodels.datasets

    dates, values = series.series("co2")
    assert len(values) == 526 and dates[0] == "1958-03" and dates[-1] == "2001-12"
    assert np.all(np.isfinite(values)) and 310 < values.min() < values.max() < 375
    weekly = statsmodels.datasets.co2.load_pandas().data["co2"]
    march_1990 = weekly["1990-03-01":"1990-03-31"].mean()
    assert values[list(dates).index("1990-03")] == pytest.approx(march_1990)
    # The five months with no reading are filled linearly in time between their neighbours.
    for month in ("1958-06", "1958-10"):
        index = list(dates).index(month)
        neighbours = sorted((values[index - 1], values[index + 1]))
        assert neighbours[0] < values[index] < neighbours[1]
    gap = [list(dates).index(month) for month in ("1964-02", "1964-03", "1964-04")]
    steps = np.diff(values[gap[0] - 1 : gap[-1] + 2])  # Jan -> Feb -> Mar -> Apr -> May
    np.testing.assert_allclose(steps, steps.mean(), rtol=0.1)  # months of 29-31 days


def test_sunspots_are_yearly():
    dates, values = series.series("sunspots")
    assert len(values) == 309 and dates[0] == "1700" and dates[-1] == "2008"
    assert values.min() >= 0 and values.max() > 150


def test_segments_are_in_time_order_and_test_is_last(co2):
    extras = co2.info.extras
    train_end, validation_end, n = extras["train_end"], extras["validation_end"], extras["num_points"]
    assert (train_end, validation_end, n) == (368, 447, 526)  # 70 / 15 / 15 % of 526 months
    assert extras["dates"] == ("1958-03", "1988-11", "1995-06", "2001-12")
    first = {split: extras["origins"][split][0] for split in SPLITS}
    assert first["train"] == 24 and first["validation"] == train_end and first["test"] == validation_end
    # Every window whose targets fit in a segment is there: stride 1, none skipped.
    assert co2.info.num_examples == {"train": train_end - 24 - 12 + 1, "validation": 79 - 11, "test": 79 - 11}


def test_windows_are_the_series_and_targets_never_reach_a_later_segment(co2, to_numpy):
    _, values = series.series("co2")
    extras = co2.info.extras
    ends = {"train": extras["train_end"], "validation": extras["validation_end"], "test": extras["num_points"]}
    starts = {"train": 0, "validation": extras["train_end"], "test": extras["validation_end"]}
    for split, (x, y) in _arrays(co2, to_numpy).items():
        assert x.shape == (co2.info.num_examples[split], 24) and y.shape == (len(x), 12)
        assert x.dtype == np.float32 and y.dtype == np.float32
        origin, count = extras["origins"][split]
        origins = origin + np.arange(count)
        np.testing.assert_array_equal(x, np.stack([values[t - 24 : t] for t in origins]).astype(np.float32))
        np.testing.assert_array_equal(y, np.stack([values[t : t + 12] for t in origins]).astype(np.float32))
        # Targets: inside this split's segment only.
        assert origins.min() >= starts[split] and origins.max() + 12 <= ends[split]
    # The last test window ends on the last month: the whole test segment is forecast.
    assert extras["origins"]["test"][0] + extras["origins"]["test"][1] - 1 + 12 == extras["num_points"]


def test_train_windows_hold_nothing_after_the_training_segment(co2, to_numpy):
    _, values = series.series("co2")
    x, y = to_numpy(co2.train)
    later = set(values[co2.info.extras["train_end"] :].astype(np.float32).tolist())
    seen = set(x.ravel().tolist()) | set(y.ravel().tolist())
    assert seen <= set(values[: co2.info.extras["train_end"]].astype(np.float32).tolist())
    assert max(seen) < max(later)  # CO2 rises: later values are above anything trained on


def test_normalisation_statistics_come_from_the_training_segment_only(co2):
    _, values = series.series("co2")
    extras = co2.info.extras
    train = values[: extras["train_end"]]
    assert extras["level_mean"] == pytest.approx(train.mean())
    assert extras["level_std"] == pytest.approx(train.std())
    assert extras["step_std"] == pytest.approx(np.diff(train).std())
    assert abs(extras["level_mean"] - values.mean()) > 1.0  # the whole series would differ
    assert extras["unit"] == "ppm" and extras["period"] == 12


def test_fingerprint_is_fixed_and_tracks_the_parameters(co2):
    assert series.load("co2", window=24, horizon=12).info.fingerprint == co2.info.fingerprint
    # Recorded once: a change to the data, the resampling or the split changes it.
    assert co2.info.fingerprint == "bdfbee3e042ee37d17b983ea65772a620d00c31e8dd2f04fb065a2eaae842b29"
    others = {
        series.load("co2", window=36, horizon=12).info.fingerprint,
        series.load("co2", window=24, horizon=6).info.fingerprint,
        series.load("sunspots", window=24, horizon=12).info.fingerprint,
    }
    assert co2.info.fingerprint not in others and len(others) == 3


def test_bad_arguments_are_one_line_data_errors(one_line_error):
    for kwargs, fragment in [
        ({"name": "co3"}, "Unknown series 'co3'"),
        ({"window": 0}, "window=0 is not valid"),
        ({"horizon": 1.5}, "horizon=1.5 is not valid"),
        ({"window": 400}, "leave no window in the train segment"),
        ({"horizon": 80}, "leave no window in the validation segment"),
    ]:
        with pytest.raises(datasets.DataError) as error:
            series.load(**kwargs)
        one_line_error(error, fragment)

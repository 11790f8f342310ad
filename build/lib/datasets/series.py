"""Real time series that ship inside statsmodels, cut into forecasting windows.

    splits = datasets.series.load("co2", window=24, horizon=12)
    dates, values = datasets.series.series("sunspots")

Two series, both offline (the files are inside the statsmodels package):

- `co2`: Mauna Loa atmospheric CO2 in ppm, 2,284 weekly readings from March
  1958 to December 2001 (`statsmodels.datasets.co2`). Resampled to monthly
  means (526 months, period 12); the 5 months with no reading at all
  (1958-06, 1958-10, 1964-02..04) are filled by linear interpolation in time.
  Monthly, because the seasonal cycle is then a fixed 12 steps, and a
  24-month window is a short sequence for an RNN (104 weekly steps are not).
- `sunspots`: the yearly mean sunspot number, 1700-2008, 309 values
  (`statsmodels.datasets.sunspots`); its cycle is about 11 years, not fixed.

Split by time, never shuffled: the first 70% of the time points are the
training segment, the next 15% validation, the final 15% test. An example is
a window: x = the `window` values before a forecast origin t (float32,
(window,), original units), y = the next `horizon` values, t .. t+horizon-1
(float32, (horizon,)). A split's examples are the windows whose TARGETS all lie
in that split's segment; their inputs may reach back into the earlier
segments (that past is observed by the time of the origin), but a window
never has a target in a later segment, so nothing of validation or test is
trained on, and nothing of test is used for early stopping. Windows advance by
one step (stride 1), in time order.

Values stay in their original units. The statistics a model may normalise
with are computed on the training segment only and given in info.extras:
"level_mean" / "level_std" (of the values) and "step_std" (of the one-step
changes). info.extras also holds the segment boundaries ("train_end",
"validation_end": indices into `series(name)`), each split's forecast origins
("origins": {split: first origin index, count}), the unit, the period and
the dates as ISO strings.
"""

import numpy as np

import datasets
from datasets import _common

SERIES = ("co2", "sunspots")
SPLIT_FRACTIONS = (0.7, 0.15, 0.15)
UNITS = {"co2": "ppm", "sunspots": "sunspot number"}
# The season length a seasonal-naive forecast repeats: 12 months, and the
# textbook 11-year sunspot cycle (only approximately periodic).
PERIODS = {"co2": 12, "sunspots": 11}


def series(name: str = "co2"):
    """(dates, values) of a whole series: ISO date strings and float64 values, in time order."""
    _check_name(name)
    import statsmodels.datasets

    if name == "co2":
        weekly = statsmodels.datasets.co2.load_pandas().data["co2"]  # 2,284 weeks, 59 missing
        monthly = weekly.resample("MS").mean()  # month start; a month with no reading is NaN
        monthly = monthly.interpolate(method="time")  # 5 such months, all inside the series
        dates = np.array([stamp.strftime("%Y-%m") for stamp in monthly.index])
        values = monthly.to_numpy(dtype=np.float64)
    else:
        frame = statsmodels.datasets.sunspots.load_pandas().data
        dates = np.array([str(int(year)) for year in frame["YEAR"]])
        values = frame["SUNACTIVITY"].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise AssertionError(f"{name}: the series still has gaps after filling")  # a bug, not a user's mistake
    return dates, values


def segment_bounds(num_points: int, fractions=SPLIT_FRACTIONS) -> tuple:
    """(train_end, validation_end): the segments are [0, train_end), [train_end, validation_end), [validation_end, n)."""
    fractions = _common.check_fractions(fractions)
    if len(fractions) != 3:
        raise datasets.DataError(f"fractions={fractions}: a series needs three (train, validation, test).")
    num_validation = int(round(num_points * fractions[1]))
    num_test = int(round(num_points * fractions[2]))
    validation_end = num_points - num_test
    return validation_end - num_validation, validation_end


def window_origins(start: int, end: int, window: int, horizon: int) -> np.ndarray:
    """Forecast origins t whose targets t..t+horizon-1 lie in [start, end) and whose inputs t-window.. exist."""
    first = max(start, window)
    last = end - horizon  # The last origin whose final target is end - 1.
    return np.arange(first, last + 1, dtype=np.int64) if last >= first else np.zeros(0, np.int64)


def windows(values: np.ndarray, origins: np.ndarray, window: int, horizon: int):
    """x (n, window) and y (n, horizon), float32: the past and future of each origin."""
    past = np.stack([values[t - window : t] for t in origins]) if len(origins) else np.zeros((0, window))
    future = np.stack([values[t : t + horizon] for t in origins]) if len(origins) else np.zeros((0, horizon))
    return past.astype(np.float32), future.astype(np.float32)


def load(name: str = "co2", window: int = 24, horizon: int = 12, fractions=SPLIT_FRACTIONS) -> datasets.Splits:
    """Windows over series `name`, split by time (see the module docstring).

    Returns:
        `datasets.Splits` of (x (window,), y (horizon,)) float32 pairs in
        original units; num_classes == 0; extras as in the module docstring.

    Raises:
        datasets.DataError: an unknown series, a window or horizon below 1, or
            one so long that a split has no window.
    """
    _check_name(name)
    for key, value in (("window", window), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise datasets.DataError(f"{key}={value!r} is not valid: expected an int >= 1; pass e.g. window=24 horizon=12.")
    dates, values = series(name)
    train_end, validation_end = segment_bounds(len(values), fractions)
    segments = {"train": (0, train_end), "validation": (train_end, validation_end), "test": (validation_end, len(values))}
    origins = {split: window_origins(start, end, window, horizon) for split, (start, end) in segments.items()}
    for split, found in origins.items():
        if len(found) == 0:
            start, end = segments[split]
            raise datasets.DataError(
                f"{name}: window={window} and horizon={horizon} leave no window in the {split} segment "
                f"({end - start} of {len(values)} points); use a shorter window or horizon."
            )
    arrays = {split: windows(values, found, window, horizon) for split, found in origins.items()}
    train = values[:train_end]
    params = {"name": name, "window": window, "horizon": horizon, "fractions": list(fractions), "stride": 1}
    return _common.array_splits(
        name,
        arrays,
        fingerprint_parts=(dates.astype(object), values, params),
        extras={
            "unit": UNITS[name],
            "period": PERIODS[name],
            "window": window,
            "horizon": horizon,
            "train_end": train_end,
            "validation_end": validation_end,
            "num_points": len(values),
            "origins": {split: (int(found[0]), len(found)) for split, found in origins.items()},
            "dates": (str(dates[0]), str(dates[train_end]), str(dates[validation_end]), str(dates[-1])),
            "level_mean": float(train.mean()),
            "level_std": float(train.std()),
            "step_std": float(np.diff(train).std()),
        },
    )


def _check_name(name) -> None:
    if name not in SERIES:
        raise datasets.DataError(f"Unknown series {name!r}; expected one of: {', '.join(SERIES)}.")

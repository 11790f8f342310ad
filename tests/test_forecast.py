"""forecast_lstm: what its docstring claims, its predict command, and the peers' arithmetic."""

import functools
import importlib.util
import io
import json
import sys

import numpy as np
import pytest

import zoo
from datasets import series
from recipes import forecast_lstm
from zoo.commands import cli
from zoo.hub import pretrained
from zoo.engine import runs

ROOT = pretrained.ROOT


@functools.lru_cache(maxsize=None)
def _peers():
    spec = importlib.util.spec_from_file_location("forecast_peers", ROOT / "benchmarks" / "forecast_peers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _test_windows(splits):
    return next(iter(splits.test.batch(10_000).as_numpy_iterator()))


def test_the_model_reads_changes_so_a_shifted_window_gives_a_shifted_forecast():
    """The docstring's claim: a level the training data never reached does not change the shape."""
    splits = series.load("co2")
    config = zoo.make_config(zoo.get_recipe("forecast_lstm"), {})
    model = forecast_lstm.build_model(config, splits.info)
    windows, _ = _test_windows(splits)
    base = forecast_lstm.forecast_windows(model, windows[:8])
    shifted = forecast_lstm.forecast_windows(model, windows[:8] + 100.0)
    np.testing.assert_allclose(shifted, base + 100.0, atol=2e-3)  # float32 at ~470 ppm
    assert base.shape == (8, config.horizon)


def test_target_seasonal_adds_the_head_to_the_value_a_season_before_each_target():
    """target=seasonal: a zero head is the seasonal-naive forecast, and it stays shift-invariant."""
    splits = series.load("co2")
    config = zoo.make_config(zoo.get_recipe("forecast_lstm"), {"target": "seasonal"})
    model = forecast_lstm.build_model(config, splits.info)
    head = model.get_layer("head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    windows, _ = _test_windows(splits)
    np.testing.assert_allclose(forecast_lstm.forecast_windows(model, windows[:8]), windows[:8, -12:], atol=1e-4)
    with pytest.raises(ValueError, match="window=8 is out of range"):
        zoo.make_config(zoo.get_recipe("forecast_lstm"), {"target": "seasonal", "window": "8"})


def test_shipped_checkpoint_mae_is_in_ppm_and_beats_the_naive_peers():
    loaded = pretrained.load("forecast_lstm")
    windows, targets = _test_windows(loaded.splits)
    forecast = forecast_lstm.forecast_windows(loaded.model, windows)
    mae = float(np.mean(np.abs(forecast - targets)))
    # The zoo's evaluate reports the same number: the metric is in the series' units.
    metrics = runs.evaluate_model(loaded.recipe, loaded.model, loaded.splits, "test")
    assert metrics["mae"] == pytest.approx(mae, rel=1e-5)
    assert metrics["loss"] == pytest.approx(float(np.mean((forecast - targets) ** 2)), rel=1e-4)
    # Persistence is the last input value; seasonal naive the same month a year before.
    persistence = np.repeat(windows[:, -1:], targets.shape[1], axis=1)
    seasonal = windows[:, -12:]
    assert mae < 0.5 * np.mean(np.abs(seasonal - targets)) < np.mean(np.abs(persistence - targets))


def _run(argv, capsys, monkeypatch, stdin: bytes):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_predict_prints_the_next_12_months(capsys, monkeypatch):
    loaded = pretrained.load("forecast_lstm")
    windows, _ = _test_windows(loaded.splits)
    expected = forecast_lstm.forecast_windows(loaded.model, windows[-1:])[0]
    text = "\n".join(", ".join(f"{v:.6f}" for v in windows[-1][row : row + 12]) for row in (0, 12))  # 2 lines of 12
    code, out, err = _run(["predict", "forecast_lstm", "--pretrained"], capsys, monkeypatch, text.encode())
    assert code == 0, err
    head, values = out.strip().split(": ")
    assert head == "next 12 (ppm)"
    np.testing.assert_allclose([float(v) for v in values.split(", ")], expected, atol=0.006)


BAD_PREDICT_INPUT = [
    (b"370 371 372", "Expected 24 numbers"),
    (b" ".join([b"370"] * 23 + [b"ppm"]), "'ppm' is not a number"),
    (b" ".join([b"370"] * 23 + [b"nan"]), "'nan' is not a finite number"),
    (b"\xff\xfe" + b"1 " * 24, "not UTF-8 text"),
    (b"", "is empty"),
]


def test_predict_bad_input_is_one_line_exit_2(capsys, monkeypatch):
    for stdin, fragment in BAD_PREDICT_INPUT:  # one test, not five: each test's set-up costs 0.3 s here
        code, out, err = _run(["predict", "forecast_lstm", "--pretrained"], capsys, monkeypatch, stdin)
        assert code == 2 and out == "", (stdin, out)
        assert err.count("\n") == 1 and err.startswith("error: ") and fragment in err, err


def test_bad_training_arguments_are_one_line_exit_2(capsys, tmp_path):
    for override, fragment in [
        ("window=400", "leave no window in the train segment"),
        ("window=0", "window must be in [1, 1000]"),
        ("dataset=co3", "is not one of: co2, sunspots"),
    ]:
        code = cli.main(["train", "forecast_lstm", override, "--workdir", str(tmp_path / "run"), "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and fragment in err, err


def test_evaluate_pretrained_reports_mae_in_ppm(capsys):
    assert cli.main(["evaluate", "forecast_lstm", "--pretrained"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    card = json.loads((ROOT / "pretrained" / "forecast_lstm" / "card.json").read_text())
    assert record["mae"] == pytest.approx(card["shipped_test_metrics"]["mae"], rel=1e-4)
    assert 0.3 < record["mae"] < 0.7  # ppm, 12 months ahead; persistence is about 2.7


def test_predict_forecasts_one_line_per_window(capsys, monkeypatch):
    """zoo predict's own reader: several windows, one per line, separated by commas, semicolons or spaces."""
    loaded = pretrained.load("forecast_lstm")
    windows, _ = _test_windows(loaded.splits)
    expected = forecast_lstm.forecast_windows(loaded.model, windows[-2:])
    text = "\n".join(";".join(f"{v:.6f}" for v in window) for window in windows[-2:])
    code, out, err = _run(["predict", "forecast_lstm", "--pretrained"], capsys, monkeypatch, text.encode())
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("next 12 (ppm): ") for line in lines)
    for line, row in zip(lines, expected):
        np.testing.assert_allclose([float(v) for v in line.split(": ")[1].split(", ")], row, atol=0.006)


def test_sunspots_train_too(tmp_path):
    recipe = zoo.get_recipe("forecast_lstm")
    config = zoo.make_config(recipe, {"dataset": "sunspots", "max_steps": 2, "epochs": 1, "units": 8})
    result = zoo.train(recipe, config, tmp_path, verbose=False)
    assert result.splits.info.extras["unit"] == "sunspot number" and result.splits.info.extras["period"] == 11
    assert all(np.isfinite(r["loss"]) for r in result.history)


def test_peer_baselines_do_what_the_benchmark_says():
    peers = _peers()
    t = np.arange(60, dtype=np.float64)
    periodic = np.sin(2 * np.pi * t / 12)
    origins = np.array([24, 30, 36])
    # Seasonal naive is exact on a purely periodic series, for steps past one season too.
    np.testing.assert_allclose(peers.seasonal_naive(periodic, origins, 18, 12), [periodic[o : o + 18] for o in origins], atol=1e-12)
    np.testing.assert_array_equal(peers.persistence(t, origins, 3), [[23] * 3, [29] * 3, [35] * 3])
    # Seasonal naive never looks at or after the origin.
    forecast = peers.seasonal_naive(t, origins, 18, 12)
    assert np.all(forecast < origins[:, None])


def test_the_configs_season_lengths_are_the_datasets():
    from datasets import series
    from recipes import forecast_lstm

    assert forecast_lstm.Config.PERIODS == series.PERIODS



@pytest.mark.parametrize("spec, params", [
    ({"order": (0, 1, 1), "seasonal_order": (0, 1, 1, 12), "trend": "n"}, [-0.4, -0.8, 0.1]),  # the airline model
    ({"order": (2, 0, 0), "seasonal_order": (0, 0, 0, 0), "trend": "c"}, [5.0, 1.2, -0.5, 4.0]),  # AR(2), a constant
])
def test_forecast_hybrids_frozen_layer_is_the_sarimax_forecast(spec, params):
    """forecast_hybrid's claim: with fixed parameters, SARIMAX's forecast from a window is one linear map."""
    import warnings

    from statsmodels.tsa.statespace.sarimax import SARIMAX

    from recipes import forecast_hybrid

    values, window = series.series("co2")[1], 48
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = SARIMAX(values[:200], **spec).filter(params)  # parameters given, not fitted: fast
        kernel, bias = forecast_hybrid.linear_forecast(fitted, window, 12)
        for t in (60, 500):  # inside and far outside the filtered stretch
            expected = np.asarray(fitted.apply(values[t - window : t]).forecast(12))
            changes_and_last = np.append(values[t - window : t] - values[t - 1], values[t - 1])
            np.testing.assert_allclose(changes_and_last @ kernel + bias, expected, rtol=1e-5)

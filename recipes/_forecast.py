"""What the forecasting recipes share: forecasts for many windows, and the test report.

A file whose name starts with `_` is not a recipe, so the registry skips this one.
Both forecast_lstm and forecast_hybrid map a window `(batch, W)` in the series'
own units to a forecast `(batch, H)` in the same units, so they are measured the
same way: MAE and RMSE over the test split's windows, and the MAE at the first
and the last step ahead (benchmarks/forecast_peers.py reads `forecast_windows`).
"""

import json
import pathlib

import numpy as np


def forecast_windows(model, windows) -> np.ndarray:
    """(n, H) float64 forecasts for (n, W) windows in original units."""
    windows = np.asarray(windows, dtype=np.float32)
    return np.asarray(model.predict(windows, batch_size=256, verbose=0), dtype=np.float64)


def report(name: str, model, splits, workdir) -> dict:
    """Test MAE, RMSE (series units) and the MAE at the first and last step ahead, saved as JSON."""
    windows, targets = next(iter(splits.test.batch(1_000_000).as_numpy_iterator()))
    errors = forecast_windows(model, windows) - targets  # (n, H)
    result = {
        "test_mae": float(np.mean(np.abs(errors))),
        "test_rmse": float(np.sqrt(np.mean(errors**2))),
        "test_mae_first_step": float(np.mean(np.abs(errors[:, 0]))),
        "test_mae_last_step": float(np.mean(np.abs(errors[:, -1]))),
    }
    unit = splits.info.extras["unit"]
    print(f"{name} test ({unit}): " + ", ".join(f"{k}={v:.4f}" for k, v in result.items()))
    (pathlib.Path(workdir) / "forecast_report.json").write_text(json.dumps(result, indent=2) + "\n")
    return result

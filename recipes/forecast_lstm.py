"""Forecasting with an LSTM: read a window of a real series, predict the next H values.

Lecture 2's many-to-many sequence model on a real time series: the monthly
Mauna Loa CO2 record (ppm, 1958-2001, from statsmodels; `dataset=sunspots`
takes the yearly sunspot numbers instead), split by time so that the final 15%
is a test segment never trained on. Each example is `window` past values and
the `horizon` values after them.

    window (batch, W) --minus its last value, / train step std--> (batch, W, 1)
      --> layers.LSTMCell over the W steps (keras.layers.RNN) --> final state (batch, units)
      --> [final state, the scaled window] --> layers.Dense(H)
      --> last value + change * step std --> forecast (batch, H)

An encoder with one output per step ahead (errors do not compound through a
decoder), a linear path beside the LSTM (`linear_skip`, as in LSTNet), and
changes from the last value instead of levels (CO2 rises out of the training
range). Loss: mean squared error in ppm^2; metric `mae` in ppm.

    make train MODEL=forecast_lstm
    python -m zoo predict forecast_lstm --pretrained --input docs/co2_2000-2001.csv
    .venv/bin/python benchmarks/forecast_peers.py      # against persistence, seasonal naive and SARIMAX

Reaches test MAE 0.500 ± 0.010 ppm over seeds 0, 1, 2 (2 CPU cores, about 4 s
of training per seed; pretrained/forecast_lstm/MODEL_CARD.md). The peers, the
design choices and what was tried: docs/results_sequence.md, "Forecasting".
"""

import dataclasses
import typing

import keras
import numpy as np
from keras import ops

import layers
from datasets import series
from recipes import _common, _forecast


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    epochs: int = 200
    batch_size: int = 32
    learning_rate: float = 3e-3
    grad_clip_norm: float = 1.0  # Clip the global gradient norm (0: off).
    patience: int = 30  # Early stopping on the validation loss.
    dataset: typing.Literal["co2", "sunspots"] = "co2"
    window: int = 24  # Past values the model reads (24 months: two seasonal cycles).
    horizon: int = 12  # Values it forecasts at once (12 months ahead).
    units: int = 32  # Size of the LSTM's hidden and cell states.
    linear_skip: bool = True  # The head also reads the window itself (a linear autoregressive path).
    # What the head's output is added to: the window's last value (a zero output is persistence), or,
    # per step ahead, the window's value one season before that target (a zero output is seasonal naive).
    target: typing.Literal["last_value", "seasonal"] = "last_value"
    # Steps per season of each dataset (datasets.series.PERIODS; a test keeps the two equal). Written
    # here so that the Config needs nothing of the module, and `zoo list` reads it without Keras.
    PERIODS: typing.ClassVar[dict] = {"co2": 12, "sunspots": 11}

    def __post_init__(self):
        super().__post_init__()
        for key in ("window", "horizon"):
            _common.require(self, key, 1 <= getattr(self, key) <= 1000, "must be in [1, 1000]")
        if self.target == "seasonal":
            period = self.PERIODS[self.dataset]
            lag = period * ((self.horizon - 1) // period + 1)  # _seasonal_lags(...).max()
            _common.require(self, "window", self.window >= lag, f"must be >= {lag} with target=seasonal (one season before each target)")
        _common.check_widths(self, "units")


TASK = "forecasting"
HEADLINE = "mae"
METRICS = {"mae": _common.mean_absolute_error}
loss = _common.mean_squared_error  # Per (window, step ahead), in the series' units squared.


def _seasonal_lags(horizon: int, period: int) -> np.ndarray:
    """(H,): for step h ahead (t + h), the smallest multiple of `period` that reaches back before t."""
    steps = np.arange(horizon)
    return period * (steps // period + 1)


def load_data(config):
    return series.load(config.dataset, window=config.window, horizon=config.horizon)


def build_model(config, info):
    step_std = float(info.extras["step_std"])  # Training segment only (datasets/series.py).
    window = keras.Input(shape=(config.window,), name="window")  # (batch, W), original units
    last = window[:, -1:]  # (batch, 1): the latest observed value
    changes = ops.expand_dims((window - last) / step_std, axis=-1)  # (batch, W, 1)
    state = keras.layers.RNN(layers.LSTMCell(config.units, name="lstm_cell"), name="encoder")(changes)  # (batch, units)
    if config.linear_skip:
        state = keras.layers.Concatenate(name="state_and_window")([state, (window - last) / step_std])  # (batch, units + W)
    steps_ahead = layers.Dense(config.horizon, name="head")(state)  # (batch, H): scaled change from the base
    if config.target == "seasonal":  # the base of step h: the window's value one season before t + h
        indices = config.window + np.arange(config.horizon) - _seasonal_lags(config.horizon, int(info.extras["period"]))
        base = ops.take(window, ops.convert_to_tensor(indices.astype("int32")), axis=1)  # (batch, H)
    else:
        base = last  # (batch, 1), broadcast over the H steps
    forecast = base + steps_ahead * step_std  # (batch, H), original units
    return keras.Model(window, forecast, name="forecast_lstm")


forecast_windows = _forecast.forecast_windows  # (n, W) windows -> (n, H) forecasts, original units


def report(model, splits, config, workdir):
    """Test MAE, RMSE and the MAE at the first and last step ahead (recipes/_forecast.py), saved as JSON."""
    return _forecast.report("forecast_lstm", model, splits, workdir)

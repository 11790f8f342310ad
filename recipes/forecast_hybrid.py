"""A hybrid forecaster: SARIMAX and an LSTM in one model, their forecasts averaged.

forecast_lstm's task (the monthly Mauna Loa CO2 record, the next 12 months from
a window of past ones; `dataset=sunspots` for the yearly sunspot numbers), with
a statistician inside the network. The statistical model is SARIMAX, Box and
Jenkins' textbook model of each series (CO2: the airline model
(0,1,1)(0,1,1)12; sunspots: AR(9) with a constant), fitted by maximum
likelihood on the TRAINING segment only when the model is built. With its
parameters fixed, its Kalman-filter forecast from a window is linear in the
window's values, so it becomes a frozen Dense layer, and the LSTM (forecast_lstm's
encoder and head) trains around it:

    window (batch, W) --minus its last value--> [changes, last value]
      --> layers.Dense(H), frozen: SARIMAX's forecast from the window --> base (batch, H)
    last `recent` values --minus the last, / train step std--> layers.LSTMCell (keras.layers.RNN)
      --> [final state, the scaled recent values] --> layers.Dense(H) --> last value + change * step std
      --> network (batch, H)
    forecast = sarimax_weight * base + (1 - sarimax_weight) * network

SARIMAX carries a seasonal shape averaged over the whole window; the LSTM
follows the latest two years. Loss: mean squared error in the series' units;
metric `mae`. The defaults (window, sarimax_weight) were chosen on the
validation segment: docs/results_sequence.md, "Forecasting".

    make train MODEL=forecast_hybrid
    .venv/bin/python benchmarks/forecast_peers.py     # against SARIMAX alone and forecast_lstm, MAE and MASE

Reaches test MAE 0.450 ± 0.006 ppm over seeds 0, 1, 2 (`python -m zoo ship
forecast_hybrid --seeds 0,1,2`: 2 CPU cores, about 15 s of training per seed;
pretrained/forecast_hybrid/MODEL_CARD.md), where the airline SARIMAX alone,
fed the whole history, reaches 0.473 and forecast_lstm 0.500 ± 0.010.
"""

import dataclasses
import functools
import typing
import warnings

import keras
import numpy as np
from keras import ops

import layers
from datasets import series
from recipes import _common, _forecast

# Box and Jenkins' textbook model of each series, the one benchmarks/forecast_peers.py calls "textbook".
SARIMAX_ORDERS = {
    "co2": {"order": (0, 1, 1), "seasonal_order": (0, 1, 1, 12), "trend": "n"},  # the airline model
    "sunspots": {"order": (9, 0, 0), "seasonal_order": (0, 0, 0, 0), "trend": "c"},  # AR(9) with a constant
}


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    epochs: int = 200
    batch_size: int = 32
    learning_rate: float = 3e-3
    grad_clip_norm: float = 1.0  # Clip the global gradient norm (0: off).
    patience: int = 30  # Early stopping on the validation loss.
    dataset: typing.Literal["co2", "sunspots"] = "co2"
    window: int = 96  # Past values SARIMAX's forecast reads (its Kalman filter starts at the window's start).
    horizon: int = 12  # Values it forecasts at once (12 months ahead).
    recent: int = 24  # The last values of the window that the LSTM reads.
    units: int = 32  # Size of the LSTM's hidden and cell states.
    # The forecast is sarimax_weight * SARIMAX's + (1 - sarimax_weight) * the network's (1: SARIMAX alone).
    sarimax_weight: float = 0.5

    def __post_init__(self):
        super().__post_init__()
        for key in ("window", "horizon", "recent"):
            _common.require(self, key, 1 <= getattr(self, key) <= 1000, "must be in [1, 1000]")
        _common.require(self, "recent", self.recent <= self.window, f"must be <= window ({self.window})")
        _common.check_widths(self, "units")


TASK = "forecasting"
HEADLINE = "mae"
METRICS = {"mae": _common.mean_absolute_error}
loss = _common.mean_squared_error  # Per (window, step ahead), in the series' units squared.


def load_data(config):
    return series.load(config.dataset, window=config.window, horizon=config.horizon)


@functools.lru_cache(maxsize=8)
def sarimax_weights(name: str, train_end: int, window: int, horizon: int):
    """(kernel (W + 1, H), bias (H,)) float32: SARIMAX, fitted on values[:train_end], as one linear map.

    Row i < W of the kernel weighs the window's value i minus its last value; row W weighs the last
    value itself. The forecast is exactly Kalman filtering the window with the fitted parameters
    (statsmodels' own initial state: approximately diffuse for the differenced part) and
    projecting H steps ahead, which for fixed parameters is linear (plus a constant) in the window.
    """
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    values = series.series(name)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter from the optimiser's start
        fitted = SARIMAX(values[:train_end], **SARIMAX_ORDERS[name]).fit(disp=False, maxiter=200)
    return linear_forecast(fitted, window, horizon)


def linear_forecast(fitted, window: int, horizon: int):
    """(kernel (W + 1, H), bias (H,)) float32: statsmodels results `fitted` as a map of (changes, last value)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fitted.apply(np.zeros(window)).filter_results  # the state space form for a window of W values
    design, obs_intercept = model.design[:, :, 0], model.obs_intercept[:, 0]  # (1, k), (1,)
    transition, state_intercept = model.transition[:, :, 0], model.state_intercept[:, 0]  # (k, k), (k,)
    selection, state_cov, obs_cov = model.selection[:, :, 0], model.state_cov[:, :, 0], model.obs_cov[:, :, 0]
    # Filter W + 1 windows at once: the unit vectors e_0 .. e_{W-1} and zeros (the constant part).
    inputs = np.concatenate([np.eye(window), np.zeros((window, 1))], axis=1)  # (W, W + 1)
    state = np.repeat(model.initial_state[:, None], window + 1, axis=1)  # (k, W + 1)
    state_var = model.initial_state_cov.copy()  # (k, k): the same for every window
    for t in range(window):
        innovation_var = design @ state_var @ design.T + obs_cov  # (1, 1)
        gain = transition @ state_var @ design.T / innovation_var  # (k, 1)
        innovation = inputs[t : t + 1] - design @ state - obs_intercept[:, None]  # (1, W + 1)
        state = transition @ state + state_intercept[:, None] + gain @ innovation
        state_var = transition @ state_var @ transition.T + selection @ state_cov @ selection.T - gain @ innovation_var @ gain.T
    forecasts = []
    for _ in range(horizon):
        forecasts.append((design @ state + obs_intercept[:, None])[0])  # (W + 1,)
        state = transition @ state + state_intercept[:, None]
    forecasts = np.stack(forecasts, axis=1)  # (W + 1, H): row i < W, forecast from e_i; row W, from zeros
    bias = forecasts[window]
    weights = forecasts[:window] - bias  # (W, H): forecast = window @ weights + bias
    # In terms of (window - last value) and the last value: the same map, without float32 cancellation.
    kernel = np.concatenate([weights, weights.sum(axis=0, keepdims=True)], axis=0)  # (W + 1, H)
    return kernel.astype(np.float32), bias.astype(np.float32)


def build_model(config, info):
    step_std = float(info.extras["step_std"])  # Training segment only (datasets/series.py).
    window = keras.Input(shape=(config.window,), name="window")  # (batch, W), original units
    last = window[:, -1:]  # (batch, 1): the latest observed value
    changes_and_last = keras.layers.Concatenate(name="changes_and_last")([window - last, last])  # (batch, W + 1)
    sarimax = layers.Dense(config.horizon, name="sarimax", trainable=False)  # frozen; weights set below
    base = sarimax(changes_and_last)  # (batch, H), original units
    recent = (window[:, -config.recent :] - last) / step_std  # (batch, R)
    state = keras.layers.RNN(layers.LSTMCell(config.units, name="lstm_cell"), name="encoder")(
        ops.expand_dims(recent, axis=-1)  # (batch, R, 1)
    )  # (batch, units)
    features = keras.layers.Concatenate(name="state_and_recent")([state, recent])  # (batch, units + R)
    changes = layers.Dense(config.horizon, name="head")(features)  # (batch, H): scaled change from the last value
    network = last + changes * step_std  # (batch, H), original units
    forecast = base * config.sarimax_weight + network * (1.0 - config.sarimax_weight)  # (batch, H)
    model = keras.Model(window, forecast, name="forecast_hybrid")
    sarimax.set_weights(list(sarimax_weights(info.name, int(info.extras["train_end"]), config.window, config.horizon)))
    return model


forecast_windows = _forecast.forecast_windows  # (n, W) windows -> (n, H) forecasts, original units


def report(model, splits, config, workdir):
    """Test MAE, RMSE and the MAE at the first and last step ahead (recipes/_forecast.py), saved as JSON."""
    return _forecast.report("forecast_hybrid", model, splits, workdir)

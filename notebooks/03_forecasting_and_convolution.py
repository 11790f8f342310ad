# %% [markdown]
# # Beyond text: forecasting a series, and the features a CNN learns
#
# The lectures' ideas on two other kinds of data. **Part 5**: a sequence model that
# forecasts a time series, judged against the statisticians' SARIMAX. **Part 6**:
# convolution, and the features a convolutional network learns from images.

# %%
# Setup (the same first cell in every notebook; notebooks/README.md explains it).
# Finds the zoo: installed, or the checkout around this notebook; else installs it from
# ZOO_SOURCE (a checkout's folder, a git URL or a wheel: anything `pip install` takes;
# on Colab, the zoo's git URL: "git+https://HOST/OWNER/zoo.git").
import importlib.util
import os
import pathlib
import subprocess
import sys

QUICK = os.environ.get("ZOO_NOTEBOOK_QUICK") == "1"  # The tests' small settings: fewer runs and samples.
ZOO_SOURCE = os.environ.get("ZOO_SOURCE", "")
RUNS = pathlib.Path(os.environ.get("ZOO_NOTEBOOK_RUNS", "runs")).resolve()  # Where this notebook trains.


def pip(*arguments):
    subprocess.run([sys.executable, "-m", "pip", *arguments, "--quiet"], check=True)


if importlib.util.find_spec("zoo") is None:
    here = pathlib.Path.cwd().resolve()
    checkout = next((folder for folder in (here, *here.parents) if (folder / "zoo" / "__init__.py").is_file()), None)
    if checkout is not None:
        sys.path.insert(0, str(checkout))
    elif ZOO_SOURCE:
        if "google.colab" in sys.modules:  # Colab's HuggingFace `datasets` has the name of the zoo's own.
            pip("uninstall", "--yes", "datasets")
        pip("install", ZOO_SOURCE)
        importlib.invalidate_caches()
    else:
        raise RuntimeError("The zoo is not installed here: set ZOO_SOURCE to its checkout or a pip URL and rerun.")
if importlib.util.find_spec("mitdeeplearning") is None:  # The Irish tunes, as the README installs them.
    pip("install", "setuptools<81", "wheel")
    pip("install", "--no-deps", "--no-build-isolation", "mitdeeplearning==0.7.5")

import zoo  # noqa: E402  (in a notebook, this loads TensorFlow without its C++ start-up lines)

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits  # The 8×8 digits digits_cnn trains on, in their own units (0..16).
from statsmodels.tsa.statespace.sarimax import SARIMAX

from datasets import series  # The zoo's loader of the CO2 series (statsmodels' bundled data, monthly).

# %% [markdown]
# ## Part 5. Forecasting: LSTMs against the statisticians' SARIMAX
#
# A sequence model need not write text. `forecast_lstm` reads the last 24 months of the
# Mauna Loa CO2 record and outputs the next 12 at once (many-to-many). A fair test of any
# forecaster is the method statisticians would reach for first: here SARIMAX, Box and
# Jenkins' "airline" model, which models the series through its differences from last
# month and from the same month last year. Both are judged on the last 15% of the
# record, which neither saw while being fitted.

# %% [markdown]
# ### The data and the split
#
# The split is by time: the first 70% of the months train, the next 15% pick the best
# epoch, the last 15% test. A test window's 12 target months all lie in the test segment;
# its 24 input months may reach back before it, since by then they are the past.

# %%
forecaster = zoo.load("forecast_lstm", pretrained=True)
extras = forecaster.info.extras
dates, values = series.series("co2")
dates = np.asarray(dates).astype("datetime64[M]")  # ISO months, as numbers matplotlib can space out.
window, horizon, train_end = extras["window"], extras["horizon"], extras["train_end"]
first_origin, count = extras["origins"]["test"]
origins = np.arange(first_origin, first_origin + count)[:: 4 if QUICK else 1]  # A forecast is made at each origin.
print(forecaster)
print(f"{len(values)} months, {dates[0]} to {dates[-1]}; training ends {dates[train_end]}; {len(origins)} test origins")

figure, axis = plt.subplots(figsize=(8, 3))
axis.plot(dates, values, linewidth=1)
axis.axvspan(dates[train_end], dates[extras["validation_end"]], color="orange", alpha=0.2, label="validation")
axis.axvspan(dates[extras["validation_end"]], dates[-1], color="green", alpha=0.2, label="test")
axis.set(ylabel=extras["unit"], title="CO2 at Mauna Loa")
axis.legend()
plt.show()

# %% [markdown]
# ### Four forecasters
#
# - **persistence**: next year looks like last month;
# - **seasonal naive**: each month looks like the same month a year before;
# - **SARIMAX (0,1,1)(0,1,1)12**, fitted once by maximum likelihood on the training
#   segment, then run forward over the data up to each origin (not refitted);
# - **forecast_lstm**: the shipped weights, given the same 24 months at each origin
#   through `zoo.predict` (rows of 24 values in ppm, one per origin);
# - **forecast_hybrid**: the statistician inside the network. The airline model, fitted
#   on the training segment only, becomes a frozen Dense layer (with its parameters
#   fixed, its forecast is linear in the window), and its forecast is averaged with an
#   LSTM's. It reads 96 months, a choice made on the validation segment.

# %%
steps = np.arange(horizon)
targets = np.stack([values[origin : origin + horizon] for origin in origins])  # (origins, horizon)
forecasts = {
    "persistence": np.stack([np.repeat(values[origin - 1], horizon) for origin in origins]),
    "seasonal naive": np.stack([values[origin + steps - 12 * (steps // 12 + 1)] for origin in origins]),
}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # The optimiser's convergence chatter.
    airline = SARIMAX(values[:train_end], order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(disp=False)
    forecasts["SARIMAX airline"] = np.stack([np.asarray(airline.apply(values[:origin]).forecast(horizon)) for origin in origins])
windows = np.stack([values[origin - window : origin] for origin in origins])  # (origins, window)
forecasts["forecast_lstm"] = np.array([prediction.values for prediction in zoo.predict(forecaster, windows)])
hybrid = zoo.load("forecast_hybrid", pretrained=True)  # Fits its SARIMAX on the training segment: a few seconds.
long_window = hybrid.info.extras["window"]
long_windows = np.stack([values[origin - long_window : origin] for origin in origins])  # (origins, 96)
forecasts["forecast_hybrid"] = np.array([prediction.values for prediction in zoo.predict(hybrid, long_windows)])
mae = {name: float(np.mean(np.abs(forecast - targets))) for name, forecast in forecasts.items()}
for name, error in sorted(mae.items(), key=lambda item: item[1]):
    print(f"{name:16s} MAE {error:.3f} ppm over 12 months ahead")

# %%
figure, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8))
shown = origins[:: max(1, len(origins) // 4)][:4]
left.plot(dates[origins[0] - window : origins[-1] + horizon], values[origins[0] - window : origins[-1] + horizon], color="black", linewidth=1, label="measured")
for name, color in (("SARIMAX airline", "tab:orange"), ("forecast_hybrid", "tab:blue")):
    for number, origin in enumerate(shown):
        row = list(origins).index(origin)
        left.plot(dates[origin : origin + horizon], forecasts[name][row], color=color, label=name if number == 0 else None)
left.set(ylabel="ppm", title="12-month forecasts from a few test origins")
left.legend()
for name, forecast in forecasts.items():
    right.plot(steps + 1, np.mean(np.abs(forecast - targets), axis=0), marker=".", label=name)
right.set(xlabel="months ahead", ylabel="MAE (ppm)", title="Error by step ahead, test segment")
right.legend()
plt.show()

# %% [markdown]
# The fitted models beat the naive ones by far, and all get worse the further ahead
# they look. On this series the airline model is hard to beat: its two differences
# encode exactly the structure CO2 has (a slow rise and a yearly cycle), with two
# parameters, while the LSTM must learn that structure from about 300 training windows.
# Over the whole test segment and three seeds the LSTM alone is about 6% behind it
# (0.500 against 0.473 ppm), and the hybrid, which keeps the statistician's forecast and
# lets a network correct half of it, is about 5% ahead (0.450 ppm), winning at long
# horizons while still losing at one month: the README's section on forecasting.

# %% [markdown]
# ## Part 6. Convolution: the features a CNN learns
#
# A dense layer connects every pixel to every unit, so it must learn the same stroke
# detector separately at every position. A convolution slides one small filter over the
# whole image: the same few weights at every position, and a feature map that says
# where the filter's pattern occurs. Stacking convolutions (with pooling between them)
# lets later filters combine earlier ones into larger parts. This part applies two
# hand-made filters, then looks inside the zoo's shipped `digits_cnn`.

# %% [markdown]
# ### A convolution by hand
#
# Each output pixel is the sum of a 3×3 patch of the input times the filter. The first
# filter responds where brightness rises from left to right (a vertical edge), the
# second where it rises from top to bottom.

# %%
digits = load_digits()
image = digits.images[5]  # An 8×8 image of a 5.
filters = {"vertical edges": np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
           "horizontal edges": np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]])}


def convolve(picture, kernel):
    height, width = picture.shape[0] - 2, picture.shape[1] - 2  # 'valid' padding: the filter stays inside.
    return np.array([[np.sum(picture[row : row + 3, column : column + 3] * kernel) for column in range(width)]
                     for row in range(height)])


figure, axes = plt.subplots(1, 3, figsize=(9, 3))
axes[0].imshow(image, cmap="gray_r")
axes[0].set_title(f"input: a {digits.target[5]}")
for axis, (name, kernel) in zip(axes[1:], filters.items()):
    axis.imshow(convolve(image, kernel), cmap="RdBu")
    axis.set_title(name)
for axis in axes:
    axis.axis("off")
plt.show()

# %% [markdown]
# ### What digits_cnn learned
#
# `digits_cnn` stacks three of the zoo's from-scratch `layers.Conv2D` (each a small Dense
# layer applied to every patch) with max pooling, and its weights ship with the zoo. On
# the same test digits it is more accurate than the dense `digits_mlp`.

# %%
cnn_metrics = zoo.evaluate("digits_cnn", pretrained=True)
print(zoo.load("digits_cnn", pretrained=True))
print(zoo.load("digits_mlp", pretrained=True))
print("digits_cnn on the test digits:", {name: round(value, 4) for name, value in cnn_metrics.items()})

# %% [markdown]
# `zoo.features` returns, for one input, every convolution's filters and feature maps,
# and for the last convolution the test images that excite each of its strongest
# channels most. First, the first layer's 3×3 filters and their maps for our 5: small
# stroke and edge detectors, each lighting up where its stroke runs.

# %%
found = zoo.features("digits_cnn", digits.data[5], units=8, top=6)
print(found)
first = found.layers[0]
figure, axes = plt.subplots(2, 8, figsize=(12, 3.2))
for channel in range(8):
    axes[0, channel].imshow(found.filters[first][:, :, 0, channel], cmap="RdBu")
    axes[1, channel].imshow(found.maps[first][:, :, channel], cmap="viridis")
    axes[0, channel].set_title(f"filter {channel}", fontsize=8)
for axis in axes.ravel():
    axis.axis("off")
figure.suptitle(f"{first}: filters (top) and their feature maps for the 5 (bottom)")
plt.show()

# %% [markdown]
# Deeper channels answer to larger parts. Each row below is one channel of the last
# convolution, with the six test digits that excite it most: a channel that likes closed
# loops collects 0s, 6s and 8s; one that likes a flat bottom stroke collects 2s.

# %%
last = found.layers[-1]
channels = list(found.top_inputs)
figure, axes = plt.subplots(len(channels), 6, figsize=(6, len(channels)))
for row, channel in enumerate(channels):
    for column, index in enumerate(found.top_inputs[channel]):
        axes[row, column].imshow(found.test_images[index], cmap="gray_r")
        axes[row, column].axis("off")
    axes[row, 0].set_title(f"channel {channel}", fontsize=7, loc="left")
figure.suptitle(f"{last}: the test digits each channel responds to most")
plt.show()

# %% [markdown]
# Nobody told the network to look for loops or strokes: those filters are what made the
# training loss fall. That is the lecture's point about features: hand-designed in
# classical vision, learned from data in deep learning. `python -m zoo features digits_cnn
# --pretrained --input docs/digit_5.csv --out docs/features` writes the same figures as files.

"""Predictions of classifiers, regressors and forecasters (`zoo.predict`, `zoo predict`).

    predict(loaded, "docs/digit_5.csv")      # [Prediction(class 5 (probability 0.9999))]
    predict(loaded, [[14.2, 20.1, ...]])     # rows in the data's own units

Input (a file, its bytes, or rows of numbers), read by what the
model was trained on (its dataset info), so a new recipe on one of these
datasets needs no code here:

- 8x8 digits (info.extras["image_shape"]): a PNG, resized to 8x8 grayscale by
  area averaging (the share of ink in each cell, as scikit-learn built the
  digits), inverted when its background is light (the dataset stores ink as
  high values), scaled to 0..1; or 64 numbers (CSV, any line layout) on the
  dataset's 0..1 scale, or scikit-learn's raw 0..16 counts (read as such when
  any value is above 1; divided by info.extras["pixel_max"]).
- Feature rows (tabular and 2-D data): the numbers in their original units
  (the recipe's standardization, info.extras["feature_mean"/"feature_std"], is
  applied here). One example per input, or one per line when every line has a
  full row.
- Tunes (a tune-type vocabulary: "<pad>", "<unk>", ...): the ABC text of one
  tune, encoded with `datasets.irish.encode_tune` like the training data.

It prints the class and its probability (softmax over the classes, or the
sigmoid of a single logit), or for regression the value in the target's
original units. A recipe may define `predict(model, info, config, data: bytes)
-> list of lines` to read its own input instead. Bad input (a wrong number of
values, something not a number, an unreadable PNG, empty input) ends in one
line on stderr and exit code 2.
"""

import math
import pathlib
import re
import sys

import numpy as np

from zoo import errors
from zoo.inference import results

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_NUMBER_SPLIT = re.compile(r"[,;\s]+")


def read_input(path) -> bytes:
    """The bytes of `path` (or stdin for None / '-'); empty input is a ValueError."""
    if path in (None, "-"):
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        where = "stdin"
    else:
        file = pathlib.Path(path)
        if not file.is_file():
            raise errors.MissingFileError(f"--input {path!r} does not exist (or is not a file); pass a CSV, PNG or ABC file.")
        data = file.read_bytes()
        where = repr(str(path))
    if not data.strip():
        raise errors.UserError(f"The input ({where}) is empty; pass a file with --input or pipe the values into stdin.")
    return data


TASKS = ("classification", "binary", "regression", "forecasting")


def check_task(recipe) -> None:
    """Predict is for classifiers, regressors and forecasters; a UserError for any other recipe."""
    if recipe.task not in TASKS:
        raise errors.UserError(
            f"{recipe.name} is a {recipe.task} recipe; predict handles classifiers, regressors and forecasters; "
            f"use `python -m zoo generate {recipe.name}` for a language model."
        )


def predict(loaded, inputs) -> list:
    """The model's prediction for each example in `inputs`, as `results.Prediction`s.

    Args:
        loaded: what `loading.load` returns.
        inputs: a file's path (str or Path; "-" is stdin), its bytes (CSV, PNG or
            ABC, read as described above), or an array of rows in the data's
            original units (one row, or one per example).

    A recipe's own `predict` hook (if it defines one) gets the bytes and returns
    its lines, which are returned as they are.
    """
    recipe, model, info = loaded.recipe, loaded.model, loaded.info
    check_task(recipe)
    hook = recipe.hook("predict")
    if hook is not None:
        return list(hook(model, info, loaded.config, _as_bytes(inputs)))
    features = examples(info, inputs)
    # predict() compiles the forward pass: faster than eager for a recurrent model's loop.
    outputs = np.asarray(model.predict(features, batch_size=256, verbose=0), dtype=np.float64)  # (examples, outputs)
    if not np.isfinite(outputs).all():
        raise errors.UserError(
            "The model's output overflowed float32 for this input (its values lie far outside the data's range); "
            "pass values in the range the model was trained on."
        )
    return [to_prediction(recipe, info, row) for row in outputs.reshape(len(features), -1)]


def forecast(loaded, window):
    """The forecaster's next values after `window` (past values in the series' units), a `Prediction`."""
    if loaded.recipe.task != "forecasting":
        raise errors.UserError(f"{loaded.recipe.name} is a {loaded.recipe.task} recipe, not a forecaster; try forecast_lstm.")
    rows = np.asarray(window, dtype=np.float64).reshape(1, -1)
    return predict(loaded, rows)[0]


def _as_bytes(inputs) -> bytes:
    if isinstance(inputs, bytes):
        if not inputs.strip():
            raise errors.UserError("The input is empty; pass a file, its bytes, or rows of numbers.")
        return inputs
    if isinstance(inputs, (str, pathlib.Path)):
        return read_input(inputs)
    raise errors.UserError(f"This recipe reads its input as a file or bytes, not {type(inputs).__name__}.")


def examples(info, inputs) -> np.ndarray:
    """A batch of model inputs from a path, bytes, or rows of numbers in the data's units."""
    if isinstance(inputs, (bytes, str, pathlib.Path)):
        return parse_features(info, _as_bytes(inputs))
    size = int(np.prod(info.input_shape))
    try:
        rows = np.asarray(inputs, dtype=np.float64)
    except (TypeError, ValueError):
        raise errors.UserError(f"The input is not rows of numbers; pass {size} numbers per example.") from None
    if rows.ndim <= 1:
        rows = rows.reshape(1, -1)
    rows = rows.reshape(len(rows), -1)
    if rows.shape[1] != size or not len(rows):
        raise errors.UserError(f"Expected {size} numbers per example for {info.name!r}, got rows of {rows.shape[1]}.")
    if not np.isfinite(rows).all():
        raise errors.UserError(f"The input has a value that is not a finite number; pass {size} finite numbers.")
    return prepare(info, rows)


def parse_features(info, data: bytes) -> np.ndarray:
    """Turns raw input into a batch of model inputs for a dataset like `info`."""
    if is_tune_vocabulary(info.vocabulary):
        return _parse_tune(info, data)
    if info.vocabulary:
        raise errors.UserError(f"predict does not know how to read input for dataset {info.name!r}; the recipe needs a `predict` hook.")
    size = int(np.prod(info.input_shape))
    if data.startswith(PNG_MAGIC):
        if "image_shape" not in info.extras:
            raise errors.UserError(
                f"The input is a PNG, but {info.name!r} takes rows of {size} numbers; pass them as CSV."
            )
        return _parse_png(info, data)
    return prepare(info, _parse_numbers(data, size, info))


def prepare(info, rows: np.ndarray) -> np.ndarray:
    """Rows of numbers in the data's units -> the model's input, scaled as the recipe scaled its data."""
    if "image_shape" in info.extras:
        rows = _scale_pixels(info, rows)
    elif "feature_mean" in info.extras:
        mean = np.asarray(info.extras["feature_mean"], dtype=np.float64)
        std = np.asarray(info.extras["feature_std"], dtype=np.float64)
        rows = (rows - mean) / std
    _check_float32(rows)
    return rows.reshape((len(rows), *info.input_shape)).astype(np.float32)


# The largest magnitude a float32 holds; the model computes in float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_float32(rows: np.ndarray) -> None:
    """Refuses values that float32, the model's precision, cannot hold (after the recipe's scaling)."""
    too_large = np.abs(rows) > FLOAT32_MAX
    if too_large.any():
        column = int(np.argwhere(too_large)[0][-1])
        raise errors.UserError(
            f"Value {column + 1} of the input is too large for the model, which computes in float32 "
            f"(at most {FLOAT32_MAX:.3g} after the recipe's scaling); pass values in the data's range."
        )


def is_tune_vocabulary(vocabulary) -> bool:
    return len(vocabulary) > 2 and vocabulary[0] == "<pad>" and vocabulary[1] == "<unk>"


def _text(data: bytes, what: str) -> str:
    if b"\x00" in data:
        raise errors.UserError(f"The input is binary, not {what}; pass {what}.")
    try:
        return data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as error:
        raise errors.UserError(f"The input is not UTF-8 text (byte {error.start}); pass {what}.") from None


def _parse_tune(info, data: bytes) -> np.ndarray:
    from datasets import irish

    text = _text(data, "the ABC text of a tune")
    max_length = int(info.extras.get("max_length", info.input_shape[0] if info.input_shape and info.input_shape[0] else 384))
    ids = irish.encode_tune(text, info.vocabulary, max_length, keep_key=bool(info.extras.get("keep_key", True)))
    if not ids.any():
        raise errors.UserError("The tune has no notes once its header lines (X:, T:, M:, ...) are removed; pass the whole tune.")
    return ids[None, :]  # (1, max_length)


def _parse_numbers(data: bytes, size: int, info) -> np.ndarray:
    """(examples, size) float64: all numbers as one example, or one full row per line."""
    text = _text(data, f"{size} comma-separated numbers")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    rows = [[part for part in _NUMBER_SPLIT.split(line) if part] for line in lines]
    tokens = [token for row in rows for token in row]
    if len(tokens) == size:
        groups = [tokens]
    elif rows and all(len(row) == size for row in rows):
        groups = rows
    else:
        counts = sorted({len(row) for row in rows})
        raise errors.UserError(
            f"Expected {size} numbers for {info.name!r} (one example, or {size} per line), got "
            f"{len(tokens)} in {len(rows)} line(s) of {'/'.join(map(str, counts)) or 0}; pass exactly {size} values."
        )
    values = []
    for group in groups:
        row = []
        for token in group:
            try:
                value = float(token)
            except ValueError:
                raise errors.UserError(f"{token[:30]!r} is not a number; pass {size} numbers separated by commas.") from None
            if not math.isfinite(value):
                raise errors.UserError(f"{token!r} is not a finite number; pass {size} finite numbers.")
            row.append(value)
        values.append(row)
    return np.asarray(values, dtype=np.float64)


def _scale_pixels(info, rows: np.ndarray) -> np.ndarray:
    """Pixel values on the dataset's 0..1 scale (raw 0..pixel_max counts are divided)."""
    pixel_max = float(info.extras.get("pixel_max", 1.0))
    if rows.min() < 0 or rows.max() > pixel_max:
        raise errors.UserError(
            f"Pixel values must lie in 0..1 (the dataset's scale) or 0..{pixel_max:g} (raw counts); "
            f"got {rows.min():g}..{rows.max():g}."
        )
    scaled = rows.copy()
    for index, row in enumerate(rows):
        if row.max() > 1.0:
            scaled[index] = row / pixel_max
    return scaled


def _parse_png(info, data: bytes) -> np.ndarray:
    import tensorflow as tf

    height, width = info.extras["image_shape"]
    try:
        image = tf.io.decode_png(data, dtype=tf.uint16)  # (h, w, channels), 8-bit values scaled to 16 bits
    except (tf.errors.InvalidArgumentError, tf.errors.OpError):
        raise errors.UserError("The PNG cannot be decoded (damaged or not a PNG); pass a valid PNG or 64 CSV values.") from None
    pixels = tf.cast(image, tf.float32) / 65535.0  # (h, w, channels), 0..1
    channels = pixels.shape[-1]
    if channels in (2, 4):
        # Transparent parts are paper: composite the colour over white.
        color, alpha = pixels[..., :-1], pixels[..., -1:]
        pixels = color * alpha + (1.0 - alpha)
    pixels = tf.reduce_mean(pixels, axis=-1, keepdims=True)  # (h, w, 1) gray
    if float(tf.reduce_mean(_border(pixels))) > 0.5:
        pixels = 1.0 - pixels  # Dark ink on light paper: the dataset stores ink as high values.
    pixels = _frame_the_ink(np.asarray(pixels)[..., 0])  # (s, s): the digit, centred, filling the frame
    small = tf.image.resize(pixels[..., None], (height, width), method="area")  # (8, 8, 1): ink share per cell
    return np.asarray(small, dtype=np.float32).reshape(1, -1)  # (1, 64)


INK_THRESHOLD = 0.05  # Of the image's strongest ink: fainter pixels are paper when finding the digit.
FILLED = 0.9  # Ink whose longer side spans this much of its image already fills its frame.


def _frame_the_ink(ink: np.ndarray) -> np.ndarray:
    """The digit as the dataset's images hold it. The UCI digits were size-normalised into their
    box before they were counted into 8x8 cells: in every one of the 1,797, the ink spans the whole
    frame along its longer side. A drawing that does not (a small digit anywhere on a large canvas)
    is cropped to its ink and centred in a square that its longer side fills; an image that already
    fills its frame is read as it is."""
    strong = ink > INK_THRESHOLD * float(ink.max()) if ink.max() > 0 else np.zeros_like(ink, bool)
    if not strong.any():
        return ink  # A blank image: nothing to frame.
    rows, columns = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
    height, width = rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1
    if height >= FILLED * ink.shape[0] or width >= FILLED * ink.shape[1]:
        return ink
    crop = ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]  # (height, width) around the ink
    side = max(height, width)
    square = np.zeros((side, side), np.float32)
    top, left = (side - height) // 2, (side - width) // 2
    square[top : top + height, left : left + width] = crop
    return square


def _border(pixels):
    import tensorflow as tf

    return tf.concat(
        [tf.reshape(pixels[0], [-1]), tf.reshape(pixels[-1], [-1]), tf.reshape(pixels[:, 0], [-1]), tf.reshape(pixels[:, -1], [-1])],
        axis=0,
    )


def to_prediction(recipe, info, outputs: np.ndarray):
    """The `results.Prediction` for one example's raw outputs: a class, a value, or a forecast."""
    raw = tuple(float(value) for value in outputs)
    if recipe.task == "forecasting":  # One value per step ahead, in the series' units.
        return results.Prediction("forecast", values=raw, unit=info.extras.get("unit", ""), outputs=raw)
    if recipe.task == "regression" or not info.num_classes:
        value = raw[0]
        extras = info.extras
        if extras.get("target_standardized"):
            value = value * float(extras["target_std"]) + float(extras["target_mean"])
        return results.Prediction("value", values=(value,), outputs=raw)
    names = list(info.class_names) or [str(i) for i in range(info.num_classes)]
    if outputs.shape[-1] == 1:
        positive = 0.5 * (1.0 + math.tanh(0.5 * raw[0]))  # P(class 1): sigmoid, without overflow
        probabilities = (1.0 - positive, positive)
    else:
        shifted = np.exp(outputs - outputs.max())
        probabilities = tuple(float(p) for p in shifted / shifted.sum())
    index = int(np.argmax(probabilities))
    return results.Prediction("class", label=names[index], probability=probabilities[index],
                              probabilities=probabilities, outputs=raw)

"""Handwritten digits with a convolutional network: features learned layer by layer.

The lecture's point about features: they used to be designed by hand, and a
deep network learns them, simple ones (strokes, edges) in its first layer and
combinations of them (loops, corners, parts of digits) in later ones. A
convolution is a small Dense layer applied at every position of the image
with shared weights (layers.Conv2D), so a feature learned once is found
anywhere. Trains on scikit-learn's 8x8 digits, reshaped to 8x8x1 images, on
the same fixed split as `digits_mlp`; `dataset=mnist` takes 28x28 MNIST
through tensorflow-datasets (needs internet once).

    make train MODEL=digits_cnn
    python -m zoo features digits_cnn --pretrained --input docs/digit_5.csv

Measured on this project's machine (2 CPU cores, AMD EPYC, no GPU), seed 0:
test accuracy 1.000 (best validation epoch 53 of 68 run, 2720 steps) in 21.6 s
of training, 27.2 s for the whole command; 62,250 parameters. Over seeds 0, 1
and 2: 0.993 ± 0.007 (pretrained/digits_cnn/MODEL_CARD.md), against digits_mlp's
0.969 ± 0.002 on the same split (README, "Learned features").
"""

import dataclasses
import typing

import keras

import layers
from datasets import digits, mnist
from recipes import _common


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 1e-3
    patience: int = 15  # Early stopping on the validation loss.
    dataset: typing.Literal["digits", "mnist"] = "digits"
    filters: int = 32  # Feature maps of the first two conv layers; the third has twice as many.
    hidden_units: int = 128  # Width of the Dense layer after the convolutions.
    dropout: float = 0.3  # Dropout before each Dense layer (0: off).

    def __post_init__(self):
        super().__post_init__()
        _common.check_widths(self, "filters", "hidden_units")
        _common.require(self, "dropout", 0.0 <= self.dropout < 1.0, "must be in [0, 1)")


TASK = "classification"
HEADLINE = "accuracy"
METRICS = {"accuracy": _common.accuracy}
loss = _common.sparse_crossentropy


def load_data(config):
    if config.dataset == "mnist":
        return mnist.load(flatten=False)  # (28, 28, 1) images
    return digits.load()  # Flattened (64,) rows: the model reshapes them to 8x8x1.


def build_model(config, info):
    inputs = keras.Input(shape=info.input_shape, name="pixels")
    images = inputs
    if len(info.input_shape) == 1:
        images = keras.layers.Reshape((*info.extras["image_shape"], 1), name="image")(inputs)  # (batch, 8, 8, 1)
    hidden = layers.Conv2D(config.filters, 3, padding="same", activation="relu", name="conv_1")(images)  # (batch, 8, 8, f)
    hidden = layers.Conv2D(config.filters, 3, padding="same", activation="relu", name="conv_2")(hidden)  # (batch, 8, 8, f)
    hidden = keras.layers.MaxPooling2D(2, name="pool_1")(hidden)  # (batch, 4, 4, f)
    hidden = layers.Conv2D(2 * config.filters, 3, padding="same", activation="relu", name="conv_3")(hidden)  # (batch, 4, 4, 2f)
    hidden = keras.layers.MaxPooling2D(2, name="pool_2")(hidden)  # (batch, 2, 2, 2f)
    hidden = keras.layers.Flatten(name="flatten")(hidden)  # (batch, 8f)
    if config.dropout:
        hidden = keras.layers.Dropout(config.dropout, name="dropout_1")(hidden)
    hidden = layers.Dense(config.hidden_units, activation="relu", name="hidden")(hidden)  # (batch, hidden_units)
    if config.dropout:
        hidden = keras.layers.Dropout(config.dropout, name="dropout_2")(hidden)
    logits = layers.Dense(info.num_classes, name="logits")(hidden)  # (batch, 10)
    return keras.Model(inputs, logits, name="digits_cnn")

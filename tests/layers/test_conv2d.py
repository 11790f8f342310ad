"""Tests for layers.Conv2D: shapes, config and .keras round trips, equality with
keras.layers.Conv2D for both paddings and strides 1 and 2, gradients equal to
the twin's, and argument validation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import layers


def _images(batch=2, height=7, width=8, channels=3, seed=1):
    return np.random.default_rng(seed).normal(size=(batch, height, width, channels)).astype("float32")


def _twins(filters, kernel_size, strides, padding, activation="linear", channels=3):
    """Our Conv2D and keras's, with the same (random) weights."""
    ours = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, activation=activation)
    twin = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, activation=activation)
    images = _images(channels=channels)
    ours(images)
    twin(images)
    rng = np.random.default_rng(7)
    weights = [rng.normal(size=w.shape).astype("float32") for w in twin.get_weights()]
    twin.set_weights(weights)
    ours.set_weights(weights)
    return ours, twin


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2, (1, 2)])
@pytest.mark.parametrize("kernel_size", [3, (2, 3), 1])
def test_equals_keras_conv2d_with_the_same_weights(padding, strides, kernel_size):
    ours, twin = _twins(4, kernel_size, strides, padding, activation="relu")
    images = _images()
    expected = np.asarray(twin(images))
    actual = np.asarray(ours(images))
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=1e-5)
    assert ours.compute_output_shape(images.shape) == expected.shape


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2])
def test_gradients_equal_the_twins(padding, strides):
    ours, twin = _twins(3, 3, strides, padding, activation="tanh")
    images = tf.constant(_images())
    gradients = []
    for layer in (ours, twin):
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_sum(layer(images) ** 2)
        gradients.append(tape.gradient(loss, [images, layer.kernel, layer.bias]))
    for mine, theirs in zip(*gradients):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(theirs), rtol=1e-4, atol=1e-5)


def test_shapes_and_weight_count():
    layer = layers.Conv2D(5, 3, padding="same", strides=2)
    outputs = layer(_images(height=7, width=8))
    assert tuple(outputs.shape) == (2, 4, 4, 5)  # ceil(7 / 2), ceil(8 / 2)
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert layer.count_params() == 3 * 3 * 3 * 5 + 5
    assert tuple(layers.Conv2D(2, 3)(_images()).shape) == (2, 5, 6, 2)  # valid: 7 - 3 + 1, 8 - 3 + 1


def test_config_and_keras_file_round_trips(tmp_path):
    layer = layers.Conv2D(4, (2, 3), strides=(1, 2), padding="same", activation="relu", use_bias=False, name="strokes")
    config = layer.get_config()
    assert {key: config[key] for key in ("filters", "kernel_size", "strides", "padding", "activation", "use_bias")} == {
        "filters": 4, "kernel_size": (2, 3), "strides": (1, 2), "padding": "same", "activation": "relu", "use_bias": False
    }
    assert layers.Conv2D.from_config(config).get_config() == config

    inputs = keras.Input(shape=(7, 8, 3))
    model = keras.Model(inputs, layers.Conv2D(4, 3, padding="same", activation="relu")(inputs))
    path = tmp_path / "conv.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    images = _images()
    np.testing.assert_array_equal(np.asarray(loaded(images)), np.asarray(model(images)))


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"filters": 0, "kernel_size": 3}, "filters"),
        ({"filters": 2, "kernel_size": 0}, "kernel_size"),
        ({"filters": 2, "kernel_size": (3, 3, 3)}, "pair"),
        ({"filters": 2, "kernel_size": 3, "strides": -1}, "strides"),
        ({"filters": 2, "kernel_size": 3, "padding": "full"}, "padding"),
        ({"filters": 2, "kernel_size": 3, "activation": "swish"}, "activation"),
    ],
)
def test_bad_arguments_raise_value_error(arguments, message):
    with pytest.raises(ValueError, match=message):
        layers.Conv2D(**arguments)


def test_a_kernel_larger_than_a_valid_input_is_a_clear_error():
    with pytest.raises(ValueError, match="does not fit"):
        layers.Conv2D(2, 5)(_images(height=3, width=3))

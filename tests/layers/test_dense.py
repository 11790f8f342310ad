"""Tests for layers.Dense: shapes, config and .keras round trips, equality with
keras.layers.Dense, hand-derived gradients, the straight-through estimator and
argument validation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import layers
from layers import dense as dense_module

SHARED_ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "softmax"]


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def _inputs(*shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@pytest.mark.parametrize(
    "input_shape, units, use_bias, expected_params",
    [
        ((4, 3), 5, True, 3 * 5 + 5),
        ((4, 3), 5, False, 3 * 5),
        ((2, 6, 3), 2, True, 3 * 2 + 2),  # rank 3: acts on the last axis
        ((2, 2, 2, 3), 1, True, 3 * 1 + 1),
    ],
)
def test_output_shape_and_weight_count(input_shape, units, use_bias, expected_params):
    layer = layers.Dense(units, use_bias=use_bias)
    outputs = layer(_inputs(*input_shape))
    assert tuple(outputs.shape) == input_shape[:-1] + (units,)
    assert layer.count_params() == expected_params
    assert [w.name for w in layer.weights] == (
        ["kernel", "bias"] if use_bias else ["kernel"]
    )
    assert tuple(layer.kernel.shape) == (input_shape[-1], units)
    assert layer.compute_output_shape(input_shape) == input_shape[:-1] + (units,)


def test_config_round_trip():
    layer = layers.Dense(
        7,
        activation="sign",
        use_bias=False,
        kernel_initializer="he_normal",
        straight_through="clipped",
        name="perceptrons",
    )
    config = layer.get_config()
    for key, value in {
        "units": 7,
        "activation": "sign",
        "use_bias": False,
        "straight_through": "clipped",
        "name": "perceptrons",
    }.items():
        assert config[key] == value
    clone = layers.Dense.from_config(config)
    assert clone.get_config() == config
    assert isinstance(clone.kernel_initializer, keras.initializers.HeNormal)


def test_none_activation_is_linear_in_config():
    assert layers.Dense(2).get_config()["activation"] == "linear"


def test_keras_file_round_trip(tmp_path):
    inputs = keras.Input(shape=(3,))
    hidden = layers.Dense(4, activation="tanh")(inputs)
    outputs = layers.Dense(2, activation="step")(hidden)
    model = keras.Model(inputs, outputs)
    x = _inputs(5, 3)
    expected = keras.ops.convert_to_numpy(model(x))

    path = tmp_path / "dense.keras"
    model.save(path)
    loaded = keras.models.load_model(path)

    assert [type(layer) for layer in loaded.layers[1:]] == [layers.Dense] * 2
    assert loaded.layers[2].activation == "step"
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), expected)


@pytest.mark.parametrize("activation", SHARED_ACTIVATIONS)
@pytest.mark.parametrize("input_shape", [(4, 3), (2, 5, 3)])
def test_matches_keras_dense(activation, input_shape):
    x = _inputs(*input_shape)
    reference = keras.layers.Dense(6, activation=activation)
    reference.build(input_shape)
    # Non-zero bias so that the bias path is compared too.
    reference.bias.assign(_inputs(6, seed=2))
    ours = layers.Dense(6, activation=activation)
    ours.build(input_shape)
    ours.set_weights(reference.get_weights())

    difference = np.abs(
        keras.ops.convert_to_numpy(ours(x)) - keras.ops.convert_to_numpy(reference(x))
    )
    assert difference.max() <= 1e-6


def test_sigmoid_mse_gradients_match_hand_derivation():
    x = _inputs(4, 3).astype("float64")
    target = _inputs(4, 2, seed=3).astype("float64")
    layer = layers.Dense(2, activation="sigmoid", dtype="float64")
    layer.build((4, 3))
    layer.bias.assign(np.array([0.3, -0.2]))

    with tf.GradientTape() as tape:
        prediction = layer(x)
        loss = keras.ops.mean((prediction - target) ** 2)
    kernel_grad, bias_grad = tape.gradient(loss, [layer.kernel, layer.bias])

    # Chain rule by hand, for loss = mean over N*U elements of (y - t)^2,
    # y = sigmoid(z), z = x W + b:
    #   dL/dy = 2 (y - t) / (N U);  dy/dz = y (1 - y)
    #   dL/dW = x^T dL/dz;          dL/db = sum over the batch of dL/dz
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    bias = keras.ops.convert_to_numpy(layer.bias)
    y = 1.0 / (1.0 + np.exp(-(x @ kernel + bias)))
    grad_z = 2.0 * (y - target) / target.size * y * (1.0 - y)
    np.testing.assert_allclose(kernel_grad.numpy(), x.T @ grad_z, rtol=1e-10)
    np.testing.assert_allclose(bias_grad.numpy(), grad_z.sum(axis=0), rtol=1e-10)
    assert np.abs(x.T @ grad_z).max() > 1e-3  # the check is not vacuous


@pytest.mark.parametrize(
    "activation, low, high", [("step", 0.0, 1.0), ("sign", -1.0, 1.0)]
)
def test_hard_activations_forward(activation, low, high):
    x = np.array([[-2.0], [-1e-3], [0.0], [1e-3], [3.0]], dtype="float32")
    layer = layers.Dense(1, activation=activation, kernel_initializer="ones")
    outputs = keras.ops.convert_to_numpy(layer(x))[:, 0]
    np.testing.assert_array_equal(outputs, [low, low, high, high, high])


def _weighted_sum_gradients(straight_through, activation="step"):
    """Gradients of sum(c * activation(x W + b)) w.r.t. W and b, and z = x W + b."""
    x = _inputs(6, 3)
    weights = _inputs(6, 2, seed=4)
    layer = layers.Dense(
        2, activation=activation, straight_through=straight_through
    )
    layer.build((6, 3))
    layer.bias.assign([0.5, -0.5])
    with tf.GradientTape() as tape:
        loss = keras.ops.sum(weights * layer(x))
    kernel_grad, bias_grad = tape.gradient(loss, [layer.kernel, layer.bias])
    pre_activation = x @ keras.ops.convert_to_numpy(layer.kernel) + [0.5, -0.5]
    return x, weights, pre_activation, kernel_grad, bias_grad


@pytest.mark.parametrize("activation", ["step", "sign"])
def test_straight_through_identity_gradient(activation):
    x, weights, _, kernel_grad, bias_grad = _weighted_sum_gradients(
        "identity", activation
    )
    # Backward treats the activation as the identity: dL/dz = weights.
    np.testing.assert_allclose(kernel_grad.numpy(), x.T @ weights, rtol=1e-5)
    np.testing.assert_allclose(bias_grad.numpy(), weights.sum(axis=0), rtol=1e-5)


def test_straight_through_clipped_gradient():
    x, weights, pre_activation, kernel_grad, _ = _weighted_sum_gradients("clipped")
    passes = (np.abs(pre_activation) <= 1.0).astype("float32")
    assert 0 < passes.mean() < 1  # some pass, some are blocked
    np.testing.assert_allclose(
        kernel_grad.numpy(), x.T @ (weights * passes), rtol=1e-5, atol=1e-6
    )


def test_without_straight_through_the_gradient_is_zero():
    _, _, _, kernel_grad, bias_grad = _weighted_sum_gradients(None)
    for grad in (kernel_grad, bias_grad):
        assert grad is None or not np.any(grad.numpy())


def test_perceptron_with_step_learns_and_gate():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    target = np.array([[0], [0], [0], [1]], dtype="float32")
    layer = layers.Dense(1, activation="step", kernel_initializer="zeros")
    layer.build((4, 2))
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    for _ in range(30):
        with tf.GradientTape() as tape:
            loss = keras.ops.mean((layer(x) - target) ** 2)
        grads = tape.gradient(loss, layer.trainable_weights)
        optimizer.apply(grads, layer.trainable_weights)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), target)


@pytest.mark.parametrize("activation", list(dense_module.ACTIVATIONS))
def test_forward_under_mixed_bfloat16(mixed_bfloat16, activation):
    layer = layers.Dense(3, activation=activation)
    x = _inputs(4, 5)
    outputs = layer(x)
    assert keras.backend.standardize_dtype(outputs.dtype) == "bfloat16"
    assert layer.kernel.dtype == "float32"  # variables stay in float32
    outputs = keras.ops.convert_to_numpy(keras.ops.cast(outputs, "float32"))
    assert np.all(np.isfinite(outputs))
    assert outputs.shape == (4, 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, "units"),
        ({"units": -3}, "units"),
        ({"units": 2.5}, "units"),
        ({"units": True}, "units"),
        ({"units": 2, "activation": "swishy"}, "step"),  # lists the valid ones
        ({"units": 2, "straight_through": "magic"}, "identity"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.Dense(**kwargs)


def test_unknown_input_width_raises_value_error():
    with pytest.raises(ValueError, match="last axis"):
        layers.Dense(2).build((4, None))

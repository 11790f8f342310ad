"""Tests for layers.LSTMCell: shapes, config and .keras round trips, equality with
keras.layers.LSTM (outputs, states and gradients), finite differences, the
forget-gate bias, the optional gradient clip, training and argument
validation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import layers


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def _sequence(batch, time, features, seed=1, dtype="float32"):
    return np.random.default_rng(seed).normal(size=(batch, time, features)).astype(dtype)


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def _twin_pair(units, input_dim, **rnn_kwargs):
    """A keras LSTM and an RNN(LSTMCell) holding the same weights, with a
    random bias so that every gate block is exercised."""
    reference = keras.layers.LSTM(units, **rnn_kwargs)
    reference.build((None, None, input_dim))
    reference.cell.bias.assign(np.random.default_rng(9).normal(size=4 * units))
    ours = keras.layers.RNN(layers.LSTMCell(units), **rnn_kwargs)
    ours.build((None, None, input_dim))
    ours.set_weights(reference.get_weights())
    return reference, ours


@pytest.mark.parametrize("return_sequences", [False, True])
def test_shapes_and_weights(return_sequences):
    cell = layers.LSTMCell(4)
    rnn = keras.layers.RNN(cell, return_sequences=return_sequences, return_state=True)
    output, final_hidden, final_cell = rnn(_sequence(2, 5, 3))
    expected = (2, 5, 4) if return_sequences else (2, 4)
    assert tuple(output.shape) == expected
    assert tuple(final_hidden.shape) == tuple(final_cell.shape) == (2, 4)
    np.testing.assert_array_equal(
        _numpy(final_hidden), _numpy(output[:, -1] if return_sequences else output)
    )
    assert [w.name for w in cell.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert [tuple(w.shape) for w in cell.weights] == [(3, 16), (4, 16), (16,)]
    assert cell.count_params() == 3 * 16 + 4 * 16 + 16
    assert cell.state_size == [4, 4]


def test_unit_forget_bias_initializes_forget_block_to_one():
    cell = layers.LSTMCell(3, bias_initializer="zeros")
    cell.build((None, 2))
    np.testing.assert_array_equal(_numpy(cell.bias), [0, 0, 0, 1, 1, 1] + [0] * 6)
    plain = layers.LSTMCell(3, unit_forget_bias=False, bias_initializer="ones")
    plain.build((None, 2))
    np.testing.assert_array_equal(_numpy(plain.bias), np.ones(12))


def test_config_round_trip():
    cell = layers.LSTMCell(
        5,
        recurrent_activation="hard_sigmoid",
        use_bias=False,
        unit_forget_bias=False,
        gradient_clip=2,
        name="memory",
    )
    config = cell.get_config()
    for key, value in {
        "units": 5,
        "activation": "tanh",
        "recurrent_activation": "hard_sigmoid",
        "use_bias": False,
        "unit_forget_bias": False,
        "gradient_clip": 2.0,
        "name": "memory",
    }.items():
        assert config[key] == value
    clone = layers.LSTMCell.from_config(config)
    assert clone.get_config() == config


def test_keras_file_round_trip(tmp_path):
    inputs = keras.Input(shape=(6, 3))
    hidden = keras.layers.RNN(layers.LSTMCell(4, gradient_clip=1.0))(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    x = _sequence(2, 6, 3)
    expected = _numpy(model(x))

    path = tmp_path / "lstm.keras"
    model.save(path)
    loaded = keras.models.load_model(path)

    assert isinstance(loaded.layers[1].cell, layers.LSTMCell)
    np.testing.assert_array_equal(_numpy(loaded(x)), expected)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_matches_keras_lstm(return_sequences):
    reference, ours = _twin_pair(4, 3, return_sequences=return_sequences)
    x = _sequence(2, 7, 3)
    difference = np.abs(_numpy(ours(x)) - _numpy(reference(x)))
    assert difference.max() <= 1e-5


@pytest.mark.parametrize("return_sequences", [False, True])
def test_matches_keras_lstm_with_initial_state(return_sequences):
    reference, ours = _twin_pair(
        4, 3, return_sequences=return_sequences, return_state=True
    )
    x = _sequence(2, 5, 3)
    rng = np.random.default_rng(2)
    initial_state = [rng.normal(size=(2, 4)).astype("float32") for _ in range(2)]
    expected = reference(x, initial_state=initial_state)
    actual = ours(x, initial_state=initial_state)
    assert len(actual) == len(expected) == 3  # output, h, c
    for ours_tensor, reference_tensor in zip(actual, expected):
        assert np.abs(_numpy(ours_tensor) - _numpy(reference_tensor)).max() <= 1e-5
    # The initial state matters: without it the final cell state differs.
    assert np.abs(_numpy(ours(x)[2]) - _numpy(actual[2])).max() > 1e-2


def test_gradients_match_keras_lstm():
    reference, ours = _twin_pair(4, 3, return_sequences=True)
    x = _sequence(2, 6, 3)
    target = _sequence(2, 6, 4, seed=5)

    def gradients(rnn):
        with tf.GradientTape() as tape:
            loss = keras.ops.mean((rnn(x) - target) ** 2)
        return tape.gradient(loss, rnn.trainable_weights)

    for ours_grad, reference_grad in zip(gradients(ours), gradients(reference)):
        assert np.abs(ours_grad.numpy() - reference_grad.numpy()).max() <= 1e-5
        assert np.abs(reference_grad.numpy()).max() > 1e-3


def test_gradients_match_finite_differences_float64():
    cell = layers.LSTMCell(3, dtype="float64")
    rnn = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
    x = _sequence(2, 4, 2, dtype="float64")
    target = _sequence(2, 4, 3, seed=7, dtype="float64")
    rnn.build(x.shape)

    def loss():
        return keras.ops.sum((rnn(x) - target) ** 2)

    with tf.GradientTape() as tape:
        value = loss()
    gradients = tape.gradient(value, cell.trainable_weights)

    rng = np.random.default_rng(3)
    epsilon = 1e-6
    for weight, gradient in zip(cell.trainable_weights, gradients):
        direction = rng.normal(size=weight.shape)
        original = _numpy(weight)
        weight.assign(original + epsilon * direction)
        loss_plus = float(loss())
        weight.assign(original - epsilon * direction)
        loss_minus = float(loss())
        weight.assign(original)
        finite_difference = (loss_plus - loss_minus) / (2 * epsilon)
        analytic = float(np.sum(gradient.numpy() * direction))
        assert abs(analytic) > 1e-2
        assert finite_difference == pytest.approx(analytic, rel=1e-6)


def test_gradient_clip_bounds_gradients_reaching_both_states():
    clip = 1e-3
    x = _sequence(1, 1, 3)[:, 0]  # (batch, input_dim)
    rng = np.random.default_rng(4)
    hidden = tf.constant(rng.normal(size=(1, 4)), "float32")
    cell_state = tf.constant(rng.normal(size=(1, 4)), "float32")

    def state_gradients(gradient_clip):
        keras.utils.set_random_seed(0)
        lstm = layers.LSTMCell(4, gradient_clip=gradient_clip)
        with tf.GradientTape() as tape:
            tape.watch([hidden, cell_state])
            output, (new_hidden, new_cell) = lstm(x, [hidden, cell_state])
            loss = keras.ops.sum(20.0 * output + 30.0 * new_cell)
        return [g.numpy() for g in tape.gradient(loss, [hidden, cell_state])], output

    clipped, clipped_output = state_gradients(clip)
    unclipped, unclipped_output = state_gradients(None)
    for clipped_grad, unclipped_grad in zip(clipped, unclipped):
        assert np.abs(unclipped_grad).max() > 10 * clip
        assert np.all(np.abs(clipped_grad) <= clip)
        np.testing.assert_allclose(
            clipped_grad, np.clip(unclipped_grad, -clip, clip), rtol=1e-6
        )
    np.testing.assert_array_equal(_numpy(clipped_output), _numpy(unclipped_output))


def test_training_lowers_the_loss():
    # Toy task: remember the first value of a noisy sequence.
    x = _sequence(16, 6, 1)
    target = x[:, 0]
    model = keras.Sequential(
        [
            keras.Input((6, 1)),
            keras.layers.RNN(layers.LSTMCell(8)),
            keras.layers.Dense(1),
        ]
    )
    optimizer = keras.optimizers.Adam(learning_rate=0.03)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            loss = keras.ops.mean((model(x) - target) ** 2)
        gradients = tape.gradient(loss, model.trainable_weights)
        optimizer.apply(gradients, model.trainable_weights)
        return loss

    losses = [float(train_step()) for _ in range(40)]
    assert losses[-1] < 0.3 * losses[0]


def test_forward_and_gradient_under_mixed_bfloat16(mixed_bfloat16):
    cell = layers.LSTMCell(4, gradient_clip=1.0)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    x = _sequence(2, 5, 3)
    with tf.GradientTape() as tape:
        outputs = rnn(x)
        loss = keras.ops.sum(keras.ops.cast(outputs, "float32"))
    gradients = tape.gradient(loss, cell.trainable_weights)
    assert keras.backend.standardize_dtype(outputs.dtype) == "bfloat16"
    assert cell.kernel.dtype == "float32"
    assert tuple(outputs.shape) == (2, 5, 4)
    assert np.all(np.isfinite(_numpy(keras.ops.cast(outputs, "float32"))))
    for gradient in gradients:
        assert np.all(np.isfinite(_numpy(keras.ops.cast(gradient, "float32"))))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, "units"),
        ({"units": "4"}, "units"),
        ({"units": 2, "activation": "softmax"}, "tanh"),
        ({"units": 2, "recurrent_activation": "tanh"}, "sigmoid"),
        ({"units": 2, "gradient_clip": -0.5}, "gradient_clip"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.LSTMCell(**kwargs)

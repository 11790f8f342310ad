"""Tests for layers.RNNCell: shapes, config and .keras round trips, equality with
keras.layers.SimpleRNN, gradients (keras twin and finite differences), the
per-step gradient clip against exploding gradients, the state clip, training
and argument validation."""

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
    """A keras SimpleRNN and an RNN(RNNCell) holding the same (non-zero bias) weights."""
    reference = keras.layers.SimpleRNN(units, **rnn_kwargs)
    reference.build((None, None, input_dim))
    reference.cell.bias.assign(np.linspace(-0.5, 0.5, units))
    ours = keras.layers.RNN(layers.RNNCell(units), **rnn_kwargs)
    ours.build((None, None, input_dim))
    ours.set_weights(reference.get_weights())
    return reference, ours


@pytest.mark.parametrize("return_sequences", [False, True])
def test_shapes_and_weights(return_sequences):
    cell = layers.RNNCell(4)
    rnn = keras.layers.RNN(cell, return_sequences=return_sequences, return_state=True)
    output, final_state = rnn(_sequence(2, 5, 3))
    expected = (2, 5, 4) if return_sequences else (2, 4)
    assert tuple(output.shape) == expected
    assert tuple(final_state.shape) == (2, 4)
    assert [w.name for w in cell.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert [tuple(w.shape) for w in cell.weights] == [(3, 4), (4, 4), (4,)]
    assert cell.count_params() == 3 * 4 + 4 * 4 + 4
    assert layers.RNNCell(4, use_bias=False).state_size == 4


def test_config_round_trip():
    cell = layers.RNNCell(
        5,
        activation="relu",
        use_bias=False,
        recurrent_initializer="glorot_normal",
        gradient_clip=0.5,
        state_clip=3,
        name="memory",
    )
    config = cell.get_config()
    for key, value in {
        "units": 5,
        "activation": "relu",
        "use_bias": False,
        "gradient_clip": 0.5,
        "state_clip": 3.0,
        "name": "memory",
    }.items():
        assert config[key] == value
    clone = layers.RNNCell.from_config(config)
    assert clone.get_config() == config


def test_keras_file_round_trip(tmp_path):
    inputs = keras.Input(shape=(6, 3))
    hidden = keras.layers.RNN(layers.RNNCell(4, gradient_clip=1.0, state_clip=2.0))(
        inputs
    )
    model = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    x = _sequence(2, 6, 3)
    expected = _numpy(model(x))

    path = tmp_path / "rnn.keras"
    model.save(path)
    loaded = keras.models.load_model(path)

    loaded_cell = loaded.layers[1].cell
    assert isinstance(loaded_cell, layers.RNNCell)
    assert (loaded_cell.gradient_clip, loaded_cell.state_clip) == (1.0, 2.0)
    np.testing.assert_array_equal(_numpy(loaded(x)), expected)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_matches_keras_simple_rnn(return_sequences):
    reference, ours = _twin_pair(4, 3, return_sequences=return_sequences)
    x = _sequence(2, 7, 3)
    difference = np.abs(_numpy(ours(x)) - _numpy(reference(x)))
    assert difference.max() <= 1e-5


def test_matches_keras_simple_rnn_with_initial_state():
    reference, ours = _twin_pair(4, 3, return_sequences=True, return_state=True)
    x = _sequence(2, 5, 3)
    initial_state = np.random.default_rng(2).normal(size=(2, 4)).astype("float32")
    expected_sequence, expected_state = reference(x, initial_state=initial_state)
    sequence, state = ours(x, initial_state=[initial_state])
    assert np.abs(_numpy(sequence) - _numpy(expected_sequence)).max() <= 1e-5
    assert np.abs(_numpy(state) - _numpy(expected_state)).max() <= 1e-5
    # The initial state matters: without it the outputs differ.
    assert np.abs(_numpy(ours(x)[0]) - _numpy(sequence)).max() > 1e-2


def test_stepping_with_explicit_state_equals_one_pass():
    """How a text generator uses the cell: run a prefix, then carry the state."""
    rnn = keras.layers.RNN(layers.RNNCell(4), return_sequences=True, return_state=True)
    x = _sequence(2, 6, 3)
    full_sequence, full_state = rnn(x)
    first_half, state = rnn(x[:, :3])
    second_half, final_state = rnn(x[:, 3:], initial_state=[state])
    np.testing.assert_allclose(
        np.concatenate([_numpy(first_half), _numpy(second_half)], axis=1),
        _numpy(full_sequence),
        atol=1e-6,
    )
    np.testing.assert_allclose(_numpy(final_state), _numpy(full_state), atol=1e-6)


def test_gradients_match_keras_simple_rnn():
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
    cell = layers.RNNCell(3, dtype="float64")
    rnn = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
    x = _sequence(2, 4, 2, dtype="float64")
    target = _sequence(2, 4, 3, seed=7, dtype="float64")
    rnn.build(x.shape)
    cell.bias.assign([0.1, -0.2, 0.3])

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


def _linear_growth_gradients(time_steps, gradient_clip):
    """Linear cell with W_hh = 1.5 I. Loss = sum(h_T). Returns dL/dx (per step)
    and dL/dkernel, and the cell."""
    keras.utils.set_random_seed(0)  # same W_xh for every call
    cell = layers.RNNCell(
        4,
        activation="linear",
        recurrent_initializer=keras.initializers.Identity(gain=1.5),
        gradient_clip=gradient_clip,
    )
    rnn = keras.layers.RNN(cell)
    x = tf.constant(_sequence(2, time_steps, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = keras.ops.sum(rnn(x))
    input_grad, kernel_grad = tape.gradient(loss, [x, cell.kernel])
    return input_grad.numpy(), kernel_grad.numpy(), cell


def test_gradient_explodes_without_clip_and_is_bounded_with_it():
    short_input_grad, short_kernel_grad, cell = _linear_growth_gradients(10, None)
    long_input_grad, long_kernel_grad, _ = _linear_growth_gradients(100, None)
    # By hand: dL/dx_1 = 1.5^(T-1) * W_xh @ 1 (same W_xh: the seed is reset).
    row_sums = _numpy(cell.kernel).sum(axis=1)  # (input_dim,)
    np.testing.assert_allclose(short_input_grad[0, 0], 1.5**9 * row_sums, rtol=1e-4)
    np.testing.assert_allclose(long_input_grad[0, 0], 1.5**99 * row_sums, rtol=1e-3)

    growth = np.linalg.norm(long_input_grad[:, 0]) / np.linalg.norm(
        short_input_grad[:, 0]
    )
    assert growth > 1e15  # 1.5^90 = 8.3e15
    assert np.linalg.norm(long_kernel_grad) > 1e16
    assert np.linalg.norm(short_kernel_grad) < 1e3

    clip = 1.0
    clipped_input_grad, clipped_kernel_grad, _ = _linear_growth_gradients(100, clip)
    # 1.5 * 1 is clipped back to 1 at every step: dL/dh_t = 1 for all t, so
    # every step's input gets exactly W_xh @ 1, however long the sequence.
    np.testing.assert_allclose(
        clipped_input_grad, np.broadcast_to(row_sums, (2, 100, 3)), rtol=1e-5
    )
    assert np.abs(clipped_input_grad).max() <= clip * np.abs(row_sums).max() + 1e-5
    # dL/dW_xh = sum_t x_t^T dL/dh_t, each dL/dh_t entry in [-1, 1].
    x = _sequence(2, 100, 3)
    kernel_bound = np.abs(x).sum(axis=(0, 1))[:, None] * clip
    assert np.all(np.abs(clipped_kernel_grad) <= kernel_bound + 1e-3)
    assert np.linalg.norm(clipped_kernel_grad) < 1e3


def test_gradient_reaching_previous_state_is_clipped_elementwise():
    clip = 1e-3
    x = _sequence(1, 1, 3)[:, 0]  # (batch, input_dim)
    previous_state = tf.constant(np.random.default_rng(4).normal(size=(1, 4)), "float32")
    loss_weights = np.array([[5.0, -7.0, 3.0, 9.0]], dtype="float32")

    def state_gradient(gradient_clip):
        keras.utils.set_random_seed(0)
        cell = layers.RNNCell(4, activation="relu", gradient_clip=gradient_clip)
        with tf.GradientTape() as tape:
            tape.watch(previous_state)
            output, _ = cell(x, [previous_state])
            loss = keras.ops.sum(loss_weights * output)
        return tape.gradient(loss, previous_state).numpy(), output

    clipped, clipped_output = state_gradient(clip)
    unclipped, unclipped_output = state_gradient(None)
    assert np.abs(unclipped).max() > 10 * clip  # the clip has work to do
    assert np.all(np.abs(clipped) <= clip)
    np.testing.assert_allclose(clipped, np.clip(unclipped, -clip, clip), rtol=1e-6)
    # The forward pass is unchanged.
    np.testing.assert_array_equal(_numpy(clipped_output), _numpy(unclipped_output))


def test_gradient_reaching_initial_state_through_rnn_is_clipped():
    clip = 1e-2
    cell = layers.RNNCell(4, gradient_clip=clip)
    rnn = keras.layers.RNN(cell)
    initial_state = tf.zeros((2, 4))
    with tf.GradientTape() as tape:
        tape.watch(initial_state)
        loss = keras.ops.sum(rnn(_sequence(2, 8, 3), initial_state=[initial_state]) * 50)
    gradient = tape.gradient(loss, initial_state).numpy()
    assert np.all(np.abs(gradient) <= clip)
    assert np.abs(gradient).max() > 0


def test_state_clip_bounds_the_hidden_state():
    def final_state(state_clip):
        keras.utils.set_random_seed(0)
        cell = layers.RNNCell(
            4,
            activation="linear",
            recurrent_initializer=keras.initializers.Identity(gain=1.5),
            state_clip=state_clip,
        )
        return _numpy(keras.layers.RNN(cell, return_sequences=True)(_sequence(2, 40, 3)))

    assert np.abs(final_state(None)).max() > 1e5
    bounded = final_state(2.5)
    assert np.abs(bounded).max() <= 2.5
    assert np.isclose(np.abs(bounded).max(), 2.5)  # the bound is reached


def test_training_lowers_the_loss():
    # Toy task: the running mean of a noisy sequence.
    x = _sequence(16, 6, 1)
    target = np.cumsum(x, axis=1) / np.arange(1, 7)[None, :, None]
    model = keras.Sequential(
        [
            keras.Input((6, 1)),
            keras.layers.RNN(layers.RNNCell(8, gradient_clip=5.0), return_sequences=True),
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
    cell = layers.RNNCell(4, gradient_clip=1.0, state_clip=2.0)
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
        ({"units": 2.0}, "units"),
        ({"units": 2, "activation": "softmax"}, "tanh"),
        ({"units": 2, "gradient_clip": 0}, "gradient_clip"),
        ({"units": 2, "gradient_clip": -1.0}, "gradient_clip"),
        ({"units": 2, "state_clip": "big"}, "state_clip"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.RNNCell(**kwargs)

"""Tests for layers.SelfAttention: shapes, equality with
keras.layers.MultiHeadAttention given the same weights (outputs, attention
scores and gradients; causal and padding masks), Keras mask propagation, the
KV cache (incremental == full causal pass, no retracing), finite-difference
gradients in float64, dropout, mixed precision, argument validation, and config
and .keras round trips."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import layers

BATCH, TIME, MODEL_DIM = 2, 6, 8
PADDING_MASK = np.array(
    [[True, True, True, True, False, False], [True] * TIME]
)


def _inputs(*shape, seed=1, dtype="float32"):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _twins(num_heads=2, key_dim=3, value_dim=None, use_bias=True, output_dim=None):
    """Our layer and keras's MultiHeadAttention, holding the same weights."""
    x = _inputs(BATCH, TIME, MODEL_DIM)
    ours = layers.SelfAttention(
        num_heads, key_dim, value_dim=value_dim, use_bias=use_bias,
        output_dim=output_dim,
    )
    keras_attention = keras.layers.MultiHeadAttention(
        num_heads, key_dim, value_dim=value_dim, use_bias=use_bias,
        output_shape=output_dim,
    )
    ours(x)
    keras_attention(x, x, x)
    # Random biases too, so a bias mix-up cannot hide behind zeros.
    weights = [
        _inputs(*w.shape, seed=10 + i) * 0.5
        for i, w in enumerate(ours.get_weights())
    ]
    ours.set_weights(weights)
    keras_attention.set_weights(weights)
    return ours, keras_attention, x


def test_shapes_and_weights():
    layer = layers.SelfAttention(num_heads=3, key_dim=4, value_dim=5, output_dim=7)
    outputs, scores = layer(
        _inputs(BATCH, TIME, MODEL_DIM), return_attention_scores=True
    )
    assert tuple(outputs.shape) == (BATCH, TIME, 7)
    assert tuple(scores.shape) == (BATCH, 3, TIME, TIME)
    assert {w.name: tuple(w.shape) for w in layer.weights} == {
        "query_kernel": (MODEL_DIM, 3, 4),
        "query_bias": (3, 4),
        "key_kernel": (MODEL_DIM, 3, 4),
        "key_bias": (3, 4),
        "value_kernel": (MODEL_DIM, 3, 5),
        "value_bias": (3, 5),
        "output_kernel": (3, 5, 7),
        "output_bias": (7,),
    }
    no_bias = layers.SelfAttention(num_heads=3, key_dim=4, use_bias=False)
    no_bias(_inputs(BATCH, TIME, MODEL_DIM))
    assert no_bias.count_params() == 4 * (MODEL_DIM * 3 * 4)
    assert not any("bias" in w.name for w in no_bias.weights)


def test_kernels_are_initialized_as_matrices_and_independently():
    layer = layers.SelfAttention(num_heads=4, key_dim=16)
    layer.build((None, None, 64))
    kernels = [
        layer.query_kernel.numpy(),
        layer.key_kernel.numpy(),
        layer.value_kernel.numpy(),
    ]
    # Glorot uniform for a (64, 4 * 16) matrix: limit sqrt(6 / (64 + 64)).
    limit = np.sqrt(6 / (64 + 64))
    for kernel in kernels:
        assert np.abs(kernel).max() <= limit
        assert np.abs(kernel).max() > 0.9 * limit
    assert not np.allclose(kernels[0], kernels[1])
    assert not np.allclose(kernels[1], kernels[2])


@pytest.mark.parametrize("use_causal_mask", [False, True])
@pytest.mark.parametrize("with_padding", [False, True])
def test_matches_keras_multi_head_attention(use_causal_mask, with_padding):
    ours, keras_attention, x = _twins()
    padding_mask = PADDING_MASK if with_padding else None
    # MHA's equivalent of a padding mask on both queries and keys.
    attention_mask = (
        PADDING_MASK[:, :, None] & PADDING_MASK[:, None, :]
        if with_padding
        else None
    )
    outputs, scores = ours(
        x,
        padding_mask=padding_mask,
        use_causal_mask=use_causal_mask,
        return_attention_scores=True,
    )
    expected_outputs, expected_scores = keras_attention(
        x, x, x,
        attention_mask=attention_mask,
        use_causal_mask=use_causal_mask,
        return_attention_scores=True,
    )
    np.testing.assert_allclose(outputs, expected_outputs, atol=1e-5)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-5)
    # Without return_attention_scores keras takes its fused path, which
    # gives a padded query a uniform row instead of a zero one; the real
    # tokens agree.
    is_token = PADDING_MASK if with_padding else np.ones((BATCH, TIME), bool)
    np.testing.assert_allclose(
        np.asarray(
            ours(x, padding_mask=padding_mask, use_causal_mask=use_causal_mask)
        )[is_token],
        np.asarray(
            keras_attention(
                x, x, x, attention_mask=attention_mask,
                use_causal_mask=use_causal_mask,
            )
        )[is_token],
        atol=1e-5,
    )
    if use_causal_mask:
        assert np.all(np.triu(np.asarray(scores), k=1) == 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"use_bias": False},
        {"value_dim": 5},
        {"output_dim": 4},
        {"num_heads": 1, "key_dim": 8},
    ],
)
def test_matches_keras_with_other_sizes(kwargs):
    ours, keras_attention, x = _twins(**kwargs)
    np.testing.assert_allclose(
        ours(x, use_causal_mask=True),
        keras_attention(x, x, x, use_causal_mask=True),
        atol=1e-5,
    )


def test_gradients_match_keras_multi_head_attention():
    ours, keras_attention, x = _twins()
    x = tf.constant(x)
    # The loss reads real tokens only: keras's fused path (taken here) and
    # ours disagree on what a padded query's output is (uniform vs zero row).
    upstream = tf.constant(
        _inputs(BATCH, TIME, MODEL_DIM, seed=7) * PADDING_MASK[:, :, None]
    )
    attention_mask = PADDING_MASK[:, :, None] & PADDING_MASK[:, None, :]

    def gradients(layer, call):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(call(layer) * upstream)
        return tape.gradient(loss, [x] + layer.trainable_weights)

    our_gradients = gradients(
        ours, lambda layer: layer(x, padding_mask=PADDING_MASK, use_causal_mask=True)
    )
    keras_gradients = gradients(
        keras_attention,
        lambda layer: layer(
            x, x, x, attention_mask=attention_mask, use_causal_mask=True
        ),
    )
    assert len(our_gradients) == 1 + 8
    for ours_gradient, keras_gradient in zip(our_gradients, keras_gradients):
        assert np.abs(np.asarray(keras_gradient)).max() > 0
        np.testing.assert_allclose(ours_gradient, keras_gradient, atol=1e-5)


def test_gradients_match_finite_differences_in_float64():
    layer = layers.SelfAttention(num_heads=2, key_dim=2, dtype="float64")
    x = _inputs(1, 3, 4, seed=3, dtype="float64")
    padding_mask = np.array([[True, True, False]])
    upstream = _inputs(1, 3, 4, seed=4, dtype="float64")

    def loss():
        outputs = layer(x_variable, padding_mask=padding_mask, use_causal_mask=True)
        return float(np.sum(np.asarray(outputs) * upstream))

    x_variable = tf.Variable(x)
    layer(x_variable)
    with tf.GradientTape() as tape:
        outputs = layer(x_variable, padding_mask=padding_mask, use_causal_mask=True)
        loss_tensor = tf.reduce_sum(outputs * upstream)
    analytic = tape.gradient(loss_tensor, [x_variable, layer.query_kernel])

    epsilon = 1e-6
    for variable, gradient in zip([x_variable, layer.query_kernel], analytic):
        values = np.asarray(variable.numpy())
        numeric = np.zeros_like(values)
        for index in np.ndindex(values.shape):
            for sign in (+1, -1):
                shifted = values.copy()
                shifted[index] += sign * epsilon
                variable.assign(shifted)
                numeric[index] += sign * loss() / (2 * epsilon)
            variable.assign(values)
        assert np.abs(numeric).max() > 1e-3
        np.testing.assert_allclose(gradient, numeric, atol=1e-7, rtol=1e-6)


def test_keras_mask_from_embedding_is_used_and_propagated():
    embedding = layers.PositionalEmbedding(20, 8, MODEL_DIM, mask_zero=True)
    attention = layers.SelfAttention(num_heads=2, key_dim=4)
    inputs = keras.Input((None,), dtype="int32")
    attended = attention(embedding(inputs))
    assert attended._keras_mask is not None
    model = keras.Model(inputs, attended)

    padded = np.array([[5, 6, 7, 0, 0]])
    unpadded = padded[:, :3]
    # Padding never changes what the real tokens see ...
    np.testing.assert_allclose(
        model(padded)[:, :3], model(unpadded), atol=1e-6
    )
    # ... and without the mask it would have.
    no_mask = attention(embedding(padded), padding_mask=np.ones((1, 5), bool))
    assert np.abs(np.asarray(no_mask)[:, :3] - model(unpadded)).max() > 1e-4


def _feed_one_token_at_a_time(layer, x, max_length, first_chunk=1):
    cache = layer.init_cache(x.shape[0], max_length)
    outputs, cache = layer(x[:, :first_chunk], cache=cache, cache_index=0)
    pieces = [outputs]
    for index in range(first_chunk, x.shape[1]):
        outputs, cache = layer(
            x[:, index : index + 1], cache=cache, cache_index=index
        )
        pieces.append(outputs)
    return np.concatenate(pieces, axis=1), cache


@pytest.mark.parametrize("first_chunk", [1, 3])
def test_cached_incremental_equals_full_causal_pass(first_chunk):
    layer = layers.SelfAttention(num_heads=2, key_dim=3, value_dim=5)
    x = _inputs(BATCH, TIME, MODEL_DIM)
    full = np.asarray(layer(x, use_causal_mask=True))
    incremental, (key_cache, value_cache) = _feed_one_token_at_a_time(
        layer, x, max_length=TIME + 2, first_chunk=first_chunk
    )
    np.testing.assert_allclose(incremental, full, atol=1e-5)
    assert tuple(key_cache.shape) == (BATCH, 2, TIME + 2, 3)
    assert tuple(value_cache.shape) == (BATCH, 2, TIME + 2, 5)
    # Slots past the last token were never written.
    assert np.all(np.asarray(key_cache)[:, :, TIME:] == 0)


def test_cached_step_in_tf_function_traces_once():
    layer = layers.SelfAttention(num_heads=2, key_dim=3)
    x = _inputs(BATCH, TIME, MODEL_DIM)
    full = np.asarray(layer(x, use_causal_mask=True))
    traces = []

    @tf.function
    def step(token_vectors, cache, index):
        traces.append(1)
        outputs, scores, cache = layer(
            token_vectors, cache=cache, cache_index=index,
            return_attention_scores=True,
        )
        return outputs, scores, cache

    cache = layer.init_cache(BATCH, TIME)
    for index in range(TIME):
        outputs, scores, cache = step(
            x[:, index : index + 1], cache, tf.constant(index)
        )
        np.testing.assert_allclose(outputs[:, 0], full[:, index], atol=1e-5)
        assert tuple(scores.shape) == (BATCH, 2, 1, TIME)
        assert np.all(np.asarray(scores)[..., index + 1 :] == 0)
    assert len(traces) == 1


def test_bad_cache_arguments_raise():
    layer = layers.SelfAttention(num_heads=2, key_dim=3)
    x = _inputs(BATCH, 1, MODEL_DIM)
    cache = layer.init_cache(BATCH, 4)
    with pytest.raises(ValueError, match="without `cache_index`"):
        layer(x, cache=cache)
    with pytest.raises(ValueError, match="cannot be combined"):
        layer(x, cache=cache, cache_index=0, padding_mask=np.ones((BATCH, 1)))
    with pytest.raises(ValueError, match="cannot write 1 new token"):
        layer(x, cache=cache, cache_index=4)
    wrong_heads = (np.zeros((BATCH, 3, 4, 3), "float32"),) * 2
    with pytest.raises(ValueError, match=r"expected \(batch, 2, max_length, 3\)"):
        layer(x, cache=wrong_heads, cache_index=0)
    with pytest.raises(ValueError, match="must be a pair"):
        layer(x, cache=cache[0], cache_index=0)


def test_dropout_only_in_training():
    x = _inputs(BATCH, TIME, MODEL_DIM)
    with_dropout = layers.SelfAttention(num_heads=2, key_dim=3, dropout=0.5)
    without = layers.SelfAttention(num_heads=2, key_dim=3)
    with_dropout(x)
    without(x)
    without.set_weights(with_dropout.get_weights())
    np.testing.assert_allclose(
        with_dropout(x, training=False), without(x), atol=1e-6
    )
    assert np.abs(np.asarray(with_dropout(x, training=True) - without(x))).max() > 1e-3


def test_mixed_bfloat16_forward():
    x = _inputs(BATCH, TIME, MODEL_DIM)
    reference = layers.SelfAttention(num_heads=2, key_dim=4)
    expected = np.asarray(reference(x, use_causal_mask=True))
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        layer = layers.SelfAttention(num_heads=2, key_dim=4)
        layer(x)
        layer.set_weights(reference.get_weights())
        outputs, scores = layer(
            x, padding_mask=PADDING_MASK, use_causal_mask=True,
            return_attention_scores=True,
        )
        assert outputs.dtype == tf.bfloat16
        assert layer.query_kernel.dtype == "float32"
        row_sums = np.asarray(tf.reduce_sum(tf.cast(scores, tf.float32), -1))
        np.testing.assert_allclose(row_sums[1], 1.0, atol=1e-2)
        causal_only = tf.cast(layer(x, use_causal_mask=True), tf.float32)
        np.testing.assert_allclose(causal_only, expected, atol=5e-2, rtol=5e-2)
        cache = layer.init_cache(BATCH, TIME)
        assert cache[0].dtype == tf.bfloat16
        step, _ = layer(x[:, :1], cache=cache, cache_index=0)
        assert step.dtype == tf.bfloat16
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_heads": 0}, "num_heads"),
        ({"key_dim": 2.0}, "key_dim"),
        ({"value_dim": -1}, "value_dim"),
        ({"output_dim": False}, "output_dim"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": "0.1"}, "dropout"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    arguments = {"num_heads": 2, "key_dim": 3}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        layers.SelfAttention(**arguments)


def test_config_round_trip():
    layer = layers.SelfAttention(
        num_heads=3,
        key_dim=4,
        value_dim=5,
        dropout=0.1,
        use_bias=False,
        output_dim=6,
        kernel_initializer="he_normal",
        name="attend",
    )
    config = layer.get_config()
    for key, value in {
        "num_heads": 3,
        "key_dim": 4,
        "value_dim": 5,
        "dropout": 0.1,
        "use_bias": False,
        "output_dim": 6,
        "name": "attend",
    }.items():
        assert config[key] == value
    clone = layers.SelfAttention.from_config(config)
    assert clone.get_config() == config


def test_keras_file_round_trip(tmp_path):
    inputs = keras.Input((TIME, MODEL_DIM))
    outputs = layers.SelfAttention(num_heads=2, key_dim=3)(
        inputs, use_causal_mask=True
    )
    model = keras.Model(inputs, outputs)
    path = tmp_path / "attention.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = _inputs(BATCH, TIME, MODEL_DIM)
    assert isinstance(loaded.layers[1], layers.SelfAttention)
    np.testing.assert_array_equal(model(x), loaded(x))
    # The causal flag was saved with the graph: the first output ignores the rest.
    changed = x.copy()
    changed[:, 1:] += 1.0
    np.testing.assert_allclose(loaded(changed)[:, 0], loaded(x)[:, 0], atol=1e-6)


def test_keras_layer_test_harness_passes_in_float32_and_mixed_float16():
    """keras's own run_layer_test: serialisation, symbolic call, and output dtype == spec under mixed_float16."""
    from keras.src import testing

    class Harness(testing.TestCase):
        def runTest(self):
            pass

    Harness().run_layer_test(
        layers.SelfAttention,
        init_kwargs={"num_heads": 2, "key_dim": 4},
        input_shape=(2, 5, 8),
        expected_output_shape=(2, 5, 8),
        expected_num_trainable_weights=8,
        run_mixed_precision_check=True,
        run_training_check=False,
    )

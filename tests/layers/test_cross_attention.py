"""Tests for layers.CrossAttention: shapes and weights, equality with
keras.layers.MultiHeadAttention(query, value, key) given the same weights
(outputs, attention scores, gradients; with and without masks, explicit and
from Keras masking), a finite-difference gradient check in float64, the
precomputed source (`memory`) used while decoding, argument validation, and
config and .keras round trips."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import layers

BATCH, QUERY_TIME, KEY_TIME = 2, 4, 5
QUERY_DIM, VALUE_DIM, KEY_DIM_IN = 6, 7, 3
QUERY_MASK = np.array([[True, True, True, False], [True] * QUERY_TIME])
VALUE_MASK = np.array([[True, True, False, False, False], [True] * KEY_TIME])


def _inputs(*shape, seed=1, dtype="float32"):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _sequences():
    return (
        _inputs(BATCH, QUERY_TIME, QUERY_DIM, seed=1),
        _inputs(BATCH, KEY_TIME, VALUE_DIM, seed=2),
        _inputs(BATCH, KEY_TIME, KEY_DIM_IN, seed=3),
    )


def _twins(with_key=True, **kwargs):
    """Our layer and keras's MultiHeadAttention, holding the same (random) weights."""
    query, value, key = _sequences()
    key = key if with_key else None
    arguments = {"num_heads": 2, "key_dim": 3, **kwargs}
    output_dim = arguments.pop("output_dim", None)
    ours = layers.CrossAttention(**arguments, output_dim=output_dim)
    theirs = keras.layers.MultiHeadAttention(**arguments, output_shape=output_dim)
    ours(query, value, key)
    theirs(query, value, key)
    weights = [_inputs(*w.shape, seed=10 + i) * 0.5 for i, w in enumerate(ours.get_weights())]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs, query, value, key


def test_shapes_and_weights():
    query, value, key = _sequences()
    layer = layers.CrossAttention(num_heads=3, key_dim=4, value_dim=5)
    outputs, scores = layer(query, value, key, return_attention_scores=True)
    assert tuple(outputs.shape) == (BATCH, QUERY_TIME, QUERY_DIM)
    assert tuple(scores.shape) == (BATCH, 3, QUERY_TIME, KEY_TIME)
    assert {w.name: tuple(w.shape) for w in layer.weights} == {
        "query_kernel": (QUERY_DIM, 3, 4),
        "query_bias": (3, 4),
        "key_kernel": (KEY_DIM_IN, 3, 4),
        "key_bias": (3, 4),
        "value_kernel": (VALUE_DIM, 3, 5),
        "value_bias": (3, 5),
        "output_kernel": (3, 5, QUERY_DIM),
        "output_bias": (QUERY_DIM,),
    }
    # Without a key, the keys are projected from the values.
    no_key = layers.CrossAttention(num_heads=3, key_dim=4)
    no_key(query, value)
    assert tuple(no_key.key_kernel.shape) == (VALUE_DIM, 3, 4)


# One test function per group of cases: each test pays for a fresh Keras session.
def test_matches_keras_multi_head_attention():
    for with_key in (True, False):
        for masks in ("none", "value", "both"):
            _check_matches_keras(with_key, masks)
    for kwargs in ({"use_bias": False}, {"value_dim": 5}, {"output_dim": 4}):
        ours, theirs, query, value, key = _twins(**kwargs)
        np.testing.assert_allclose(ours(query, value, key), theirs(query, value, key), atol=1e-5)


def _check_matches_keras(with_key, masks):
    ours, theirs, query, value, key = _twins(with_key=with_key)
    query_mask = QUERY_MASK if masks == "both" else None
    value_mask = VALUE_MASK if masks in ("value", "both") else None
    # keras 3.15 reads a query's mask from the tensor only, so give it the
    # combined mask as attention_mask, (batch, query_time, key_time).
    attention_mask = None
    if value_mask is not None:
        attention_mask = np.broadcast_to(value_mask[:, None, :], (BATCH, QUERY_TIME, KEY_TIME))
        if query_mask is not None:
            attention_mask = attention_mask & query_mask[:, :, None]
    outputs, scores = ours(
        query, value, key, query_mask=query_mask, value_mask=value_mask, return_attention_scores=True
    )
    expected_outputs, expected_scores = theirs(
        query, value, key, attention_mask=attention_mask, return_attention_scores=True
    )
    np.testing.assert_allclose(outputs, expected_outputs, atol=1e-5)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-5)
    if value_mask is not None:
        assert np.all(np.asarray(scores)[0, :, :, 2:] == 0)  # padded source: never attended to
    # keras's fused path (no scores) gives a padded query a uniform row; real queries agree.
    is_query = query_mask if query_mask is not None else np.ones((BATCH, QUERY_TIME), bool)
    np.testing.assert_allclose(
        np.asarray(ours(query, value, key, query_mask=query_mask, value_mask=value_mask))[is_query],
        np.asarray(theirs(query, value, key, attention_mask=attention_mask))[is_query],
        atol=1e-5,
    )


def test_keras_masks_are_read_from_the_inputs_like_keras():
    """Masks from Embedding(mask_zero=True) on both sequences: the same numbers as keras's layer."""
    target_ids = np.array([[3, 4, 5, 0], [1, 2, 3, 4]])
    source_ids = np.array([[6, 7, 0, 0, 0], [1, 2, 3, 4, 5]])
    embed_target = keras.layers.Embedding(10, QUERY_DIM, mask_zero=True)
    embed_source = keras.layers.Embedding(10, VALUE_DIM, mask_zero=True)
    ours = layers.CrossAttention(num_heads=2, key_dim=3)
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    models = []
    # One model each: keras's layer removes the masks from the tensors it is given.
    for attention in (ours, theirs):
        target_input, source_input = keras.Input((None,), dtype="int32"), keras.Input((None,), dtype="int32")
        attended = attention(embed_target(target_input), embed_source(source_input))
        models.append(keras.Model([target_input, source_input], attended))
        if attention is ours:
            assert attended._keras_mask is not None  # The output carries the query's mask.
    theirs.set_weights(ours.get_weights())
    outputs, expected = (np.asarray(model([target_ids, source_ids])) for model in models)
    is_query = target_ids != 0
    np.testing.assert_allclose(outputs[is_query], expected[is_query], atol=1e-5)
    # The source's padded positions are never read: other vectors there change nothing.
    value = np.asarray(embed_source(source_ids))
    other_value = value.copy()
    other_value[0, 2:] += 5.0
    query = np.asarray(embed_target(target_ids))
    np.testing.assert_allclose(
        ours(query, value, value_mask=source_ids != 0),
        ours(query, other_value, value_mask=source_ids != 0),
        atol=1e-6,
    )
    assert np.abs(np.asarray(ours(query, value) - ours(query, other_value))).max() > 1e-3


def test_gradients_match_keras_multi_head_attention():
    ours, theirs, query, value, key = _twins()
    query, value, key = (tf.constant(array) for array in (query, value, key))
    upstream = tf.constant(_inputs(BATCH, QUERY_TIME, QUERY_DIM, seed=7))
    attention_mask = np.broadcast_to(VALUE_MASK[:, None, :], (BATCH, QUERY_TIME, KEY_TIME))

    def gradients(layer, call):
        with tf.GradientTape() as tape:
            tape.watch([query, value, key])
            loss = tf.reduce_sum(call(layer) * upstream)
        return tape.gradient(loss, [query, value, key] + layer.trainable_weights)

    our_gradients = gradients(ours, lambda layer: layer(query, value, key, value_mask=VALUE_MASK))
    keras_gradients = gradients(theirs, lambda layer: layer(query, value, key, attention_mask=attention_mask))
    assert len(our_gradients) == 3 + 8
    for ours_gradient, keras_gradient in zip(our_gradients, keras_gradients):
        assert np.abs(np.asarray(keras_gradient)).max() > 0
        np.testing.assert_allclose(ours_gradient, keras_gradient, atol=1e-5)


def test_gradients_match_finite_differences_in_float64():
    layer = layers.CrossAttention(num_heads=2, key_dim=2, dtype="float64")
    query = tf.Variable(_inputs(1, 2, 3, seed=3, dtype="float64"))
    value = tf.Variable(_inputs(1, 3, 4, seed=4, dtype="float64"))
    value_mask = np.array([[True, True, False]])
    upstream = _inputs(1, 2, 3, seed=5, dtype="float64")
    layer(query, value)

    def loss():
        return float(np.sum(np.asarray(layer(query, value, value_mask=value_mask)) * upstream))

    with tf.GradientTape() as tape:
        loss_tensor = tf.reduce_sum(layer(query, value, value_mask=value_mask) * upstream)
    checked = [query, value, layer.key_kernel]
    analytic = tape.gradient(loss_tensor, checked)
    epsilon = 1e-6
    for variable, gradient in zip(checked, analytic):
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
    # The padded source token gets no gradient at all.
    assert np.all(np.asarray(analytic[1])[0, 2] == 0)


def test_precomputed_memory_bad_arguments_and_dropout():
    ours, _, query, value, key = _twins()
    memory = ours.precompute(value, key)
    assert tuple(memory[0].shape) == (BATCH, 2, KEY_TIME, 3)
    np.testing.assert_allclose(
        ours(query[:, :1], memory=memory, value_mask=VALUE_MASK),
        ours(query[:, :1], value, key, value_mask=VALUE_MASK),
        atol=1e-6,
    )

    layer = layers.CrossAttention(num_heads=2, key_dim=3)
    with pytest.raises(ValueError, match="needs a built layer"):
        layer.precompute(value)
    layer(query, value)
    with pytest.raises(ValueError, match="either `value`"):
        layer(query, value, memory=layer.precompute(value))
    with pytest.raises(ValueError, match="either `value`"):
        layer(query)
    with pytest.raises(ValueError, match="num_heads"):
        layers.CrossAttention(num_heads=0, key_dim=3)
    with pytest.raises(ValueError, match="dropout"):
        layers.CrossAttention(num_heads=2, key_dim=3, dropout=1.0)

    layer = layers.CrossAttention(num_heads=2, key_dim=3, dropout=0.5)
    np.testing.assert_array_equal(layer(query, value, training=False), layer(query, value))
    assert np.abs(np.asarray(layer(query, value, training=True) - layer(query, value))).max() > 1e-3


def test_config_and_keras_file_round_trips(tmp_path):
    layer = layers.CrossAttention(
        num_heads=3, key_dim=4, value_dim=5, dropout=0.1, use_bias=False, output_dim=6, name="cross"
    )
    config = layer.get_config()
    for key, value in {"num_heads": 3, "key_dim": 4, "value_dim": 5, "dropout": 0.1,
                       "use_bias": False, "output_dim": 6, "name": "cross"}.items():
        assert config[key] == value
    clone = layers.CrossAttention.from_config(config)
    assert isinstance(clone, layers.CrossAttention)
    assert clone.get_config() == config


    query_input = keras.Input((QUERY_TIME, QUERY_DIM))
    value_input = keras.Input((KEY_TIME, VALUE_DIM))
    outputs = layers.CrossAttention(num_heads=2, key_dim=3)(query_input, value_input)
    model = keras.Model([query_input, value_input], outputs)
    path = tmp_path / "cross.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    query, value, _ = _sequences()
    assert any(isinstance(layer, layers.CrossAttention) for layer in loaded.layers)
    np.testing.assert_array_equal(model([query, value]), loaded([query, value]))

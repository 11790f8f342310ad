"""Tests for layers.TransformerBlock: shapes and weights, the pre-norm wiring,
causality, padding masks, the KV cache through a stack of blocks (incremental
== full, no retracing), training with Adam, dropout, mixed precision, argument
validation, and config and .keras round trips."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import layers

BATCH, TIME, MODEL_DIM, FF_DIM, VOCAB_SIZE = 2, 6, 8, 16, 13


def _inputs(*shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _token_ids(batch=BATCH, time=TIME, seed=0):
    return np.random.default_rng(seed).integers(1, VOCAB_SIZE, size=(batch, time))


def _language_model(max_length=TIME, mask_zero=False):
    """PositionalEmbedding -> 2 causal blocks -> Dense, as a recipe would."""
    embedding = layers.PositionalEmbedding(
        VOCAB_SIZE, max_length, MODEL_DIM, mask_zero=mask_zero
    )
    blocks = [layers.TransformerBlock(num_heads=2, ff_dim=FF_DIM) for _ in range(2)]
    head = keras.layers.Dense(VOCAB_SIZE)
    inputs = keras.Input((None,), dtype="int32")
    hidden = embedding(inputs)
    for block in blocks:
        hidden = block(hidden, use_causal_mask=True)
    model = keras.Model(inputs, head(hidden))
    return model, embedding, blocks, head


def test_shapes_and_weights():
    block = layers.TransformerBlock(num_heads=2, ff_dim=FF_DIM)
    outputs = block(_inputs(BATCH, TIME, MODEL_DIM))
    assert tuple(outputs.shape) == (BATCH, TIME, MODEL_DIM)
    assert block.attention.key_dim == MODEL_DIM // 2
    layer_norms = 2 * 2 * MODEL_DIM
    attention = 4 * MODEL_DIM * MODEL_DIM + 3 * MODEL_DIM + MODEL_DIM
    feed_forward = MODEL_DIM * FF_DIM + FF_DIM + FF_DIM * MODEL_DIM + MODEL_DIM
    assert block.count_params() == layer_norms + attention + feed_forward
    assert [w.path.split("/", 1)[1] for w in block.weights] == [
        "attention_norm/gamma",
        "attention_norm/beta",
        "attention/query_kernel",
        "attention/query_bias",
        "attention/key_kernel",
        "attention/key_bias",
        "attention/value_kernel",
        "attention/value_bias",
        "attention/output_kernel",
        "attention/output_bias",
        "feed_forward_norm/gamma",
        "feed_forward_norm/beta",
        "feed_forward_hidden/kernel",
        "feed_forward_hidden/bias",
        "feed_forward_output/kernel",
        "feed_forward_output/bias",
    ]
    explicit = layers.TransformerBlock(num_heads=3, ff_dim=FF_DIM, key_dim=5)
    explicit(_inputs(BATCH, TIME, MODEL_DIM))
    assert tuple(explicit.attention.query_kernel.shape) == (MODEL_DIM, 3, 5)


def test_is_pre_norm_residual():
    block = layers.TransformerBlock(num_heads=2, ff_dim=FF_DIM, activation="relu")
    x = _inputs(BATCH, TIME, MODEL_DIM)
    block(x)
    # Non-trivial norm parameters, so a post-norm wiring could not pass.
    for norm in (block.attention_norm, block.feed_forward_norm):
        norm.set_weights([_inputs(MODEL_DIM, seed=5), _inputs(MODEL_DIM, seed=6)])

    attended = x + np.asarray(
        block.attention(block.attention_norm(x), use_causal_mask=True)
    )
    hidden = np.maximum(
        np.asarray(block.feed_forward_hidden(block.feed_forward_norm(attended))), 0
    )
    expected = attended + np.asarray(block.feed_forward_output(hidden))
    np.testing.assert_allclose(
        block(x, use_causal_mask=True), expected, atol=1e-5
    )


def test_causal_mask_hides_the_future():
    block = layers.TransformerBlock(num_heads=2, ff_dim=FF_DIM)
    x = _inputs(BATCH, TIME, MODEL_DIM)
    changed = x.copy()
    # Change token 4 only (not by a constant: layer norm would remove that).
    changed[:, 4] = _inputs(BATCH, MODEL_DIM, seed=9)

    causal, causal_changed = block(x, use_causal_mask=True), block(
        changed, use_causal_mask=True
    )
    np.testing.assert_allclose(causal[:, :4], causal_changed[:, :4], atol=1e-6)
    assert np.abs(np.asarray(causal[:, 4:] - causal_changed[:, 4:])).max() > 1e-3

    full, full_changed = block(x), block(changed)
    assert np.abs(np.asarray(full[:, :4] - full_changed[:, :4])).max() > 1e-3


def test_padding_mask_explicit_and_from_keras():
    model, embedding, blocks, _ = _language_model(mask_zero=True)
    padded = np.array([[3, 4, 5, 0, 0, 0]])
    unpadded = padded[:, :3]
    # Causal attention alone already hides the (trailing) pads; drop it to see
    # the padding mask work.
    vectors = embedding(padded)
    padding_mask = padded != 0
    np.testing.assert_allclose(
        np.asarray(blocks[0](vectors, padding_mask=padding_mask))[:, :3],
        blocks[0](embedding(unpadded)),
        atol=1e-5,
    )
    # The same mask arrives through Keras masking (single tensor argument).
    np.testing.assert_allclose(
        blocks[0](vectors), blocks[0](vectors, padding_mask=padding_mask),
        atol=1e-6,
    )
    assert np.abs(
        np.asarray(blocks[0](vectors, padding_mask=np.ones_like(padding_mask)))
        [:, :3] - np.asarray(blocks[0](embedding(unpadded)))
    ).max() > 1e-4
    # And through the functional model's two blocks.
    np.testing.assert_allclose(model(padded)[:, :3], model(unpadded), atol=1e-5)


def test_stack_cached_generation_equals_full_forward():
    model, embedding, blocks, head = _language_model()
    token_ids = _token_ids()
    full = np.asarray(model(token_ids))
    traces = []

    @tf.function
    def step(token, caches, index):
        traces.append(1)
        hidden = embedding(token, start_position=index)
        new_caches = []
        for block, cache in zip(blocks, caches):
            hidden, cache = block(hidden, cache=cache, cache_index=index)
            new_caches.append(cache)
        return head(hidden), new_caches

    caches = [block.init_cache(BATCH, TIME) for block in blocks]
    logits = []
    for index in range(TIME):
        step_logits, caches = step(
            token_ids[:, index : index + 1], caches, tf.constant(index)
        )
        logits.append(step_logits)
    np.testing.assert_allclose(np.concatenate(logits, axis=1), full, atol=1e-5)
    assert len(traces) == 1


def test_dynamic_shapes_in_tf_function():
    model, embedding, blocks, _ = _language_model(mask_zero=True)

    @tf.function(input_signature=[tf.TensorSpec((None, None), tf.int32)])
    def forward(token_ids):
        hidden = embedding(token_ids)
        for block in blocks:
            hidden = block(hidden, use_causal_mask=True)
        return hidden

    token_ids = _token_ids().astype("int32")
    token_ids[0, -2:] = 0
    expected = blocks[1](blocks[0](embedding(token_ids), use_causal_mask=True),
                         use_causal_mask=True)
    np.testing.assert_allclose(forward(token_ids), expected, atol=1e-5)
    assert tuple(forward(token_ids[:1, :3]).shape) == (1, 3, MODEL_DIM)


def test_cache_with_prompt_prefill():
    block = layers.TransformerBlock(num_heads=2, ff_dim=FF_DIM)
    x = _inputs(BATCH, TIME, MODEL_DIM)
    full = np.asarray(block(x, use_causal_mask=True))
    cache = block.init_cache(BATCH, TIME + 3)
    prompt_outputs, cache = block(x[:, :4], cache=cache, cache_index=0)
    rest = []
    for index in range(4, TIME):
        outputs, cache = block(x[:, index : index + 1], cache=cache, cache_index=index)
        rest.append(outputs)
    np.testing.assert_allclose(
        np.concatenate([prompt_outputs] + rest, axis=1), full, atol=1e-5
    )


def test_init_cache_needs_a_built_block():
    with pytest.raises(ValueError, match="needs a built block"):
        layers.TransformerBlock(num_heads=2, ff_dim=FF_DIM).init_cache(1, 4)


def test_adam_steps_lower_a_toy_loss():
    model, _, _, _ = _language_model()
    token_ids = _token_ids(batch=4, time=TIME + 1, seed=3)
    inputs, targets = token_ids[:, :-1], token_ids[:, 1:]
    optimizer = keras.optimizers.Adam(learning_rate=1e-2)
    loss_function = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def train_step():  # eager: tracing a graph would cost more than it saves
        with tf.GradientTape() as tape:
            loss = loss_function(targets, model(inputs, training=True))
        gradients = tape.gradient(loss, model.trainable_weights)
        assert all(gradient is not None for gradient in gradients)
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))
        return loss

    losses = [float(train_step()) for _ in range(12)]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0]


def test_dropout_only_in_training():
    x = _inputs(BATCH, TIME, MODEL_DIM)
    block = layers.TransformerBlock(num_heads=2, ff_dim=FF_DIM, dropout=0.3)
    np.testing.assert_array_equal(block(x, training=False), block(x))
    assert np.abs(np.asarray(block(x, training=True) - block(x))).max() > 1e-3


def test_mixed_bfloat16_forward():
    x = _inputs(BATCH, TIME, MODEL_DIM)
    reference = layers.TransformerBlock(num_heads=2, ff_dim=FF_DIM)
    expected = np.asarray(reference(x, use_causal_mask=True))
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        block = layers.TransformerBlock(num_heads=2, ff_dim=FF_DIM)
        block(x)
        block.set_weights(reference.get_weights())
        outputs = block(x, use_causal_mask=True)
        assert outputs.dtype == tf.bfloat16
        assert block.attention.query_kernel.dtype == "float32"
        np.testing.assert_allclose(
            tf.cast(outputs, tf.float32), expected, atol=1e-1, rtol=5e-2
        )
        step, cache = block(x[:, :1], cache=block.init_cache(BATCH, TIME), cache_index=0)
        assert step.dtype == tf.bfloat16 and cache[0].dtype == tf.bfloat16
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_heads": 0}, "num_heads"),
        ({"ff_dim": 1.5}, "ff_dim"),
        ({"key_dim": 0}, "key_dim"),
        ({"dropout": -0.1}, "dropout"),
        ({"activation": "no_such_activation"}, "unknown activation"),
        ({"layer_norm_epsilon": 0}, "layer_norm_epsilon"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    arguments = {"num_heads": 2, "ff_dim": FF_DIM}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        layers.TransformerBlock(**arguments)


def test_indivisible_model_dim_needs_key_dim():
    block = layers.TransformerBlock(num_heads=3, ff_dim=FF_DIM)
    with pytest.raises(ValueError, match="not divisible by num_heads=3"):
        block(_inputs(BATCH, TIME, MODEL_DIM))


def test_config_round_trip():
    block = layers.TransformerBlock(
        num_heads=4,
        ff_dim=32,
        key_dim=6,
        dropout=0.2,
        activation="relu",
        layer_norm_epsilon=1e-6,
        name="block",
    )
    config = block.get_config()
    for key, value in {
        "num_heads": 4,
        "ff_dim": 32,
        "key_dim": 6,
        "dropout": 0.2,
        "activation": "relu",
        "layer_norm_epsilon": 1e-6,
        "name": "block",
    }.items():
        assert config[key] == value
    clone = layers.TransformerBlock.from_config(config)
    assert clone.get_config() == config


def test_keras_file_round_trip(tmp_path):
    model, _, _, _ = _language_model(mask_zero=True)
    path = tmp_path / "language_model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    token_ids = _token_ids()
    token_ids[0, -2:] = 0
    assert [type(layer).__name__ for layer in loaded.layers[1:]] == [
        "PositionalEmbedding", "TransformerBlock", "TransformerBlock", "Dense",
    ]
    np.testing.assert_array_equal(model(token_ids), loaded(token_ids))

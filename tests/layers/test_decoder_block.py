"""Tests for layers.DecoderBlock, as for TransformerBlock: shapes and weights, the
pre-norm wiring, causality, padding, the cache (incremental == full, one trace),
training with Adam, dropout, mixed precision, argument validation, config and
.keras round trips; plus: padding in the source is never attended to.

Each test function covers a group of cases: every test pays for a fresh Keras session."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import layers

BATCH, TARGET_TIME, SOURCE_TIME, MODEL_DIM, FF_DIM, VOCAB_SIZE = 2, 5, 6, 8, 16, 11
SOURCE_MASK = np.array([[True, True, True, False, False, False], [True] * SOURCE_TIME])


def _inputs(*shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _block_and_inputs(**kwargs):
    block = layers.DecoderBlock(num_heads=2, ff_dim=FF_DIM, **kwargs)
    target = _inputs(BATCH, TARGET_TIME, MODEL_DIM, seed=1)
    source = _inputs(BATCH, SOURCE_TIME, MODEL_DIM, seed=2)
    block(target, source)
    return block, target, source


def _translator():
    """Encoder (1 TransformerBlock) -> 2 DecoderBlocks -> Dense, masks from mask_zero, as a recipe would."""
    source_ids = keras.Input((None,), dtype="int32")
    target_ids = keras.Input((None,), dtype="int32")
    encoded = layers.PositionalEmbedding(VOCAB_SIZE, SOURCE_TIME, MODEL_DIM, mask_zero=True)(source_ids)
    encoded = layers.TransformerBlock(num_heads=2, ff_dim=FF_DIM)(encoded)
    embedding = layers.PositionalEmbedding(VOCAB_SIZE, TARGET_TIME, MODEL_DIM)
    hidden = embedding(target_ids)
    blocks = [layers.DecoderBlock(num_heads=2, ff_dim=FF_DIM) for _ in range(2)]
    for block in blocks:
        hidden = block(hidden, encoded)
    head = keras.layers.Dense(VOCAB_SIZE)
    return keras.Model([source_ids, target_ids], head(hidden)), embedding, blocks, head


def _ids(batch, time, seed):
    return np.random.default_rng(seed).integers(1, VOCAB_SIZE, size=(batch, time)).astype("int32")


def test_shapes_weights_and_pre_norm_wiring():
    block, target, source = _block_and_inputs(activation="relu")
    outputs = block(target, source)
    assert tuple(outputs.shape) == (BATCH, TARGET_TIME, MODEL_DIM)
    layer_norms = 3 * 2 * MODEL_DIM
    attention = 4 * MODEL_DIM * MODEL_DIM + 3 * MODEL_DIM + MODEL_DIM
    feed_forward = MODEL_DIM * FF_DIM + FF_DIM + FF_DIM * MODEL_DIM + MODEL_DIM
    assert block.count_params() == layer_norms + 2 * attention + feed_forward
    names = [w.path.split("/", 1)[1] for w in block.weights]
    assert names[:2] == ["attention_norm/gamma", "attention_norm/beta"]
    assert "cross_attention/key_kernel" in names and "cross_attention_norm/gamma" in names
    # A source of another width: the cross-attention's keys/values are projected from it.
    wide = layers.DecoderBlock(num_heads=2, ff_dim=FF_DIM)
    assert tuple(wide(target, _inputs(BATCH, SOURCE_TIME, 12)).shape) == (BATCH, TARGET_TIME, MODEL_DIM)
    assert tuple(wide.cross_attention.key_kernel.shape) == (12, 2, MODEL_DIM // 2)

    for norm in (block.attention_norm, block.cross_attention_norm, block.feed_forward_norm):
        norm.set_weights([_inputs(MODEL_DIM, seed=5), _inputs(MODEL_DIM, seed=6)])
    x = target + np.asarray(block.attention(block.attention_norm(target), use_causal_mask=True))
    x = x + np.asarray(block.cross_attention(block.cross_attention_norm(x), source))
    hidden = np.maximum(np.asarray(block.feed_forward_hidden(block.feed_forward_norm(x))), 0)
    expected = x + np.asarray(block.feed_forward_output(hidden))
    np.testing.assert_allclose(block(target, source), expected, atol=1e-5)


def test_causal_by_default_and_padding_in_the_source_is_never_attended_to():
    block, target, source = _block_and_inputs()
    changed = target.copy()
    changed[:, 3] = _inputs(BATCH, MODEL_DIM, seed=9)
    before, after = np.asarray(block(target, source)), np.asarray(block(changed, source))
    np.testing.assert_allclose(before[:, :3], after[:, :3], atol=1e-6)
    assert np.abs(before[:, 3:] - after[:, 3:]).max() > 1e-3
    bidirectional = np.asarray(block(changed, source, use_causal_mask=False))
    assert np.abs(bidirectional[:, :3] - np.asarray(block(target, source, use_causal_mask=False))[:, :3]).max() > 1e-3

    # Source padding: whatever sits at padded source positions changes nothing ...
    other_source = source.copy()
    other_source[0, 3:] = 100 * _inputs(SOURCE_TIME - 3, MODEL_DIM, seed=4)
    masked = np.asarray(block(target, source, encoder_padding_mask=SOURCE_MASK))
    np.testing.assert_allclose(masked, block(target, other_source, encoder_padding_mask=SOURCE_MASK), atol=1e-5)
    # ... it is the same as a source without the padding ...
    np.testing.assert_allclose(masked[:1], block(target[:1], source[:1, :3]), atol=1e-5)
    # ... its attention weight is exactly zero ...
    _, scores = block.cross_attention(
        block.cross_attention_norm(target), source, value_mask=SOURCE_MASK, return_attention_scores=True
    )
    assert np.all(np.asarray(scores)[0, :, :, 3:] == 0)
    # ... and without the mask it would have mattered.
    assert np.abs(np.asarray(block(target, other_source))[0] - masked[0]).max() > 1e-3

    # The same through Keras masking: the encoder's mask (from mask_zero) reaches every decoder block.
    model, _, _, _ = _translator()
    source_ids = _ids(BATCH, SOURCE_TIME, seed=3)
    source_ids[0, 3:] = 0
    target_ids = _ids(BATCH, TARGET_TIME, seed=4)
    np.testing.assert_allclose(
        np.asarray(model([source_ids, target_ids]))[:1], model([source_ids[:1, :3], target_ids[:1]]), atol=1e-5
    )


def test_cached_decoding_equals_the_full_forward_and_traces_once():
    model, embedding, blocks, head = _translator()
    source_ids = _ids(BATCH, SOURCE_TIME, seed=3)
    source_ids[0, 4:] = 0
    target_ids = _ids(BATCH, TARGET_TIME, seed=4)
    full = np.asarray(model([source_ids, target_ids]))
    encoder = keras.Model(model.inputs[0], [layer for layer in model.layers if isinstance(layer, layers.TransformerBlock) and not isinstance(layer, layers.DecoderBlock)][0].output)
    encoded = encoder(source_ids)
    source_mask = source_ids != 0
    traces = []

    @tf.function
    def step(token, caches, index):
        traces.append(1)
        hidden = embedding(token, start_position=index)
        new_caches = []
        for block, cache in zip(blocks, caches):
            hidden, cache = block(hidden, cache=cache, cache_index=index, encoder_padding_mask=source_mask)
            new_caches.append(cache)
        return head(hidden), new_caches

    caches = [block.init_cache(BATCH, TARGET_TIME, encoded) for block in blocks]
    logits = []
    for index in range(TARGET_TIME):
        step_logits, caches = step(target_ids[:, index : index + 1], caches, tf.constant(index))
        logits.append(step_logits)
    np.testing.assert_allclose(np.concatenate(logits, axis=1), full, atol=1e-5)
    assert len(traces) == 1
    with pytest.raises(ValueError, match="either `encoder_outputs`"):
        blocks[0](embedding(target_ids), encoded, cache=caches[0], cache_index=0)
    with pytest.raises(ValueError, match="either `encoder_outputs`"):
        blocks[0](embedding(target_ids))


def test_adam_steps_lower_a_toy_loss_and_dropout_only_in_training():
    model, _, _, _ = _translator()
    source_ids = _ids(4, SOURCE_TIME, seed=5)
    # Copy the source's first tokens: only cross-attention can do it.
    target_ids = source_ids[:, :TARGET_TIME]
    optimizer = keras.optimizers.Adam(learning_rate=1e-2)
    loss_function = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def train_step():
        with tf.GradientTape() as tape:
            loss = loss_function(target_ids, model([source_ids, target_ids], training=True))
        gradients = tape.gradient(loss, model.trainable_weights)
        assert all(gradient is not None for gradient in gradients)
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))
        return float(loss)

    losses = [train_step() for _ in range(12)]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.8 * losses[0]

    block, target, source = _block_and_inputs(dropout=0.3)
    np.testing.assert_array_equal(block(target, source, training=False), block(target, source))
    assert np.abs(np.asarray(block(target, source, training=True) - block(target, source))).max() > 1e-3


def test_mixed_bfloat16_and_invalid_arguments():
    reference, target, source = _block_and_inputs()
    expected = np.asarray(reference(target, source))
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        block = layers.DecoderBlock(num_heads=2, ff_dim=FF_DIM)
        block(target, source)
        block.set_weights(reference.get_weights())
        outputs = block(target, source, encoder_padding_mask=np.ones((BATCH, SOURCE_TIME), bool))
        assert outputs.dtype == tf.bfloat16
        np.testing.assert_allclose(tf.cast(outputs, tf.float32), expected, atol=1e-1, rtol=5e-2)
    finally:
        keras.config.set_dtype_policy("float32")
    for kwargs, message in [
        ({"num_heads": 0}, "num_heads"), ({"ff_dim": 1.5}, "ff_dim"), ({"dropout": -0.1}, "dropout"),
        ({"activation": "no_such_activation"}, "unknown activation"), ({"layer_norm_epsilon": 0}, "layer_norm_epsilon"),
    ]:
        with pytest.raises(ValueError, match=message):
            layers.DecoderBlock(**{"num_heads": 2, "ff_dim": FF_DIM, **kwargs})
    with pytest.raises(ValueError, match="needs the shape of `encoder_outputs`"):
        layers.DecoderBlock(num_heads=2, ff_dim=FF_DIM).build((None, None, MODEL_DIM))


def test_config_and_keras_file_round_trips(tmp_path):
    block = layers.DecoderBlock(num_heads=4, ff_dim=32, key_dim=6, dropout=0.2, activation="relu",
                                layer_norm_epsilon=1e-6, name="decoder")
    config = block.get_config()
    for key, value in {"num_heads": 4, "ff_dim": 32, "key_dim": 6, "dropout": 0.2, "activation": "relu",
                       "layer_norm_epsilon": 1e-6, "name": "decoder"}.items():
        assert config[key] == value
    clone = layers.DecoderBlock.from_config(config)
    assert isinstance(clone, layers.DecoderBlock) and clone.get_config() == config

    model, _, _, _ = _translator()
    path = tmp_path / "translator.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers].count("DecoderBlock") == 2
    source_ids = _ids(BATCH, SOURCE_TIME, seed=3)
    source_ids[0, 3:] = 0
    target_ids = _ids(BATCH, TARGET_TIME, seed=4)
    np.testing.assert_array_equal(model([source_ids, target_ids]), loaded([source_ids, target_ids]))

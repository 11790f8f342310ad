"""Tests for layers.PositionalEmbedding: the token part against
keras.layers.Embedding, the sinusoid formula, offsets for cached generation,
padding masks, the too-long error, argument validation, mixed precision, and
config and .keras round trips."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import layers

VOCAB_SIZE = 11
MAX_LENGTH = 8
OUTPUT_DIM = 6


def _token_ids(batch=2, time=5, seed=0):
    return np.random.default_rng(seed).integers(1, VOCAB_SIZE, size=(batch, time))


def _sinusoid_table(length, dim, start=0):
    """The Vaswani et al. formula, written out element by element."""
    table = np.zeros((length, dim))
    for row in range(length):
        position = start + row
        for i in range(dim // 2):
            angle = position / 10000 ** (2 * i / dim)
            table[row, 2 * i] = math.sin(angle)
            table[row, 2 * i + 1] = math.cos(angle)
    return table


@pytest.mark.parametrize("position", ["learned", "sinusoidal"])
def test_shapes_and_weights(position):
    layer = layers.PositionalEmbedding(
        VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM, position=position
    )
    outputs = layer(_token_ids(batch=3, time=4))
    assert tuple(outputs.shape) == (3, 4, OUTPUT_DIM)
    expected = {"token_embeddings": (VOCAB_SIZE, OUTPUT_DIM)}
    if position == "learned":
        expected["position_embeddings"] = (MAX_LENGTH, OUTPUT_DIM)
    assert {w.name: tuple(w.shape) for w in layer.weights} == expected
    assert len(layer.trainable_weights) == len(expected)
    assert layer.compute_output_shape((3, 4)) == (3, 4, OUTPUT_DIM)


def test_tables_are_initialized_independently():
    # One unseeded initializer instance reused would give both tables the
    # same random stream.
    layer = layers.PositionalEmbedding(VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM)
    layer.build()
    tokens = layer.token_embeddings.numpy()[:MAX_LENGTH]
    positions = layer.position_embeddings.numpy()
    assert not np.allclose(tokens, positions)


def test_token_part_equals_keras_embedding():
    layer = layers.PositionalEmbedding(VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM)
    keras_embedding = keras.layers.Embedding(VOCAB_SIZE, OUTPUT_DIM)
    token_ids = _token_ids()
    layer(token_ids)
    keras_embedding(token_ids)
    keras_embedding.set_weights([layer.token_embeddings.numpy()])

    outputs = np.asarray(layer(token_ids))
    position_part = layer.position_embeddings.numpy()[: token_ids.shape[1]]
    np.testing.assert_allclose(
        outputs - position_part, keras_embedding(token_ids), atol=1e-6
    )


def test_sinusoidal_values_match_the_formula():
    dim = 8
    layer = layers.PositionalEmbedding(
        VOCAB_SIZE, 64, dim, position="sinusoidal",
        embeddings_initializer="zeros",
    )
    token_ids = _token_ids(batch=1, time=50)
    outputs = np.asarray(layer(token_ids))[0]  # token part is all zeros
    np.testing.assert_allclose(outputs, _sinusoid_table(50, dim), atol=1e-5)
    assert layer.trainable_weights == [layer.token_embeddings]


@pytest.mark.parametrize("position", ["learned", "sinusoidal"])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_start_position_offsets_the_positions(position, as_tensor):
    layer = layers.PositionalEmbedding(
        VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM, position=position
    )
    token_ids = _token_ids(time=MAX_LENGTH)
    full = np.asarray(layer(token_ids))
    start = 3
    start_position = tf.constant(start) if as_tensor else start
    tail = layer(token_ids[:, start : start + 2], start_position=start_position)
    np.testing.assert_allclose(tail, full[:, start : start + 2], atol=1e-6)


def test_start_position_in_a_traced_step_does_not_retrace():
    layer = layers.PositionalEmbedding(VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM)
    token_ids = _token_ids(time=MAX_LENGTH)
    full = np.asarray(layer(token_ids))
    traces = []

    @tf.function
    def embed_one(token, index):
        traces.append(1)
        return layer(token, start_position=index)

    for index in range(MAX_LENGTH):
        step = embed_one(token_ids[:, index : index + 1], tf.constant(index))
        np.testing.assert_allclose(step[:, 0], full[:, index], atol=1e-6)
    assert len(traces) == 1


def test_mask_zero_computes_and_propagates_the_mask():
    layer = layers.PositionalEmbedding(
        VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM, mask_zero=True
    )
    token_ids = np.array([[3, 4, 0, 0], [5, 0, 0, 0]])
    expected = token_ids != 0
    np.testing.assert_array_equal(layer.compute_mask(token_ids), expected)

    # Downstream: keras's own mask consumer sees it. The masked average
    # ignores the padded positions.
    inputs = keras.Input((None,), dtype="int32")
    vectors = layer(inputs)
    average = keras.layers.GlobalAveragePooling1D()(vectors)
    model = keras.Model(inputs, average)
    unmasked = np.asarray(layer(token_ids))
    expected_average = np.stack(
        [unmasked[0, :2].mean(axis=0), unmasked[1, :1].mean(axis=0)]
    )
    np.testing.assert_allclose(model(token_ids), expected_average, atol=1e-6)


def test_no_mask_without_mask_zero():
    layer = layers.PositionalEmbedding(VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM)
    assert layer.compute_mask(np.array([[1, 0]])) is None


@pytest.mark.parametrize("position", ["learned", "sinusoidal"])
def test_too_long_sequence_names_both_lengths(position):
    layer = layers.PositionalEmbedding(
        VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM, position=position
    )
    with pytest.raises(ValueError, match=r"length 9 .*max_length is 8"):
        layer(_token_ids(time=MAX_LENGTH + 1))
    with pytest.raises(ValueError, match=r"ends at 10.*max_length is 8"):
        layer(_token_ids(time=4), start_position=6)
    with pytest.raises(ValueError, match=r"length 9 > max_length 8"):
        layer(_token_ids(time=MAX_LENGTH + 1), start_position=tf.constant(0))


def test_fully_dynamic_length_is_checked_at_run_time_only():
    signature = [tf.TensorSpec((None, None), tf.int32)]
    learned = layers.PositionalEmbedding(VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM)
    sinusoidal = layers.PositionalEmbedding(
        VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM, position="sinusoidal"
    )
    embed_learned = tf.function(learned, input_signature=signature)
    embed_sinusoidal = tf.function(sinusoidal, input_signature=signature)
    token_ids = _token_ids(time=4).astype("int32")
    np.testing.assert_allclose(
        embed_learned(token_ids), learned(token_ids), atol=1e-6
    )
    too_long = _token_ids(time=MAX_LENGTH + 1).astype("int32")
    # As documented: TensorFlow's slice error for a learned table ...
    with pytest.raises(tf.errors.InvalidArgumentError):
        embed_learned(too_long)
    # ... while sinusoids simply extend.
    assert tuple(embed_sinusoidal(too_long).shape) == (2, MAX_LENGTH + 1, OUTPUT_DIM)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"vocab_size": 0}, "vocab_size"),
        ({"max_length": 2.5}, "max_length"),
        ({"output_dim": True}, "output_dim"),
        ({"position": "rotary"}, "unknown position"),
        ({"position": "sinusoidal", "output_dim": 5}, "even output_dim"),
        ({"mask_zero": "yes"}, "mask_zero"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    arguments = {
        "vocab_size": VOCAB_SIZE,
        "max_length": MAX_LENGTH,
        "output_dim": OUTPUT_DIM,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        layers.PositionalEmbedding(**arguments)


def test_mixed_bfloat16_forward():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        for position in ("learned", "sinusoidal"):
            layer = layers.PositionalEmbedding(
                VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM, position=position
            )
            outputs = layer(_token_ids())
            assert outputs.dtype == tf.bfloat16
            assert layer.token_embeddings.dtype == "float32"
            assert np.all(np.isfinite(np.asarray(tf.cast(outputs, tf.float32))))
    finally:
        keras.config.set_dtype_policy("float32")


def test_config_round_trip():
    layer = layers.PositionalEmbedding(
        VOCAB_SIZE,
        MAX_LENGTH,
        OUTPUT_DIM,
        position="sinusoidal",
        mask_zero=True,
        embeddings_initializer="he_normal",
        name="embed",
    )
    config = layer.get_config()
    for key, value in {
        "vocab_size": VOCAB_SIZE,
        "max_length": MAX_LENGTH,
        "output_dim": OUTPUT_DIM,
        "position": "sinusoidal",
        "mask_zero": True,
        "name": "embed",
    }.items():
        assert config[key] == value
    clone = layers.PositionalEmbedding.from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize("position", ["learned", "sinusoidal"])
def test_keras_file_round_trip(tmp_path, position):
    inputs = keras.Input((None,), dtype="int32")
    vectors = layers.PositionalEmbedding(
        VOCAB_SIZE, MAX_LENGTH, OUTPUT_DIM, position=position, mask_zero=True
    )(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3)(vectors))
    path = tmp_path / "embedding.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    token_ids = _token_ids()
    assert isinstance(loaded.layers[1], layers.PositionalEmbedding)
    np.testing.assert_array_equal(model(token_ids), loaded(token_ids))
    np.testing.assert_array_equal(
        loaded.layers[1].compute_mask(token_ids), token_ids != 0
    )

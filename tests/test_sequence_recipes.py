"""What is particular to music_rnn, music_lstm and sentiment_lstm.

(Every recipe is also trained a few steps by tests/test_recipes.py.)
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import layers
import zoo


def test_music_recipes_use_the_from_scratch_cells():
    lstm = zoo.get_recipe("music_lstm")
    rnn = zoo.get_recipe("music_rnn")
    info = lstm.module.load_data(lstm.Config()).info
    lstm_model = lstm.module.build_model(zoo.make_config(lstm, {"units": 8}), info)
    rnn_model = rnn.module.build_model(zoo.make_config(rnn, {"units": 8, "step_clip": 0.5}), info)

    assert isinstance(lstm_model.get_layer("recurrent").cell, layers.LSTMCell)
    cell = rnn_model.get_layer("recurrent").cell
    assert isinstance(cell, layers.RNNCell) and cell.gradient_clip == 0.5
    no_clip = rnn.module.build_model(zoo.make_config(rnn, {"units": 8, "step_clip": 0}), info)
    assert no_clip.get_layer("recurrent").cell.gradient_clip is None
    # Any window length works (generation feeds one character at a time).
    ids = np.zeros((2, 7), dtype=np.int32)
    assert tuple(lstm_model(ids).shape) == (2, 7, info.vocab_size)


def test_music_metrics_are_bits_per_char_of_the_nats_loss():
    recipe = zoo.get_recipe("music_lstm")
    logits = tf.random.stateless_normal((3, 5, 11), seed=(1, 2))
    targets = tf.constant(np.arange(15).reshape(3, 5) % 11, tf.int32)
    nats = recipe.module.loss(targets, logits)
    bits = recipe.module.METRICS["bits_per_char"](targets, logits)
    np.testing.assert_allclose(np.asarray(bits), np.asarray(nats) / np.log(2.0), rtol=1e-6)


@pytest.fixture(scope="module")
def tune_types():
    """sentiment_lstm's default data (loaded once: encoding the tunes takes seconds)."""
    recipe = zoo.get_recipe("sentiment_lstm")
    return recipe.module.load_data(recipe.Config())


def sentiment_model(info, **overrides):
    recipe = zoo.get_recipe("sentiment_lstm")
    config = zoo.make_config(recipe, {"units": 8, "embedding_dim": 4, **overrides})
    return recipe, recipe.module.build_model(config, info)


def test_sentiment_on_tune_types_is_a_softmax_over_the_types(tune_types):
    recipe = zoo.get_recipe("sentiment_lstm")
    splits = tune_types
    info = splits.info
    assert info.num_classes == 7
    _, model = sentiment_model(info)
    features, targets = next(iter(splits.train.batch(4)))
    logits = model(features)
    assert tuple(logits.shape) == (4, 7)
    expected = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    np.testing.assert_allclose(np.asarray(recipe.module.loss(targets, logits)), np.asarray(expected), rtol=1e-6)


def test_sentiment_on_imdb_is_one_logit_with_binary_crossentropy(tmp_path):
    recipe = zoo.get_recipe("sentiment_lstm")
    config = zoo.make_config(recipe, {"dataset": "imdb_reviews", "max_length": 12, "vocab_size": 50})
    with tfds.testing.mock_data(num_examples=40):
        splits = recipe.module.load_data(config)
    _, model = sentiment_model(splits.info)
    features, targets = next(iter(splits.train.batch(4)))
    logits = model(features)
    assert tuple(logits.shape) == (4, 1)
    expected = keras.losses.binary_crossentropy(
        tf.reshape(tf.cast(targets, tf.float32), (4, 1)), logits, from_logits=True
    )
    np.testing.assert_allclose(np.asarray(recipe.module.loss(targets, logits)), np.asarray(expected), rtol=1e-6)
    accuracy = np.asarray(recipe.module.METRICS["accuracy"](targets, logits)).reshape(-1)
    np.testing.assert_array_equal(accuracy, (np.asarray(logits).reshape(-1) > 0) == np.asarray(targets))


def test_sentiment_ignores_padding(tune_types):
    """mask_zero: trailing padding (id 0) leaves the final state, so the output, unchanged."""
    _, model = sentiment_model(tune_types.info, dropout=0.0)
    tokens = np.array([[5, 9, 3, 7, 2, 0, 0, 0]], dtype=np.int32)
    padded = np.concatenate([tokens, np.zeros((1, 20), dtype=np.int32)], axis=1)
    np.testing.assert_allclose(np.asarray(model(tokens)), np.asarray(model(padded)), atol=1e-6)
    changed = tokens.copy()
    changed[0, 1] = 4
    assert not np.allclose(np.asarray(model(tokens)), np.asarray(model(changed)), atol=1e-6)


@pytest.mark.parametrize("name", ["music_lstm", "music_rnn"])
def test_shakespeare_is_a_dataset_choice(name):
    recipe = zoo.get_recipe(name)
    config = zoo.make_config(recipe, {"dataset": "tiny_shakespeare", "sequence_length": 10})
    with tfds.testing.mock_data(num_examples=20):
        splits = recipe.module.load_data(config)
    assert splits.info.name == "tiny_shakespeare" and splits.info.input_shape == (10,)

"""The transformer recipes: tfds paths on mock data, cached sampling, the attention command.

Registry-wide smoke tests (every recipe trains a few steps, reloads) live
elsewhere; these cover what is particular to the transformers.
"""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import datasets
import zoo
from recipes import _transformer
from zoo.commands import cli
from zoo.engine import config as config_lib
from zoo.engine import registry
from zoo.engine import trainer

TINY = ["model_dim=16", "num_heads=2", "num_blocks=2", "ff_dim=16", "epochs=1", "max_steps=2", "batch_size=4"]
TUNE = "X:1\nT:Test\nM:6/8\nK:D\n|:dAF AFA|dAF G2E|FAd fed|cBA GFE:|\n"


def train_tiny(name, overrides, workdir):
    recipe = registry.get_recipe(name)
    config = config_lib.make_config(recipe.Config, overrides)
    return recipe, config, trainer.train(recipe, config, workdir, verbose=False)


def last_train_loss(result):
    return [record for record in result.history if record["split"] == "train"][-1]["loss"]


# ------------------------------------------------------------ tfds recipes on mock data


def test_music_transformer_on_tiny_shakespeare_trains_and_generates_on_mock_data(tmp_path):
    with tfds.testing.mock_data(num_examples=20):
        recipe, config, result = train_tiny(
            "music_transformer", [*TINY, "sequence_length=8", "dataset=tiny_shakespeare"], tmp_path / "run"
        )
    assert result.steps == 2
    assert math.isfinite(last_train_loss(result))
    vocabulary = result.splits.info.vocabulary
    text = recipe.module.generate(result.model, result.splits.info, config, vocabulary[0], 12, 1.0, 0)
    assert len(text) == 13 and set(text) <= set(vocabulary)


def test_sentiment_transformer_on_imdb_mock_data_is_binary(tmp_path):
    with tfds.testing.mock_data(num_examples=40):
        _, _, result = train_tiny(
            "sentiment_transformer",
            [*TINY, "dataset=imdb_reviews", "max_length=8", "vocab_size=30"],
            tmp_path / "run",
        )
    assert result.splits.info.num_classes == 2
    assert math.isfinite(last_train_loss(result))
    features = next(iter(result.splits.test.batch(3)))[0]
    assert tuple(result.model(features).shape) == (3, 1)  # One logit: sigmoid, binary cross-entropy.


def test_sentiment_transformer_ignores_padding():
    recipe = registry.get_recipe("sentiment_transformer")
    config = config_lib.make_config(recipe.Config, ["model_dim=16", "num_heads=2", "ff_dim=16", "max_length=40"])
    info = recipe.module.load_data(config).info
    model = recipe.module.build_model(config, info)
    short = model(np.array([[5, 7, 9, 3] + [0] * 6]), training=False)
    long = model(np.array([[5, 7, 9, 3] + [0] * 30]), training=False)
    other = model(np.array([[5, 7, 9, 4] + [0] * 6]), training=False)
    np.testing.assert_allclose(short, long, atol=1e-5)  # Padding is neither attended to nor pooled.
    assert np.abs(np.asarray(short) - np.asarray(other)).max() > 1e-4  # Real tokens matter.
    assert tuple(short.shape) == (1, info.num_classes)


# ------------------------------------------------------------------- cached generation

VOCABULARY = tuple("abcdefghij")
WINDOW = 8


@pytest.fixture
def tiny_lm():
    recipe = registry.get_recipe("music_transformer")
    config = zoo.make_config(recipe, dict(sequence_length=WINDOW, model_dim=16, num_heads=2, num_blocks=2, ff_dim=32, dropout=0.0))
    info = datasets.DatasetInfo(name="tiny", input_shape=(WINDOW,), num_examples={}, fingerprint="", vocabulary=VOCABULARY)
    model = recipe.module.build_model(config, info)
    model(np.zeros((1, WINDOW), np.int32))
    return model


def argmax_decode(model, prompt_ids, length):
    """Greedy decoding by full forward passes over the growing sequence (no cache)."""
    ids = list(prompt_ids)
    for _ in range(length):
        logits = model(np.array([ids], np.int32), training=False)[0, -1]  # (vocab,)
        ids.append(int(np.argmax(logits)))
    return ids[len(prompt_ids):]


def test_cached_greedy_sampling_equals_argmax_of_full_forward_passes(tiny_lm):
    prompt = "abc"
    length = WINDOW - len(prompt)  # The whole window, before any cache restart.
    text = _transformer.generate(tiny_lm, VOCABULARY, prompt, length, 1e-6, 0)  # temperature -> 0: greedy
    expected = argmax_decode(tiny_lm, [VOCABULARY.index(c) for c in prompt], length)
    assert text == prompt + "".join(VOCABULARY[i] for i in expected)


def test_cached_sampling_matches_recomputation_past_the_window(tiny_lm):
    # 3 windows long: the cache restarts from the last half window several times.
    # A prompt longer than the window is cut by the same rule before its one-pass prefill.
    for prompt, temperature, seed in (("ab", 1e-6, 0), ("ab", 1.0, 3), ("abcdefghija", 1.0, 4)):
        cached = _transformer.generate(tiny_lm, VOCABULARY, prompt, 3 * WINDOW, temperature, seed)
        naive = _transformer.generate_naive(tiny_lm, VOCABULARY, prompt, 3 * WINDOW, temperature, seed)
        assert cached == naive


def test_sampling_is_seeded_and_traces_once(tiny_lm):
    first = _transformer.generate(tiny_lm, VOCABULARY, "abc", 30, 1.0, 7)
    assert _transformer.generate(tiny_lm, VOCABULARY, "abc", 30, 1.0, 7) == first
    assert _transformer.generate(tiny_lm, VOCABULARY, "abc", 30, 1.0, 8) != first
    _transformer.generate(tiny_lm, VOCABULARY, "a" * (WINDOW + 3), 5, 0.5, 1)  # Other lengths, same trace.
    assert _transformer._sampler(tiny_lm).experimental_get_tracing_count() == 1


# Two tunes from the shipped weights, recorded before the sampler was compiled with XLA: a faster
# sampler must draw the same characters for the same seed (250 > the window: the cache restarts too).
PINNED_TUNES = {
    (0, 0.8): "X:36\nT:In Fartht Bre Pady\nZ: id:dc-hornpipe-67\nM:C|\nL:1/8\nK:A Dorian\nE|DEAf eAaf|gefd efed|BABG FDAF|GABG FADF|!\nEAAB dAFA|BdBG ABde|fgaf d4:|!\nA|degd g2ag|fgdB ABcd|eaa2 a2af|g2ag egdg|!\nagbg fdgd|fgbg agbg|fgge defg|abeg a2gb|agef gedc|!\ndBeegg2fgagf",
    (5, 1.0): "X:290\nT:Cuotun the\nZ: id:dc-hornpipe-24\nM:C|\nL:1/8\nK:G Major\nA|G2DG FGAc|dcAB c3A|B2AB cBcd|gBB2-Ggfg efga|b2d^c dgfe|]!\nd|eB2d efed|gBB2 cBAG|G2eg egdB|cBAG G2:|!\n\nX:83\nT:Frown ithe Bo Murt Hagost\nZ: id:dc-jig-123\nM:6/8\nL:1/8\nK:D Major\nA,|FAAB GG|ABA ",
}


def test_the_shipped_transformer_draws_the_pinned_tunes_for_its_seeds_in_a_graph_and_in_xla():
    loaded = zoo.load("music_transformer", pretrained=True)
    for (seed, temperature), expected in PINNED_TUNES.items():
        text = loaded.recipe.module.generate(loaded.model, loaded.info, loaded.config, "X:", 250, temperature, seed)
        assert text == expected  # 250 tokens: the plain-graph loop.
        assert _transformer.generate(loaded.model, loaded.info.vocabulary, "X:", 250, temperature, seed, compiled=True) == expected


def test_the_xla_draw_is_tensorflows_stateless_categorical():
    draw = tf.function(_transformer.draw, jit_compile=True)
    reference = tf.function(lambda logits, seed, position: tf.random.stateless_categorical(
        logits, 1, seed=tf.stack([seed, position]), dtype=tf.int32)[0, 0])
    generator = np.random.default_rng(0)
    for scale in (0.1, 1.0, 5.0, 30.0):  # Flat to peaked distributions.
        for _ in range(40):
            logits = tf.constant(scale * generator.standard_normal((1, 83)), tf.float32)
            seed, position = (tf.constant(int(value), tf.int32) for value in generator.integers(0, 2**31 - 1, 2))
            assert int(draw(logits, seed, position)) == int(reference(logits, seed, position))
    masked = tf.constant([[-np.inf, 0.0, -np.inf, 1.0]], tf.float32)  # Masked entries are never drawn.
    assert {int(draw(masked, tf.constant(1), tf.constant(p))) for p in range(30)} == {1, 3}


def test_generate_rejects_bad_arguments(tiny_lm):
    with pytest.raises(ValueError, match="outside the model's vocabulary"):
        _transformer.generate(tiny_lm, VOCABULARY, "xyz", 5, 1.0, 0)
    with pytest.raises(ValueError, match="temperature"):
        _transformer.generate(tiny_lm, VOCABULARY, "a", 5, 0.0, 0)


# --------------------------------------------------------------- the attention command


@pytest.fixture(scope="module")
def tiny_music_run(tmp_path_factory):
    """A 2-step music_transformer run on a small ABC text file (split by position)."""
    root = tmp_path_factory.mktemp("music")
    data = root / "tunes.abc"
    data.write_text(TUNE * 40, encoding="utf-8")
    workdir = root / "run"
    train_tiny("music_transformer", [*TINY, "sequence_length=16", f"data_path={data}"], workdir)
    return workdir


def test_attention_weights_are_causal_distributions(tiny_music_run):
    recipe = registry.get_recipe("music_transformer")
    from zoo.engine import runs

    run = runs.load_run(recipe, tiny_music_run)
    model, info, config = run.model, run.info, run.config
    tokens, weights = recipe.module.attention_maps(model, info, config, "K:D\n|:dAF", 2)
    assert tokens == list("K:D\n|:dAF")
    assert weights.shape == (2, 9, 9)  # (heads, T, T)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    assert np.all(np.triu(weights, k=1) == 0)  # No token attends to a later one.


def test_attention_command_writes_a_png(tiny_music_run, tmp_path, capsys):
    out = tmp_path / "map.png"
    code = cli.main(["attention", "music_transformer", "--workdir", str(tiny_music_run),
                     "--text", "X:1\\nK:D\\n|:dAF", "--block", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = tf.io.decode_png(out.read_bytes())
    assert image.shape[0] > 100 and image.shape[1] > 200
    assert "2 heads, 13 tokens" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["music_transformer", "--text", "X:1 €"], "outside the model's vocabulary"),
        (["music_transformer", "--text", ""], "empty"),
        (["music_transformer", "--text", "d" * 17], "more than the model's max_length 16"),
        (["music_transformer", "--text", "dA", "--block", "3"], "blocks 1..2"),
        (["music_lstm", "--text", "dA"], "no attention to draw"),
    ],
)
def test_attention_command_errors_exit_2_with_one_line(tiny_music_run, capsys, arguments, message):
    code = cli.main(["attention", *arguments[:1], "--workdir", str(tiny_music_run), *arguments[1:]])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err

"""Translation: the generated corpus, the masked loss and metrics, decoding, and `zoo translate`.

- The corpus is what num2words and babel write, split by value (no test number
  or date is in train), tokenized reversibly, and fingerprinted.
- Padding never counts: not in the loss, not in the metrics.
- Decoding: the cached greedy decoder equals recomputing the whole prefix at
  every step, for both recipes; beam_size=1 is greedy; a wider beam never
  finds a less probable translation.
- Teacher-forced exact match equals greedy decoding's exact match (shipped model).
- `python -m zoo translate` prints the translation; bad input is one line, exit 2.

Each test covers a group of cases: every test pays for a fresh Keras session.
"""

import numpy as np
import pytest
import tensorflow as tf

import zoo
from datasets import translation
from recipes import _translation
from zoo.commands import cli
from zoo.hub import pretrained
from zoo.engine import runs


def test_the_corpus_is_real_reversible_and_split_by_value():
    assert translation.spanish_number(4321) == "cuatro mil trescientos veintiuno"
    assert translation.english_number(4321) == "four thousand, three hundred and twenty-one"
    import datetime

    date = datetime.date(2026, 12, 1)
    assert translation.english_date(date) == "Tuesday, December 1, 2026"
    assert translation.spanish_date(date) == "martes, 1 de diciembre de 2026"
    assert translation.tokenize("Tuesday, December 1, 2026") == ["Tuesday", ",", "December", "1", ",", "2", "0", "2", "6"]
    assert translation.tokenize("twenty-one") == ["twenty", "-", "one"]

    corpus = translation.corpus()
    values = {split: {(kind, value) for kind, value, _, _ in pairs} for split, pairs in corpus.items()}
    assert not values["test"] & values["train"] and not values["validation"] & values["train"]
    assert not values["test"] & values["validation"]
    sizes = {split: len(pairs) for split, pairs in corpus.items()}
    assert sum(sizes.values()) == translation.NUM_NUMBERS + translation.NUM_DATES
    assert 0.75 < sizes["train"] / sum(sizes.values()) < 0.85
    for kind, value, english, spanish in corpus["test"][:200]:
        for sentence in (english, spanish):
            assert translation.detokenize(translation.tokenize(sentence)) == sentence
        if kind == "number":
            assert english == translation.english_number(value) and spanish == translation.spanish_number(value)
    # Sources are short and long, so the bucket table has something to show.
    lengths = [len(translation.tokenize(english)) for _, _, english, _ in corpus["test"]]
    assert min(lengths) <= 3 and max(lengths) >= 20

    splits = translation.load()
    info = splits.info
    assert info.fingerprint == translation.load().info.fingerprint
    assert info.vocabulary[:3] == ("<pad>", "<start>", "<end>")
    (source, decoder_input), decoder_target = next(iter(splits.test.batch(4)))
    assert source.shape == (4, info.extras["source_length"])
    # The decoder input is <start> + the target shifted right; the target ends in <end>.
    np.testing.assert_array_equal(decoder_input[:, 0], translation.START_ID)
    np.testing.assert_array_equal(decoder_input[:, 1:], np.where(decoder_target[:, :-1] == translation.END_ID, 0, decoder_target[:, :-1]))
    english, spanish = info.extras["pairs"]["test"][0][2:]
    np.testing.assert_array_equal(source[0], translation.encode_source(english, info.vocabulary, info.extras["source_length"]))
    assert translation.decode_target(decoder_target[0], info.vocabulary) == spanish


def test_padding_counts_neither_in_the_loss_nor_in_the_metrics():
    rng = np.random.default_rng(0)
    targets = np.array([[5, 6, 2, 0, 0], [7, 8, 9, 10, 2]], np.int32)
    logits = rng.normal(size=(2, 5, 12)).astype("float32")
    right = np.zeros_like(logits)
    right[np.arange(2)[:, None], np.arange(5)[None], targets] = 10.0
    other = logits.copy()
    other[0, 3:] = 100 * rng.normal(size=(2, 12))  # Only the padded positions change.
    for function in (_translation.token_crossentropy, _translation.token_accuracy, _translation.exact_match):
        np.testing.assert_allclose(function(targets, logits), function(targets, other), rtol=1e-6)
    nats = -tf.nn.log_softmax(logits).numpy()[np.arange(2)[:, None], np.arange(5)[None], targets]
    np.testing.assert_allclose(
        _translation.token_crossentropy(targets, logits), [nats[0, :3].mean(), nats[1].mean()], rtol=1e-5
    )
    np.testing.assert_array_equal(_translation.exact_match(targets, right), [1.0, 1.0])
    wrong = right.copy()
    wrong[1, 2, 0] = 20.0  # One wrong token in the second sentence.
    np.testing.assert_array_equal(_translation.exact_match(targets, wrong), [1.0, 0.0])
    np.testing.assert_allclose(_translation.token_accuracy(targets, wrong), [1.0, 0.8])


def _naive_greedy(model, source_ids, max_length):
    """Greedy decoding that reruns the whole model on the whole prefix at every step (no cache)."""
    prefix = np.full((len(source_ids), 1), translation.START_ID, np.int32)
    for _ in range(max_length):
        logits = np.asarray(model([source_ids, prefix], training=False))[:, -1]
        prefix = np.concatenate([prefix, logits.argmax(-1)[:, None].astype(np.int32)], axis=1)
    outputs = prefix[:, 1:]
    for row in outputs:  # Zero everything after the first <end>, as `greedy` does.
        ends = np.flatnonzero(row == translation.END_ID)
        if len(ends):
            row[ends[0] + 1 :] = 0
    return outputs


def _log_probability(model, source_ids, target_ids):
    decoder_input = np.concatenate([[translation.START_ID], target_ids[:-1]])[None].astype(np.int32)
    log_probs = tf.nn.log_softmax(model([source_ids[None], decoder_input], training=False)).numpy()[0]
    return float(log_probs[np.arange(len(target_ids)), target_ids].sum())


# The naive decoder's first step attends over one token, which keras warns about.
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")
@pytest.mark.parametrize("name", ["translate_transformer", "translate_lstm", "translate_lstm_attention"])
def test_cached_greedy_equals_recomputing_and_beam_search_is_at_least_as_probable(name):
    recipe = zoo.get_recipe(name)
    config = zoo.make_config(recipe, {})
    splits = translation.load()
    info = splits.info
    (source, decoder_input), _ = next(iter(splits.test.batch(6)))
    model = runs.build_model(recipe, config, info, (source, decoder_input))
    # Sharpen the random model so its choices are not near-ties.
    head = model.get_layer("logits")
    head.kernel.assign(head.kernel * 20.0)
    max_length = 6  # Enough to compare; the naive decoder reruns the whole model at every step.
    greedy = _translation.greedy(model, source.numpy(), max_length)
    np.testing.assert_array_equal(greedy, _naive_greedy(model, source.numpy(), max_length))
    for row in range(1):
        ids = source.numpy()[row]
        greedy_ids = [token for token in greedy[row].tolist() if token]  # Up to and with its <end>.
        assert _translation.beam_search(model, ids, max_length, beam_size=1) == greedy_ids
        beam = _translation.beam_search(model, ids, max_length, beam_size=4)
        if greedy_ids[-1] == translation.END_ID and beam[-1] == translation.END_ID:
            assert _log_probability(model, ids, np.array(beam)) >= _log_probability(model, ids, np.array(greedy_ids)) - 1e-4


@pytest.mark.parametrize("name", ["translate_transformer", "translate_lstm", "translate_lstm_attention"])
def test_shipped_translator_translates_and_refuses_bad_input(name, capsys, monkeypatch):
    loaded = pretrained.load(name)
    info = loaded.info
    # Teacher-forced exact match (a METRIC) is greedy decoding's exact match.
    (source, decoder_input), target = next(iter(loaded.splits.test.batch(400)))
    decoded = _translation.greedy(loaded.model, source.numpy(), info.extras["target_length"])
    greedy = np.array([
        translation.decode_target(row, info.vocabulary) == spanish
        for row, (_, _, _, spanish) in zip(decoded, info.extras["pairs"]["test"])
    ])
    forced = np.asarray(_translation.exact_match(target, loaded.model([source, decoder_input], training=False)))
    np.testing.assert_array_equal(forced, greedy)
    assert 0 < greedy.sum()

    # The command line, with the checkpoint already loaded (loading is tested in test_pretrained.py).
    seen = []
    monkeypatch.setattr(zoo, "load", lambda recipe, workdir=None, pretrained=False: seen.append(pretrained) or loaded)

    english, spanish = info.extras["pairs"]["test"][int(np.flatnonzero(greedy)[0])][2:]
    assert cli.main(["translate", name, "--pretrained", "--text", english]) == 0
    assert capsys.readouterr().out.strip() == spanish
    assert _translation.translate(loaded.model, info, loaded.config, english, beam_size=3) == spanish

    too_long = " ".join(["one"] * (info.extras["source_length"] + 1))
    for arguments, phrase in [
        (["--text", "  "], "--text is empty"),
        (["--text", "twenty-one Zebras"], "outside the vocabulary ('Zebras')"),
        (["--text", too_long], f"more than the {info.extras['source_length']} the model reads"),
        (["--beam-size", "0", "--text", "one"], "--beam-size 0 is not valid"),
        (["--beam-size", "100", "--text", "one"], "beam_size=100 is not valid"),
    ]:
        assert cli.main(["translate", name, "--pretrained", *arguments]) == 2
        error = capsys.readouterr().err.strip()
        assert phrase in error and len(error.splitlines()) == 1, error
    assert cli.main(["translate", "digits_mlp", "--text", "one"]) == 2
    assert "cannot translate" in capsys.readouterr().err
    assert seen and all(seen)  # --pretrained reached the loader.

"""Translation: the generated corpus, the masked loss and metrics, decoding, and `zoo translate`.

- The corpus is what num2words and babel write, split by value (no test number
  or date is in train), tokenized reversibly, and fingerprinted.
- Padding never counts: not in the loss, not in the metrics.
- Decoding, for every recipe whose TASK is "translation" (from the registry):
  the recipe's own cached decoder (`decoder_steps`, what `translate` and
  `report` use) equals rerunning the whole model on the growing prefix at
  every step, tokens and log-probabilities; beam_size=1 is greedy; a wider
  beam never finds a less probable translation; the in-graph beam search is
  the host-side one written out below, and the XLA loops (`compiled=True`)
  decode as the graph ones (on a toy decoder, which compiles in moments).
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


# Every recipe whose TASK is "translation", found through the registry: a new one is tested here unwritten.
TRANSLATORS = [name for name in zoo.list_recipes() if zoo.get_recipe(name).task == "translation"]


def _full_model_greedy(model, source_ids, max_length):
    """Greedy decoding with no cache: the whole model reruns on the growing target prefix at every step.

    Returns (target ids (batch, max_length), 0 after each <end>, as `greedy` gives them;
    the log-probabilities of every step (batch, max_length, vocab)).
    """
    prefix = np.full((len(source_ids), 1), translation.START_ID, np.int32)  # (batch, 1): <start>
    log_probs = []
    for _ in range(max_length):
        logits = model([source_ids, prefix], training=False)[:, -1]  # (batch, vocab): the last position's
        log_probs.append(tf.nn.log_softmax(logits).numpy())
        prefix = np.concatenate([prefix, log_probs[-1].argmax(-1)[:, None].astype(np.int32)], axis=1)
    outputs = prefix[:, 1:]
    for row in outputs:  # Zero everything after the first <end>, as `greedy` does.
        ends = np.flatnonzero(row == translation.END_ID)
        if len(ends):
            row[ends[0] + 1 :] = 0
    return outputs, np.stack(log_probs, axis=1)


def _cached_log_probs(model, decoder_steps, source_ids, target_ids):
    """The recipe's compiled step fed `target_ids` (batch, time) one token at a time: (batch, time, vocab)."""
    steps = _translation.decoder(model, decoder_steps)
    state = steps.start(tf.constant(source_ids))
    tokens = np.full(len(source_ids), translation.START_ID, np.int32)
    log_probs = []
    for index in range(target_ids.shape[1]):
        step_log_probs, state = steps.step(tf.constant(tokens), state, tf.constant(index, tf.int32))
        log_probs.append(step_log_probs.numpy())
        tokens = target_ids[:, index]
    return np.stack(log_probs, axis=1)


def _host_beam_search(steps, source_ids, max_length, beam_size):
    """`_translation.beam_search` as plain Python around a Decoder's step: the reference of its graph loop."""
    state = steps.start(tf.constant(np.repeat(np.asarray(source_ids, np.int32)[None], beam_size, axis=0)))
    alive = [[] for _ in range(beam_size)]
    scores = np.array([0.0] + [-np.inf] * (beam_size - 1))  # Only the first beam is live at the start.
    tokens = np.full(beam_size, translation.START_ID, np.int32)
    ended = []  # (score, ids)
    for index in range(max_length):
        log_probs, state = steps.step(tf.constant(tokens), state, tf.constant(index, tf.int32))
        totals = scores[:, None] + log_probs.numpy().astype(np.float64)  # (beams, vocab)
        order = np.argsort(-totals, axis=None, kind="stable")[: 2 * beam_size]
        next_alive, next_scores, parents, next_tokens = [], [], [], []
        for flat in order:
            beam, token = divmod(int(flat), totals.shape[1])
            if not np.isfinite(totals[beam, token]):
                continue
            if token == translation.END_ID:
                ended.append((totals[beam, token], alive[beam] + [token]))
            elif len(next_alive) < beam_size:
                next_alive.append(alive[beam] + [token])
                next_scores.append(totals[beam, token])
                parents.append(beam)
                next_tokens.append(token)
        best_ended = max((score for score, _ in ended), default=-np.inf)
        if not next_alive or (len(ended) >= beam_size and best_ended >= max(next_scores)):
            break
        while len(next_alive) < beam_size:  # Fewer live candidates than beams: pad with dead copies.
            next_alive.append(next_alive[0])
            next_scores.append(-np.inf)
            parents.append(parents[0])
            next_tokens.append(next_tokens[0])
        alive, scores, tokens = next_alive, np.array(next_scores), np.array(next_tokens, np.int32)
        state = tf.nest.map_structure(lambda tensor, parents=parents: tf.gather(tensor, parents), state)
    if not ended:  # Nothing ended within max_length: the best live hypothesis.
        ended = [(scores[0], alive[0])]
    return max(ended, key=lambda item: item[0])[1]


def _log_probability(model, source_ids, target_ids):
    decoder_input = np.concatenate([[translation.START_ID], target_ids[:-1]])[None].astype(np.int32)
    log_probs = tf.nn.log_softmax(model([source_ids[None], decoder_input], training=False)).numpy()[0]
    return float(log_probs[np.arange(len(target_ids)), target_ids].sum())


# The full model's first step attends over one token, which keras warns about.
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")
@pytest.mark.parametrize("name", TRANSLATORS)
def test_cached_greedy_equals_full_model_greedy_and_beam_search_is_at_least_as_probable(name):
    """The recipe's own `decoder_steps` (what `translate` and `report` decode with) is its model, one token at a time."""
    recipe = zoo.get_recipe(name)
    config = zoo.make_config(recipe, {})
    info = recipe.module.load_data(config).info
    decoder_steps = recipe.hook("decoder_steps")
    assert decoder_steps is not None, f"{name} has TASK 'translation' but no decoder_steps(model) next to build_model"
    # Random weights, as built: their choices differ from sentence to sentence (checked below).
    model = recipe.module.build_model(config, info)
    pairs = info.extras["pairs"]["test"][::50][:32]  # Short and long numbers, and dates.
    english = [source for _, _, source, _ in pairs]
    source_ids = np.stack([translation.encode_source(text, info.vocabulary, info.extras["source_length"]) for text in english])
    max_length = info.extras["target_length"]

    expected, expected_log_probs = _full_model_greedy(model, source_ids, max_length)
    assert len({row.tobytes() for row in expected}) > len(expected) // 2  # Not one output for every source.
    cached = _translation.greedy(model, decoder_steps, source_ids, max_length)
    np.testing.assert_array_equal(cached, expected, err_msg=f"{name}: decoder_steps does not decode as build_model's model")
    # The step computes the model's whole distribution, not only its argmax, along the same greedy path.
    path = expected_log_probs.argmax(-1).astype(np.int32)  # (batch, max_length): the full model's choices, no padding
    np.testing.assert_allclose(_cached_log_probs(model, decoder_steps, source_ids, path), expected_log_probs, atol=1e-4)
    # What a user calls: the recipe's translate hook, one sentence at a time.
    translate = recipe.hook("translate")
    for text, row in zip(english[:8], expected[:8]):
        assert translate(model, info, config, text, 1) == translation.decode_target(row, info.vocabulary)

    ids = source_ids[0]
    greedy_ids = [token for token in cached[0].tolist() if token]  # Up to and with its <end>.
    assert _translation.beam_search(model, decoder_steps, ids, max_length, beam_size=1) == greedy_ids
    beam = _translation.beam_search(model, decoder_steps, ids, max_length, beam_size=4)
    if greedy_ids[-1] == translation.END_ID and beam[-1] == translation.END_ID:
        assert _log_probability(model, ids, np.array(beam)) >= _log_probability(model, ids, np.array(greedy_ids)) - 1e-4


def test_the_graph_and_xla_beam_searches_are_the_host_side_one_on_a_toy_decoder():
    """Beam search's bookkeeping (ties, endings, dead beams, nothing ended) on a decoder of random tables: cheap to compile."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    vocab_size, max_length = 9, 7
    # Scores by (position, previous token), coarse so that totals tie: the search meets ties, hypotheses that
    # end at positions 1 to 7 and, after token 4 (which <end> never follows), searches where none ends.
    weights = np.log(rng.integers(1, 4, size=(max_length, vocab_size, vocab_size)) / 3.0)
    weights[:3, :, translation.END_ID] = -6.0  # Rarely an early <end>, then as likely as any other token.
    weights[:, 4, translation.END_ID] = -30.0
    table = tf.constant(weights, tf.float32)

    def start(source_ids):
        return {"bias": tf.cast(tf.one_hot(source_ids[:, 0] % vocab_size, vocab_size), tf.float32)}  # (batch, vocab)

    def step(tokens, state, index):
        scores = tf.gather(table[index], tokens % vocab_size) + state["bias"]  # (batch, vocab)
        return tf.nn.log_softmax(scores), state

    steps = _translation.Decoder(start, step)
    for first in range(vocab_size):
        source = np.array([first, 3, 0], np.int32)
        for beam_size in (2, 3, 5):  # 2 * 5 candidates outnumber the vocabulary on the first step.
            expected = _host_beam_search(steps, source, max_length, beam_size)
            sources = np.repeat(source[None], beam_size, axis=0)
            for compiled in (False, True):
                ids, length = steps.run("beam", sources, max_length, compiled)
                assert ids.numpy()[: int(length)].tolist() == expected, (first, beam_size, compiled)
    sources = np.stack([np.array([token, 3, 0], np.int32) for token in range(vocab_size)])
    np.testing.assert_array_equal(steps.run("greedy", sources, max_length, True), steps.run("greedy", sources, max_length, False))


@pytest.mark.parametrize("name", ["translate_transformer", "translate_lstm", "translate_lstm_attention"])
def test_shipped_translator_translates_and_refuses_bad_input(name, capsys, monkeypatch):
    loaded = pretrained.load(name)
    info = loaded.info
    # Teacher-forced exact match (a METRIC) is greedy decoding's exact match.
    (source, decoder_input), target = next(iter(loaded.splits.test.batch(400)))
    decoded = _translation.greedy(loaded.model, loaded.recipe.hook("decoder_steps"), source.numpy(), info.extras["target_length"])
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
    assert loaded.recipe.hook("translate")(loaded.model, info, loaded.config, english, beam_size=3) == spanish

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

"""What the translation recipes share: the masked per-token loss and metrics, decoding, BLEU.

A file whose name starts with `_` is not a recipe, so the registry skips this one.

**Loss and metrics, padding masked out.** The model's output is one row of
logits per target position `(batch, target_length, vocab)`; the targets are
padded with 0 after `<end>`. The trainer averages per-example values, so each
function here returns one value per sentence, computed over that sentence's
real tokens only (its `<end>` included, its padding never):

- `token_crossentropy`: the mean cross-entropy of the sentence's tokens
  (nats per token), under teacher forcing;
- `token_accuracy`: the share of its tokens whose highest logit is right;
- `exact_match`: 1 when every token is right, else 0. Under teacher forcing
  every position sees the true prefix, so this is exactly greedy decoding's
  whole-sentence exact match: if every argmax is right, greedy decoding
  writes the reference token by token (and stops at its `<end>`); if one is
  wrong, greedy decoding writes that wrong token first. (The report checks it
  with real decoding, in `greedy_exact_match`.)

**Decoding.** Each recipe says how its own model decodes one token at a
time, in its file next to `build_model`:

    def decoder_steps(model):
        ...   # build_model's own layers, taken from `model`
        return start, step

    start(source_ids)            # (batch, source_time) int32 -> state
    step(tokens, state, index)   # tokens (batch,) at target position index
                                 #   -> (log_probs (batch, vocab), state)

`start` runs the encoder once; `step` feeds one target token through the
decoder with whatever it caches (the transformer's key/value caches, the
LSTM's (h, c), the source's projected keys and values). The state is a nest
of tensors whose first axis is the batch. This module only runs the loops:
`decoder` compiles a recipe's pair once per model, `greedy` decodes a whole
batch in one graph (the token loop, argmax and stop included, so the host is
visited once per batch, not once per token), and `beam_search` keeps `beam_size` hypotheses per sentence (sum of
token log-probabilities; a finished hypothesis is kept until no live one can
beat it), and beam_size=1 is greedy. It looks up no layer, so a copied recipe
may add or rename layers: tests/test_translation.py checks, for every
translation recipe in the registry, that its cached decoding is greedy
decoding with the whole model.

**Report.** After training, `report` decodes the test split greedily and
returns whole-sentence exact match, corpus BLEU and chrF (sacrebleu, on the
detokenized Spanish), which the model card summarises over seeds.
"""

import typing
import weakref

import keras
import numpy as np
from keras import ops

from datasets import translation
from recipes import _common

MAX_BEAM_SIZE = 64


# ---------------------------------------------------------------- loss and metrics


def _real_tokens(targets):
    return ops.cast(ops.not_equal(targets, translation.PADDING_ID), "float32")  # (batch, time)


def _mean_over_real(values, targets):
    real = _real_tokens(targets)
    return ops.sum(values * real, axis=-1) / ops.maximum(ops.sum(real, axis=-1), 1.0)  # (batch,)


def token_crossentropy(targets, logits):
    """Per sentence: mean cross-entropy (nats) over its real target tokens."""
    nats = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)  # (batch, time)
    return _mean_over_real(nats, targets)


def _correct(targets, logits):
    predicted = ops.argmax(logits, axis=-1)
    return ops.cast(ops.equal(predicted, ops.cast(targets, predicted.dtype)), "float32")  # (batch, time)


def token_accuracy(targets, logits):
    """Per sentence: the share of its real target tokens predicted right (teacher forcing)."""
    return _mean_over_real(_correct(targets, logits), targets)


def exact_match(targets, logits):
    """Per sentence: 1.0 when every real target token is right, which is greedy decoding's exact match."""
    wrong = (1.0 - _correct(targets, logits)) * _real_tokens(targets)
    return ops.cast(ops.equal(ops.sum(wrong, axis=-1), 0.0), "float32")


METRICS = {"exact_match": exact_match, "token_accuracy": token_accuracy}


# ---------------------------------------------------------------- decoding


class Decoder(typing.NamedTuple):
    """A recipe's `decoder_steps(model)`, compiled: what `greedy` and `beam_search` call."""

    start: object  # source_ids (batch, source_time) int32 -> state
    step: object  # (tokens (batch,) int32, state, index) -> (log_probs (batch, vocab), state)
    greedy: object  # (source_ids (batch, source_time) int32, max_length) -> (batch, max_length) int32


_DECODERS = weakref.WeakKeyDictionary()  # model -> {decoder_steps: Decoder}


def decoder(model, decoder_steps) -> Decoder:
    """The recipe's (start, step) for `model`, made by `decoder_steps(model)` and compiled once per model."""
    import tensorflow as tf

    made = _DECODERS.setdefault(model, {})
    if decoder_steps not in made:
        start, step = decoder_steps(model)

        def greedy_loop(source_ids, max_length):
            """The whole greedy decoding in one graph: no host visit per token."""
            state = start(source_ids)
            batch_size = tf.shape(source_ids)[0]
            tokens = tf.fill([batch_size], translation.START_ID)
            finished = tf.zeros([batch_size], tf.bool)
            chosen_rows = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None])
            index = tf.constant(0, tf.int32)
            while index < max_length and not tf.reduce_all(finished):
                log_probs, state = step(tokens, state, index)
                chosen = tf.cast(tf.argmax(log_probs, axis=-1), tf.int32)  # (batch,): the first of equal maxima
                chosen = tf.where(finished, translation.PADDING_ID, chosen)
                chosen_rows = chosen_rows.write(index, chosen)
                finished = finished | tf.equal(chosen, translation.END_ID)
                tokens = chosen
                index += 1
            decoded = tf.transpose(chosen_rows.stack())  # (batch, steps taken)
            return tf.pad(decoded, [[0, 0], [0, max_length - index]])  # (batch, max_length): 0 after <end>

        made[decoder_steps] = Decoder(
            start=tf.function(start, input_signature=[tf.TensorSpec([None, None], tf.int32)]),
            step=tf.function(step, reduce_retracing=True),
            greedy=tf.function(
                greedy_loop, input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([], tf.int32)]
            ),
        )
    return made[decoder_steps]


def greedy(model, decoder_steps, source_ids, max_length: int) -> np.ndarray:
    """Greedy decoding of a batch: int32 (batch, max_length) target ids, 0 after each <end>."""
    import tensorflow as tf

    steps = decoder(model, decoder_steps)
    source_ids = tf.constant(np.asarray(source_ids, np.int32))
    return steps.greedy(source_ids, tf.constant(int(max_length), tf.int32)).numpy()


def beam_search(model, decoder_steps, source_ids, max_length: int, beam_size: int) -> list:
    """The most probable target ids of ONE source (1-D ids) under a beam of `beam_size`.

    Scores are sums of token log-probabilities. A hypothesis ends at <end>;
    the search stops when `beam_size` have ended and none still alive scores
    higher than the best ended one (scores only fall as tokens are added).
    """
    import tensorflow as tf

    steps = decoder(model, decoder_steps)
    sources = tf.constant(np.repeat(np.asarray(source_ids, np.int32)[None], beam_size, axis=0))
    state = steps.start(sources)
    alive = [[] for _ in range(beam_size)]
    # Only the first beam is live at the start: the others are copies of it.
    scores = np.array([0.0] + [-np.inf] * (beam_size - 1))
    tokens = np.full(beam_size, translation.START_ID, np.int32)
    ended = []  # (score, ids)
    for index in range(max_length):
        log_probs, state = steps.step(tf.constant(tokens), state, tf.constant(index, tf.int32))
        totals = scores[:, None] + log_probs.numpy().astype(np.float64)  # (beams, vocab)
        order = np.argsort(-totals, axis=None)[: 2 * beam_size]
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
        state = tf.nest.map_structure(lambda tensor: tf.gather(tensor, parents), state)
    if not ended:  # Nothing ended within max_length: the best live hypothesis.
        ended = [(scores[0], alive[0])]
    return max(ended, key=lambda item: item[0])[1]


# ---------------------------------------------------------------- translate and report


def check_text(text: str, info) -> np.ndarray:
    """The source ids of a user's English text; InputError (one line) when it cannot be read."""
    source_length = info.extras["source_length"]
    if not isinstance(text, str) or not text.strip():
        raise _common.InputError(
            "text is empty; expected an English number or date written out; "
            "pass e.g. --text 'four thousand, three hundred and twenty-one'."
        )
    try:
        return translation.encode_source(text, info.vocabulary, source_length)
    except ValueError as error:
        raise _common.InputError(
            f"{error}; expected numbers written out ('twenty-one') or dates like 'Tuesday, December 1, 2026' "
            f"in at most {source_length} tokens, with the words the model knows (case matters); change --text."
        ) from None


def check_beam_size(beam_size) -> int:
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or not 1 <= beam_size <= MAX_BEAM_SIZE:
        raise _common.InputError(
            f"beam_size={beam_size!r} is not valid; expected an int in [1, {MAX_BEAM_SIZE}] "
            "(1 is greedy decoding); pass e.g. --beam-size 4."
        )
    return beam_size


def translate(model, decoder_steps, info, text: str, beam_size: int = 1) -> str:
    """The Spanish translation of `text` (greedy for beam_size=1, else beam search)."""
    source_ids = check_text(text, info)
    beam_size = check_beam_size(beam_size)
    target_length = info.extras["target_length"]
    if beam_size == 1:
        ids = greedy(model, decoder_steps, source_ids[None], target_length)[0]
    else:
        ids = beam_search(model, decoder_steps, source_ids, target_length, beam_size)
    return translation.decode_target(ids, info.vocabulary)


def translate_split(model, decoder_steps, info, split: str = "test", batch_size: int = 4096) -> tuple:
    """(English sources, greedy Spanish hypotheses, Spanish references) of one split."""
    pairs = info.extras["pairs"][split]
    sources = [english for _, _, english, _ in pairs]
    references = [spanish for _, _, _, spanish in pairs]
    ids = np.stack([translation.encode_source(text, info.vocabulary, info.extras["source_length"]) for text in sources])
    hypotheses = []
    for start in range(0, len(ids), batch_size):
        decoded = greedy(model, decoder_steps, ids[start : start + batch_size], info.extras["target_length"])
        hypotheses.extend(translation.decode_target(row, info.vocabulary) for row in decoded)
    return sources, hypotheses, references


def scores(hypotheses, references) -> dict:
    """Whole-sentence exact match, corpus BLEU and chrF (sacrebleu, 0-100) of detokenized text."""
    import sacrebleu

    return {
        "greedy_exact_match": float(np.mean([h == r for h, r in zip(hypotheses, references)])),
        "bleu": float(sacrebleu.corpus_bleu(hypotheses, [references]).score),
        "chrf": float(sacrebleu.corpus_chrf(hypotheses, [references]).score),
    }


def report(model, decoder_steps, splits) -> dict:
    """Greedy decoding of the test split: exact match, BLEU and chrF (the card's mean ± std)."""
    _, hypotheses, references = translate_split(model, decoder_steps, splits.info, "test")
    return {f"test_{name}": round(value, 6) for name, value in scores(hypotheses, references).items()}

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
visited once per batch, not once per token), and `beam_search` keeps
`beam_size` hypotheses per sentence (sum of token log-probabilities; a
finished hypothesis is kept until no live one can beat it), also in one graph,
and beam_size=1 is greedy. It looks up no layer, so a copied recipe may add or
rename layers: tests/test_translation.py checks, for every translation recipe
in the registry, that its cached decoding is greedy decoding with the whole
model.

**XLA on request.** Without XLA, TensorFlow runs a token's few hundred small
ops one by one (a transformer's step is ~380 of them), and their per-op cost
is most of the time: one sentence takes the shipped transformer ~30 ms, in
XLA ~3 ms. But XLA compiles each batch size anew, in seconds (about 2-8 s on
2 cores), which a few decodes never earn back, so the loops run as plain
graphs unless a caller passes `compiled=True` (a long batch job, say). Both
give the same ids (tests/test_translation.py checks it on a toy decoder).
benchmarks/translate_speed.py measures both.

**Report.** After training, `report` decodes the test split greedily and
returns whole-sentence exact match, corpus BLEU and chrF (sacrebleu, on the
detokenized Spanish), which the model card summarises over seeds.
"""

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


class Decoder:
    """A recipe's `decoder_steps(model)`, compiled: what `greedy` and `beam_search` call.

    `start` and `step` are the recipe's pair as tf.functions (the tests step
    through them by hand). `loop(kind, max_length, compiled)` is a whole
    decoding loop ("greedy" or "beam") in one graph, or in XLA.
    """

    def __init__(self, start, step):
        import tensorflow as tf

        self._loops = {"greedy": _greedy_loop(start, step), "beam": _beam_loop(start, step)}
        self.start = tf.function(start, input_signature=[tf.TensorSpec([None, None], tf.int32)])
        self.step = tf.function(step, reduce_retracing=True)
        self._functions = {}

    def loop(self, kind: str, max_length: int, compiled: bool):
        """The `kind` loop for `max_length` target tokens: source_ids (batch, source_time) int32 -> its result.

        Traced once; with `compiled`, in XLA, one program per batch size, made
        on its first call. It is returned as a concrete function, which a call
        reaches without matching its arguments to the tf.function's signature
        (that hashes every captured weight: ~0.3 ms a call for the shipped
        transformer's 94, against ~1.5 ms for its XLA decoding of a sentence).
        """
        import tensorflow as tf

        if (kind, max_length, compiled) not in self._functions:
            loop = self._loops[kind]
            function = tf.function(
                lambda source_ids: loop(source_ids, max_length),
                input_signature=[tf.TensorSpec([None, None], tf.int32)],
                jit_compile=compiled,
            )
            self._functions[kind, max_length, compiled] = function.get_concrete_function()
        return self._functions[kind, max_length, compiled]

    def run(self, kind: str, source_ids, max_length: int, compiled: bool = False):
        """Runs the `kind` loop on source_ids (numpy int32), in a plain graph or (`compiled`) in XLA."""
        import tensorflow as tf

        return self.loop(kind, max_length, bool(compiled))(tf.constant(source_ids))


def _greedy_loop(start, step):
    """source_ids (batch, source_time), max_length -> greedy target ids (batch, max_length), 0 after <end>."""
    import tensorflow as tf

    def greedy_loop(source_ids, max_length):
        state = start(source_ids)
        batch_size = tf.shape(source_ids)[0]
        tokens = tf.fill([batch_size], translation.START_ID)
        finished = tf.zeros([batch_size], tf.bool)
        decoded = tf.zeros([max_length, batch_size], tf.int32)  # (max_length, batch): stays 0 after <end>
        index = tf.constant(0, tf.int32)
        while index < max_length and not tf.reduce_all(finished):
            log_probs, state = step(tokens, state, index)
            chosen = tf.cast(tf.argmax(log_probs, axis=-1), tf.int32)  # (batch,): the first of equal maxima
            chosen = tf.where(finished, translation.PADDING_ID, chosen)
            decoded = tf.tensor_scatter_nd_update(decoded, [[index]], chosen[tf.newaxis])
            finished = finished | tf.equal(chosen, translation.END_ID)
            tokens = chosen
            index += 1
        return tf.transpose(decoded)  # (batch, max_length)

    return greedy_loop


def _beam_loop(start, step):
    """source_ids (beams, source_time): one source repeated per beam, max_length -> (ids (max_length,), length).

    The search of `beam_search`, every step in the graph. Each step ranks the
    2 * beams best (hypothesis, token) extensions (ties: the lower index
    first); an extension by <end> ends a hypothesis, and of all ended ones the
    best-scoring is kept (on a tie, the one that ended first); the others,
    best first, become the next beams (as many as there are beams).
    """
    import tensorflow as tf

    def beam_loop(source_ids, max_length):
        beam_size = tf.shape(source_ids)[0]
        state = start(source_ids)
        minus_infinity = tf.constant(-np.inf, tf.float64)
        # Only the first beam is live at the start: the others are copies of it.
        scores = tf.concat([tf.zeros([1], tf.float64), tf.fill([beam_size - 1], minus_infinity)], axis=0)  # (beams,)
        tokens = tf.fill([beam_size], translation.START_ID)
        alive = tf.zeros([max_length, beam_size], tf.int32)  # (max_length, beams): each live hypothesis's tokens
        alive_length = tf.constant(0, tf.int32)
        best_ids = tf.zeros([max_length], tf.int32)  # the best ended hypothesis so far, <end> included
        best_length = tf.constant(0, tf.int32)
        best_score = minus_infinity
        ended_count = tf.constant(0, tf.int32)
        index = tf.constant(0, tf.int32)
        searching = tf.constant(True)
        while searching and index < max_length:
            log_probs, state = step(tokens, state, index)
            totals = scores[:, tf.newaxis] + tf.cast(log_probs, tf.float64)  # (beams, vocab)
            vocab_size = tf.shape(totals)[1]
            flat_totals = tf.reshape(totals, [-1])  # (beams * vocab,)
            values, flat = tf.math.top_k(flat_totals, k=2 * beam_size)  # (2 * beams,) each, best first
            parents, candidates = flat // vocab_size, flat % vocab_size
            finite = tf.math.is_finite(values)
            ends = finite & tf.equal(candidates, translation.END_ID)
            ended_count += tf.reduce_sum(tf.cast(ends, tf.int32))
            first_end = tf.argmax(tf.cast(ends, tf.int32), output_type=tf.int32)  # this step's best ending
            if tf.reduce_any(ends) and values[first_end] > best_score:
                best_score = values[first_end]
                best_ids = tf.tensor_scatter_nd_update(alive[:, parents[first_end]], [[index]], [translation.END_ID])
                best_length = index + 1
            live = finite & tf.logical_not(ends)
            rank = tf.cumsum(tf.cast(live, tf.int32)) - 1  # (2 * beams,): the order among the live extensions
            kept = live & (rank < beam_size)
            kept_count = tf.reduce_sum(tf.cast(kept, tf.int32))
            # The kept extensions, best first, then the others (replaced below by dead copies of the first).
            order = tf.argsort(tf.where(kept, rank, 2 * beam_size), stable=True)[:beam_size]  # (beams,)
            if kept_count == 0 or (ended_count >= beam_size and best_score >= values[order[0]]):
                searching = tf.constant(False)
            else:
                is_kept = tf.range(beam_size) < kept_count
                order = tf.where(is_kept, order, order[0])
                scores = tf.where(is_kept, tf.gather(values, order), minus_infinity)
                tokens = tf.gather(candidates, order)
                beams = tf.gather(parents, order)
                alive = tf.tensor_scatter_nd_update(tf.gather(alive, beams, axis=1), [[index]], tokens[tf.newaxis])
                alive_length = index + 1
                state = tf.nest.map_structure(lambda tensor, beams=beams: tf.gather(tensor, beams), state)
                index += 1
        if ended_count == 0:  # Nothing ended within max_length: the best live hypothesis.
            return alive[:, 0], alive_length
        return best_ids, best_length

    return beam_loop


_DECODERS = weakref.WeakKeyDictionary()  # model -> {decoder_steps: Decoder}


def decoder(model, decoder_steps) -> Decoder:
    """The recipe's (start, step) for `model`, made by `decoder_steps(model)` and compiled once per model."""
    made = _DECODERS.setdefault(model, {})
    if decoder_steps not in made:
        made[decoder_steps] = Decoder(*decoder_steps(model))
    return made[decoder_steps]


def greedy(model, decoder_steps, source_ids, max_length: int, compiled: bool = False) -> np.ndarray:
    """Greedy decoding of a batch: int32 (batch, max_length) target ids, 0 after each <end>.

    compiled: True runs the loop in XLA (compiled once per batch size, in
    seconds), False (the default) in a plain graph; the same ids either way.
    """
    source_ids = np.asarray(source_ids, np.int32)
    return decoder(model, decoder_steps).run("greedy", source_ids, int(max_length), compiled).numpy()


def beam_search(model, decoder_steps, source_ids, max_length: int, beam_size: int, compiled: bool = False) -> list:
    """The most probable target ids of ONE source (1-D ids) under a beam of `beam_size`.

    Scores are sums of token log-probabilities. A hypothesis ends at <end>;
    the search stops when `beam_size` have ended and none still alive scores
    higher than the best ended one (scores only fall as tokens are added).
    The whole search runs in one graph (in XLA with `compiled`, as in `greedy`).
    """
    sources = np.repeat(np.asarray(source_ids, np.int32)[np.newaxis], beam_size, axis=0)  # (beams, source_time)
    ids, length = decoder(model, decoder_steps).run("beam", sources, int(max_length), compiled)
    return ids.numpy()[: int(length)].tolist()


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


def translate_split(model, decoder_steps, info, split: str = "test", batch_size: int = 4096, compiled: bool = False) -> tuple:
    """(English sources, greedy Spanish hypotheses, Spanish references) of one split (`compiled`: see `greedy`)."""
    pairs = info.extras["pairs"][split]
    sources = [english for _, _, english, _ in pairs]
    references = [spanish for _, _, _, spanish in pairs]
    ids = np.stack([translation.encode_source(text, info.vocabulary, info.extras["source_length"]) for text in sources])
    hypotheses = []
    for start in range(0, len(ids), batch_size):
        decoded = greedy(model, decoder_steps, ids[start : start + batch_size], info.extras["target_length"], compiled)
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

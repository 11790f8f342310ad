"""What the transformer recipes share: the causal character LM, cached sampling, attention maps.

A file whose name starts with `_` is not a recipe, so the registry skips this one.

**The model** (built in each recipe, e.g. recipes/music_transformer.py) is GPT
in miniature: PositionalEmbedding (token + learned position) -> causal pre-norm
TransformerBlocks -> a final LayerNormalization -> an output Dense over the
vocabulary. Every position predicts the next character, and the causal mask
keeps it from peeking at the answer. The sampler finds these layers by type,
so a copied recipe may name them as it likes.

**Sampling with a key/value cache.** Generating token t with a plain forward
pass recomputes the keys and values of all t-1 earlier tokens, although they
never change (the mask is causal). `generate` keeps them instead: each block
holds a `(key_cache, value_cache)` pair of fixed shape
`(1, heads, window, head_dim)`, and the prompt is fed in one pass (prefill), then
each step feeds ONE new token, which writes its key and value at its
position and attends to the positions before it. The whole loop runs in one `tf.function` whose shapes never
change, so it traces once per model. Once a model has been asked for
COMPILE_AFTER_TOKENS tokens in a process, the token loop is also compiled with
XLA (`jit_compile`), CHUNK tokens per compiled call, the calls looped inside
the same graph: without XLA, TensorFlow runs the ~200 small ops of one token
one by one and their per-op cost is most of the time (several times slower),
but the compilation itself takes seconds, which a short sample never earns
back. The prompt's one-pass prefill is never in XLA (its length varies, and
XLA compiles once per shape).

**Longer than the window.** The position table has `window` (=
sequence_length) rows, so the model never sees more than `window` tokens.
With learned absolute positions a full cache cannot simply slide by one (the
keys carry their positions), so when the cache is full the sampler RESTARTS
it: it keeps the last `window // 2` tokens, recomputes their keys and values
at positions 0 .. window//2 - 1 in one batched pass, and continues. Every
token is therefore predicted from at least window // 2 and at most window - 1
earlier tokens; the cost is one half-window pass per window // 2 tokens.
`generate_naive` implements the same context rule by recomputing the full
context for every token; tests check the two agree, and benchmarks compare
their speed.

Random draws use a stateless RNG seeded with (seed, step), as in
recipes/_sequence.py, so a seed always gives the same text. XLA's own
`stateless_categorical` draws other numbers than TensorFlow's CPU kernel, so
`draw` writes that kernel out in plain ops (its Philox-4x32-10 generator,
seeded the same way, and its inverse-CDF search): the compiled sampler draws
the tokens the uncompiled one did, and the same seed gives the same tune.
"""

import weakref

import keras
import numpy as np
import tensorflow as tf

import layers
from recipes import _common
from recipes import _sequence

def embedding_of(model):
    """The model's PositionalEmbedding (its `max_length` is the context window)."""
    return _sequence.only_layer(model, layers.PositionalEmbedding)


def blocks_of(model) -> list:
    """The TransformerBlocks of `model`, in order."""
    return [layer for layer in model.layers if isinstance(layer, layers.TransformerBlock)]


class _Parts:
    """The layers of a transformer LM that sampling steps through by hand: the embedding and blocks by
    type, and whatever follows the last block as the model itself computes it."""

    def __init__(self, model):
        self.embedding = embedding_of(model)
        self.blocks = blocks_of(model)
        # Everything build_model puts after the last block (the final norm, the vocabulary head, and any
        # layer a copy adds), taken from the model itself: the sampler steps through exactly that.
        self.after_blocks = keras.Model(self.blocks[-1].output, model.output)
        self.window = self.embedding.max_length
        self.keep = max(1, self.window // 2)  # Tokens kept when the cache restarts.

    def empty_caches(self):
        return [block.init_cache(1, self.window) for block in self.blocks]

    def forward(self, token_ids, caches, start):
        """Feeds token_ids (1, time) at positions start.. through the caches.

        Returns (logits of the last token (1, vocab), updated caches).
        """
        hidden = self.embedding(token_ids, start_position=start)  # (1, time, model_dim)
        updated = []
        for block, cache in zip(self.blocks, caches):
            hidden, cache = block(hidden, cache=cache, cache_index=start, training=False)
            updated.append(cache)
        logits = self.after_blocks(hidden[:, -1:, :], training=False)  # (1, 1, vocab)
        return logits[:, 0, :], updated  # (1, vocab)


# ------------------------------------------------------------- one seeded draw, as XLA can compile it

# Philox-4x32-10 (Salmon et al., 2011) as TensorFlow's random kernels run it.
_PHILOX_MULTIPLIERS = (0xD2511F53, 0xCD9E8D57)
_PHILOX_KEY_STEPS = (0x9E3779B9, 0xBB67AE85)
_SEED_SCRAMBLE_KEY = (0x3EC8F720, 0x02461E29)  # TensorFlow's fixed key that turns a seed into a Philox key.


def _low_word(value):
    """uint64 -> its low 32 bits as uint32."""
    return tf.cast(tf.bitwise.bitwise_and(value, tf.constant(0xFFFFFFFF, tf.uint64)), tf.uint32)


def _high_word(value):
    """uint64 -> its high 32 bits as uint32."""
    return tf.cast(tf.bitwise.right_shift(value, tf.constant(32, tf.uint64)), tf.uint32)


def _philox(counter, key):
    """Ten Philox rounds: (4 uint32 counter words, 2 uint32 key words) -> 4 random uint32 words."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for round_index in range(10):
        product0 = tf.cast(c0, tf.uint64) * tf.constant(_PHILOX_MULTIPLIERS[0], tf.uint64)
        product1 = tf.cast(c2, tf.uint64) * tf.constant(_PHILOX_MULTIPLIERS[1], tf.uint64)
        c0, c1, c2, c3 = (
            tf.bitwise.bitwise_xor(tf.bitwise.bitwise_xor(_high_word(product1), c1), k0),
            _low_word(product1),
            tf.bitwise.bitwise_xor(tf.bitwise.bitwise_xor(_high_word(product0), c3), k1),
            _low_word(product0),
        )
        if round_index < 9:
            k0 = k0 + tf.constant(_PHILOX_KEY_STEPS[0], tf.uint32)
            k1 = k1 + tf.constant(_PHILOX_KEY_STEPS[1], tf.uint32)
    return c0, c1, c2, c3


def _first_uniform(seed, position):
    """The first float64 in [0, 1) of the stateless stream seeded with (seed, position), as
    TensorFlow's stateless kernels derive it: the seed pair is scrambled into a Philox key and
    counter, and 52 bits of the first output make the double's mantissa."""
    words = []
    for part in (seed, position):
        part = tf.cast(tf.cast(part, tf.int64), tf.uint64)  # int32 -> uint64 as C++ casts it
        words += [_low_word(part), _high_word(part)]
    scrambled = _philox(words, [tf.constant(word, tf.uint32) for word in _SEED_SCRAMBLE_KEY])
    zero = tf.constant(0, tf.uint32)
    bits = _philox((zero, zero, scrambled[2], scrambled[3]), scrambled[:2])
    mantissa_high = tf.cast(tf.bitwise.bitwise_and(bits[0], tf.constant(0xFFFFF, tf.uint32)), tf.float64)
    return mantissa_high * 2.0**-20 + tf.cast(bits[1], tf.float64) * 2.0**-52  # exact in float64


def draw(logits, seed, position):
    """One token drawn from logits (1, vocab) with the seed pair (seed, position).

    The same token as `tf.random.stateless_categorical(logits, 1, seed=[seed, position])`
    on CPU (tests/test_transformer_recipes.py checks it), in ops XLA can compile: the
    unnormalised CDF of exp(logit - max) in float64, and the first entry above
    uniform * total.
    """
    logits = tf.reshape(logits, [-1])  # (vocab,)
    finite = tf.math.is_finite(logits)
    largest = tf.reduce_max(tf.where(finite, logits, logits.dtype.min))
    weights = tf.where(finite, tf.exp(tf.cast(logits, tf.float64) - tf.cast(largest, tf.float64)), 0.0)
    cdf = tf.cumsum(weights)  # (vocab,)
    to_find = _first_uniform(seed, position) * cdf[-1]
    return tf.reduce_sum(tf.cast(cdf <= to_find, tf.int32))  # the index of the first entry above it


# ------------------------------------------------------------- the cached sampler

CHUNK = 32  # Tokens per XLA call; a sample runs ceil(length / CHUNK) of them and drops the extra.
# Compiling the XLA loop takes seconds (about 5-15 s on 2 loaded cores) and it then samples
# several times faster, so a model switches to it once it has been asked for this many tokens
# in this process: short samples (and the tests) never pay for the compilation.
COMPILE_AFTER_TOKENS = 2000

# One pair of samplers per model, built on the first call and reused afterwards, and the
# tokens asked of each model so far.
_SAMPLERS = weakref.WeakKeyDictionary()
_TOKENS_ASKED = weakref.WeakKeyDictionary()


class _Samplers:
    """The two loops of one model, the same draws: `graph` runs the token loop in a plain
    `tf.function`, `compiled` runs it in XLA, CHUNK tokens per compiled call."""

    def __init__(self, model):
        parts = _Parts(model)
        window, keep = parts.window, parts.keep

        def restart(context, caches):
            # The cache is full: keep the last `keep` tokens, re-encode them at 0..keep-1.
            kept = context[window - keep :]  # (keep,)
            _, caches = parts.forward(kept[tf.newaxis], parts.empty_caches(), 0)
            context = tf.concat([kept, tf.zeros([window - keep], tf.int32)], axis=0)  # (window,)
            return context, caches, tf.constant(keep, tf.int32)

        def append(token, context, caches, filled):
            """Feeds one token at position `filled`; returns its next-token logits and the new state."""
            context, caches, filled = tf.cond(
                filled >= window,
                lambda: restart(context, caches),
                lambda: (context, caches, filled),
            )
            logits, caches = parts.forward(tf.reshape(token, [1, 1]), caches, filled)
            context = tf.tensor_scatter_nd_update(context, [[filled]], [token])
            return logits, context, caches, filled + 1

        def prefill(context_ids):
            """The whole prompt context in one pass, at positions 0 .. filled - 1."""
            filled = tf.shape(context_ids)[0]
            logits, caches = parts.forward(context_ids[tf.newaxis], parts.empty_caches(), 0)  # (1, vocab)
            context = tf.concat([context_ids, tf.zeros([window - filled], tf.int32)], axis=0)
            context = tf.reshape(context, [window])  # (window,): the tokens now in the cache
            return logits, context, caches, filled

        signature = [
            tf.TensorSpec([None], tf.int32),  # the prompt's context ids (1 .. window of them)
            tf.TensorSpec([], tf.int32),  # length
            tf.TensorSpec([], tf.float32),  # temperature
            tf.TensorSpec([], tf.int32),  # seed
        ]

        @tf.function(input_signature=signature)
        def graph(context_ids, length, temperature, seed):
            logits, context, caches, filled = prefill(context_ids)
            generated = tf.TensorArray(tf.int32, size=length)
            for position in tf.range(length):
                # (1, vocab) -> (1, 1): one draw, seeded by (seed, position) only.
                token = tf.random.stateless_categorical(
                    logits / temperature, 1, seed=tf.stack([seed, position]), dtype=tf.int32
                )[0, 0]
                generated = generated.write(position, token)
                logits, context, caches, filled = append(token, context, caches, filled)
            return generated.stack()  # (length,)

        @tf.function(jit_compile=True)
        def chunk(logits, context, caches, filled, first_position, temperature, seed):
            """CHUNK tokens at positions first_position.., in XLA; returns them and the new state."""
            tokens = tf.TensorArray(tf.int32, size=CHUNK)
            for offset in tf.range(CHUNK):
                # The same token as stateless_categorical above, seeded by (seed, position) only.
                token = draw(logits / temperature, seed, first_position + offset)
                tokens = tokens.write(offset, token)
                logits, context, caches, filled = append(token, context, caches, filled)
            return tokens.stack(), logits, context, caches, filled  # tokens: (CHUNK,)

        @tf.function(input_signature=signature)
        def compiled(context_ids, length, temperature, seed):
            logits, context, caches, filled = prefill(context_ids)  # Any prompt length: not in XLA.
            num_chunks = (length + CHUNK - 1) // CHUNK
            generated = tf.TensorArray(tf.int32, size=num_chunks)
            for index in tf.range(num_chunks):
                tokens, logits, context, caches, filled = chunk(
                    logits, context, caches, filled, index * CHUNK, temperature, seed
                )
                generated = generated.write(index, tokens)
            return tf.reshape(generated.stack(), [-1])[:length]  # (length,)

        self.graph, self.compiled = graph, compiled


def _samplers(model) -> _Samplers:
    if model not in _SAMPLERS:
        _SAMPLERS[model] = _Samplers(model)
    return _SAMPLERS[model]


def _sampler(model):
    """The plain-graph sampler of `model` (traced once per model)."""
    return _samplers(model).graph


def prompt_context(prompt_ids, window: int) -> list:
    """The tokens of the prompt the model still sees after reading all of it.

    The context rule of both samplers: append tokens one by one, and when
    `window` tokens are already there, first keep only the last window // 2.
    """
    keep = max(1, window // 2)
    context = []
    for token in prompt_ids:
        if len(context) >= window:
            context = context[-keep:]
        context.append(token)
    return context


def generate(model, vocabulary, prompt: str, length: int, temperature: float, seed: int, compiled=None) -> str:
    """Samples `length` characters after `prompt` with the key/value cache.

    Args:
        compiled: True runs the token loop in XLA, False in a plain graph; both draw
            the same characters. None (the default) picks XLA once this model has
            been asked for COMPILE_AFTER_TOKENS tokens in this process, this request included.

    Returns:
        prompt + the generated characters.

    Raises:
        ValueError: length <= 0, temperature <= 0, an empty prompt or one with
            characters outside `vocabulary`.
    """
    prompt_ids = _sequence.check_generation_args(vocabulary, prompt, length, temperature, seed)
    window = embedding_of(model).max_length
    asked = _TOKENS_ASKED.get(model, 0) + int(length)
    _TOKENS_ASKED[model] = asked
    if compiled is None:
        compiled = asked >= COMPILE_AFTER_TOKENS
    samplers = _samplers(model)
    ids = (samplers.compiled if compiled else samplers.graph)(
        tf.constant(prompt_context(prompt_ids, window), tf.int32),
        tf.constant(int(length), tf.int32),
        tf.constant(float(temperature), tf.float32),
        tf.constant(int(seed), tf.int32),
    )
    return prompt + "".join(vocabulary[i] for i in ids.numpy())


_NAIVE_STEPS = weakref.WeakKeyDictionary()


def _naive_step(model):
    if model not in _NAIVE_STEPS:

        @tf.function(
            input_signature=[
                tf.TensorSpec([1, None], tf.int32),  # the whole context
                tf.TensorSpec([], tf.float32),  # temperature
                tf.TensorSpec([], tf.int32),  # seed
                tf.TensorSpec([], tf.int32),  # position of the draw
            ]
        )
        def step(context, temperature, seed, position):
            logits = model(context, training=False)[:, -1, :]  # (1, vocab)
            return tf.random.stateless_categorical(
                logits / temperature, 1, seed=tf.stack([seed, position]), dtype=tf.int32
            )[0, 0]

        _NAIVE_STEPS[model] = step
    return _NAIVE_STEPS[model]


def generate_naive(model, vocabulary, prompt: str, length: int, temperature: float, seed: int) -> str:
    """The same sampling as `generate`, recomputing the whole context for every token.

    No cache: the reference that `generate` must match, and the baseline of
    the speed comparison. The context follows the same rule (at most window - 1
    earlier tokens, restarted from the last window // 2 when full).
    """
    prompt_ids = _sequence.check_generation_args(vocabulary, prompt, length, temperature, seed)
    window = embedding_of(model).max_length
    keep = max(1, window // 2)
    step = _naive_step(model)
    context = prompt_context(prompt_ids, window)
    generated = []
    for position in range(length):
        token = int(
            step(
                tf.constant([context], tf.int32),
                tf.constant(float(temperature), tf.float32),
                tf.constant(int(seed), tf.int32),
                tf.constant(position, tf.int32),
            )
        )
        generated.append(token)
        context = context[-keep:] if len(context) >= window else context
        context.append(token)
    return prompt + "".join(vocabulary[i] for i in generated)


def check_attention_request(model, tokens, block: int, window: int) -> object:
    """Validates an attention-map request; returns the chosen TransformerBlock.

    Raises:
        ValueError: no tokens, more than `window` tokens, or a block number
            outside 1..num_blocks.
    """
    if len(tokens) == 0:
        raise _common.InputError("text is empty; expected at least one token to draw attention over; pass e.g. --text 'X:1'.")
    if len(tokens) > window:
        raise _common.InputError(
            f"text has {len(tokens)} tokens, more than the model's max_length {window}; "
            f"pass at most {window} tokens (a heatmap that wide is unreadable anyway)."
        )
    blocks = blocks_of(model)
    if isinstance(block, bool) or not isinstance(block, int) or not 1 <= block <= len(blocks):
        raise _common.InputError(f"block={block!r} is not valid; this model has blocks 1..{len(blocks)}; pass e.g. --block 1.")
    return blocks[block - 1]


def attention_weights(model, token_ids, block: int, causal: bool) -> np.ndarray:
    """Attention probabilities (heads, time, time) of block `block` (1-based) for one sequence.

    Runs the embedding and the blocks before `block`, then the chosen
    block's own normalization and attention with `return_attention_scores`.
    """
    token_ids = tf.constant([list(token_ids)], tf.int32)  # (1, time)
    blocks = blocks_of(model)
    hidden = embedding_of(model)(token_ids)  # (1, time, model_dim)
    for earlier in blocks[: block - 1]:
        hidden = earlier(hidden, use_causal_mask=causal, training=False)
    chosen = blocks[block - 1]
    _, scores = chosen.attention(
        chosen.attention_norm(hidden), use_causal_mask=causal, return_attention_scores=True, training=False
    )  # scores: (1, heads, time, time)
    return np.asarray(scores)[0]


def char_attention_maps(model, vocabulary, text: str, block: int, causal: bool = True):
    """(characters, weights (heads, T, T)) for a character model's block `block`.

    Raises:
        ValueError: empty text, characters outside `vocabulary`, more
            characters than the model's max_length, or a bad block number.
    """
    if not isinstance(text, str) or not text:
        raise _common.InputError("text is empty; expected at least one character; pass e.g. --text 'X:1'.")
    lookup = {character: index for index, character in enumerate(vocabulary)}
    unknown = sorted({character for character in text if character not in lookup})
    if unknown:
        shown = ", ".join(repr(character) for character in unknown[:10])
        raise _common.InputError(
            f"text has {len(unknown)} character(s) outside the model's vocabulary ({shown}); "
            f"expected only the {len(vocabulary)} characters of the training data; remove them from --text."
        )
    tokens = list(text)
    check_attention_request(model, tokens, block, embedding_of(model).max_length)
    return tokens, attention_weights(model, [lookup[c] for c in text], block, causal)

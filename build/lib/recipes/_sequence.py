"""What the recurrent recipes share: sampling from a character LM, one character at a time.

A file whose name starts with `_` is not a recipe, so the registry skips this one.

A recipe's model is Embedding -> keras.layers.RNN(cell) -> an output Dense over
the vocabulary (see recipes/music_lstm.py); the sampler finds those three
layers by type, so a copied recipe may name its layers as it likes.

Sampling steps the recurrent CELL by hand with an explicit state, one character
at a time, inside one `tf.function`. There is no stateful layer and no fixed
batch size (the MIT lab builds a second, `stateful=True` model with batch size 1
for sampling; Keras 3 dropped the `batch_input_shape` it fixed that batch size
with): the state is a tensor we pass around. The random draws use a
stateless RNG seeded with (seed, step), so a seed always gives the same text.
"""

import math
import numbers
import weakref

import keras
import tensorflow as tf

from recipes import _common

def only_layer(model, layer_type):
    """The one top-level layer of `layer_type` in `model` (a sampler's way to find its parts)."""
    found = [layer for layer in model.layers if isinstance(layer, layer_type)]
    if len(found) != 1:
        raise ValueError(
            f"model {model.name!r} has {len(found)} top-level {layer_type.__name__} layers; "
            "sampling needs exactly one."
        )
    return found[0]


def check_generation_args(vocabulary, prompt, length, temperature, seed) -> list:
    """Validates the arguments of `generate`; returns the prompt's ids.

    Raises:
        ValueError: one line naming what was wrong and what to pass instead.
    """
    if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length <= 0:
        raise _common.InputError(f"length={length!r} is not valid; expected an int >= 1 (characters to generate); pass e.g. --length 400.")
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, numbers.Real)
        or not math.isfinite(temperature)
        or temperature <= 0
    ):
        raise _common.InputError(
            f"temperature={temperature!r} is not valid; expected a finite number > 0 "
            "(1 samples the model's distribution, lower is more conservative); pass e.g. --temperature 0.8."
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**31:
        raise _common.InputError(f"seed={seed!r} is not valid; expected an int in [0, 2**31); pass e.g. --seed 0.")
    if not isinstance(prompt, str) or not prompt:
        raise _common.InputError(f"prompt={prompt!r} is empty; expected at least one character to start from; pass e.g. --prompt 'X:'.")
    lookup = {character: index for index, character in enumerate(vocabulary)}
    unknown = sorted({character for character in prompt if character not in lookup})
    if unknown:
        shown = ", ".join(repr(character) for character in unknown[:10])
        raise _common.InputError(
            f"prompt has {len(unknown)} character(s) outside the model's vocabulary ({shown}); "
            f"expected only the {len(vocabulary)} characters of the training data; remove them from --prompt."
        )
    return [lookup[character] for character in prompt]


# One compiled sampler per model: built on the first call, reused afterwards
# (its input signature has a free prompt length, so it never retraces).
_SAMPLERS = weakref.WeakKeyDictionary()


def _sampler(model):
    if model in _SAMPLERS:
        return _SAMPLERS[model]
    embedding = only_layer(model, keras.layers.Embedding)
    recurrent = only_layer(model, keras.layers.RNN)
    cell = recurrent.cell
    # Everything build_model puts after the recurrent layer (the vocabulary head, and any layer a
    # copy adds), taken from the model itself: the sampler steps through exactly that.
    after_cell = keras.Model(recurrent.output, model.output)
    vocab_size = int(model.output.shape[-1])

    def step(token, states):
        vectors = embedding(tf.reshape(token, [1]))  # (1, embedding_dim)
        output, states = cell(vectors, states, training=False)  # (1, units)
        logits = after_cell(output[:, tf.newaxis, :], training=False)  # (1, 1, vocab)
        return logits[:, 0, :], list(states)  # (1, vocab)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.int32),  # prompt ids
            tf.TensorSpec([], tf.int32),  # length
            tf.TensorSpec([], tf.float32),  # temperature
            tf.TensorSpec([], tf.int32),  # seed
        ]
    )
    def sample(prompt_ids, length, temperature, seed):
        states = list(cell.get_initial_state(batch_size=1))
        # Read the prompt, one character at a time; the logits after its last
        # character give the distribution of the first new one.
        logits = tf.zeros([1, vocab_size])  # (1, vocab), replaced by the first step
        for index in tf.range(tf.shape(prompt_ids)[0]):
            logits, states = step(prompt_ids[index], states)
        generated = tf.TensorArray(tf.int32, size=length)
        for position in tf.range(length):
            # (1, vocab) -> (1, 1): one draw, seeded by (seed, position) only.
            token = tf.random.stateless_categorical(
                logits / temperature, 1, seed=tf.stack([seed, position]), dtype=tf.int32
            )[0, 0]
            generated = generated.write(position, token)
            logits, states = step(token, states)
        return generated.stack()  # (length,)

    _SAMPLERS[model] = sample
    return sample


def generate(model, vocabulary, prompt: str, length: int, temperature: float, seed: int) -> str:
    """Samples `length` characters after `prompt` from an Embedding -> RNN -> Dense model.

    Returns:
        prompt + the generated characters.

    Raises:
        ValueError: length <= 0, temperature <= 0, an empty prompt or one with
            characters outside `vocabulary`.
    """
    prompt_ids = check_generation_args(vocabulary, prompt, length, temperature, seed)
    ids = _sampler(model)(
        tf.constant(prompt_ids, tf.int32),
        tf.constant(int(length), tf.int32),
        tf.constant(float(temperature), tf.float32),
        tf.constant(int(seed), tf.int32),
    )
    return prompt + "".join(vocabulary[i] for i in ids.numpy())

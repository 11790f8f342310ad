"""Translation with a trained translation recipe, and where its decoder looked.

    found = translate(loaded, "Tuesday, December 1, 2026", attention=True)   # results.Translation
    found.text, found.attention   # (target tokens, source tokens), averaged over heads

`beam_size=1` (the default) is greedy decoding; larger keeps that many
hypotheses (beam search). A recipe that can translate defines the hook

    def translate(model, info, config, text: str, beam_size: int) -> str

It raises a one-line `recipes._common.InputError` for an empty text, words
outside its vocabulary, a text longer than the model reads, or a bad beam
size; the command line shows it as one line and exit code 2.

The cross-attention is read by running the whole model once on the source and
the translation (teacher forcing) and keeping what each `layers.CrossAttention`
computed; with several decoder blocks, the last block's.
"""

import numpy as np

from zoo import errors
from zoo.engine import registry
from zoo.inference import results


def translation_hook(recipe):
    """The recipe's `translate` hook; a UserError naming the recipes that have one if it has none."""
    return registry.require_hook(recipe, "translate", "cannot translate")


def check_request(text: str, beam_size: int) -> None:
    """The checks that need no model (one line each)."""
    if not text.strip():
        raise errors.UserError("--text is empty; expected a text to translate; pass e.g. --text 'Tuesday, December 1, 2026'.")
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise errors.UserError(f"--beam-size {beam_size} is not valid; expected an int >= 1; pass e.g. --beam-size 4.")


def translate(loaded, text: str, *, beam_size: int = 1, attention: bool = False) -> results.Translation:
    """`text` translated by `loaded` (what `loading.load` returns); see the module docstring."""
    check_request(text, beam_size)
    hook = translation_hook(loaded.recipe)
    output = hook(loaded.model, loaded.info, loaded.config, text, beam_size)
    if not attention:
        return results.Translation(text=output, source=text, beam_size=beam_size)
    source_tokens, target_tokens, weights = cross_attention(loaded, text, output)
    return results.Translation(text=output, source=text, beam_size=beam_size, source_tokens=source_tokens,
                               target_tokens=target_tokens, attention=weights)


def cross_attention(loaded, text: str, output: str):
    """(source tokens, output tokens + <end>, weights (output tokens + 1, source tokens)) of one translation."""
    import layers
    from datasets import translation

    info = loaded.info
    vocabulary = list(info.vocabulary)
    source_tokens = translation.tokenize(text)
    target_tokens = translation.tokenize(output)
    lookup = {token: index for index, token in enumerate(vocabulary)}
    source = translation.encode_source(text, vocabulary, info.extras["source_length"])[None]  # (1, source_length)
    target = np.asarray([[translation.START_ID] + [lookup[token] for token in target_tokens]], np.int32)  # (1, T + 1)
    attentions = [layer for layer in loaded.model._flatten_layers() if isinstance(layer, layers.CrossAttention)]
    if not attentions:
        raise errors.UserError(f"{loaded.recipe.name} has no cross-attention: its decoder sees only the encoder's last state.")
    seen = []
    original = attentions[-1].call

    def keeping_scores(*args, **kwargs):
        outputs, scores = original(*args, **{**kwargs, "return_attention_scores": True})
        seen.append(scores)
        return outputs

    attentions[-1].call = keeping_scores  # Only for this eager forward pass.
    try:
        loaded.model([source, target], training=False)
    finally:
        del attentions[-1].call
    scores = np.asarray(seen[-1])[0].mean(axis=0)  # (T + 1, source_length): averaged over heads
    return tuple(source_tokens), (*target_tokens, "<end>"), scores[:, : len(source_tokens)]


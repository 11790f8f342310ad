"""Sampling from a language model: text, or tunes in ABC notation with their validity.

    generation = generate(loaded, length=600, temperature=0.8, seed=1)
    generation.texts, generation.tunes[0].abc, generation.tunes[0].valid

A recipe that can generate defines the hook

    def generate(model, info, config, prompt: str, length: int, temperature: float, seed: int) -> str

returning `prompt` followed by `length` sampled tokens. It must not rely on a
stateful layer or a fixed batch size (it steps its state explicitly) and must
use a seeded stateless RNG, so the same seed gives the same text. It raises a
one-line ValueError for length <= 0, temperature <= 0 or a prompt outside its
vocabulary.

When the model was trained on ABC tunes, the text is split into tunes, each
cut at its music.MAX_BARS-th bar line if it runs longer, and each is valid
when music21 parses it and it has notes (zoo/inference/music.py).
`num_tunes=K` draws K samples (seeds S, S+1, ...) and keeps the first tune of
each; with 0, one sample and every tune in it.
"""

import time

from zoo import errors
from zoo.engine import registry
from zoo.inference import results

MAX_LENGTH = 1_000_000  # Tokens per sample: more would not fit the sampler's int32 buffers in memory.
# Logits are float32: dividing them by less than this overflows to inf and the draws become NaN.
MIN_TEMPERATURE, MAX_TEMPERATURE = 1e-3, 1e3
# Every tune in ABC notation starts with its X: reference number. The sampler writes that line itself:
# prompted with "X:" alone, the shipped models wrote "X:1/8" or "X:24:" in 9 of their 12 invalid tunes
# out of 180 (temperature 0.8); prompted with "X:1\n", 2 of 180 tunes were invalid (docs/results_sequence.md).
ABC_PROMPT = "X:1\n"
TEXT_PROMPT = "\n"


def check_request(length, temperature, num_tunes=0) -> None:
    """The checks that need no model: raise a one-line ValueError on a bad value, before any allocation."""
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= MAX_LENGTH:
        raise errors.UserError(
            f"--length {length!r} is not valid; expected an int in [1, {MAX_LENGTH}] (tokens to generate); "
            "pass e.g. --length 400."
        )
    if not isinstance(temperature, (int, float)) or not MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE:
        raise errors.UserError(
            f"--temperature {temperature!r} is not valid; expected a number in [{MIN_TEMPERATURE:g}, {MAX_TEMPERATURE:g}] "
            "(1 samples the model's distribution, lower is more conservative); pass e.g. --temperature 0.8."
        )
    if num_tunes < 0:
        raise errors.UserError(f"--num-tunes {num_tunes!r} is not valid; expected an int >= 0 (0: one sample); pass e.g. --num-tunes 10.")


def generation_hook(recipe):
    """The recipe's `generate` hook; a UserError naming the recipes that have one if it has none."""
    return registry.require_hook(recipe, "generate", "cannot generate")


def is_abc(info) -> bool:
    """True when the model was trained on tunes in ABC notation."""
    source = str(info.extras.get("source", "")) if info.extras else ""
    return info.name.startswith("irish") or source.lower().endswith(".abc")


def generate(loaded, *, prompt=None, length=400, temperature=1.0, seed=0, num_tunes=0) -> results.Generation:
    """Samples from `loaded` (what `loading.load` returns); see the module docstring.

    Args:
        prompt: text to continue (default ABC_PROMPT, "X:1\\n", for a model of ABC tunes, a newline otherwise).
        length: tokens to sample after the prompt, per sample.
        temperature: > 0; lower is more conservative.
        seed: the same seed gives the same text.
        num_tunes: K > 0 draws K samples and keeps the first tune of each (ABC only).
    """
    from zoo.inference import music

    check_request(length, temperature, num_tunes)
    recipe, info = loaded.recipe, loaded.info
    hook = generation_hook(recipe)
    abc = is_abc(info)
    if num_tunes and not abc:
        raise errors.UserError(f"--num-tunes is for models of ABC tunes; {info.name!r} is text; drop --num-tunes.")
    if prompt is None:
        # A model trained on a file whose vocabulary lacks "1" or a newline starts from "X:".
        prompt = (ABC_PROMPT if set(ABC_PROMPT) <= set(info.vocabulary) else "X:") if abc else TEXT_PROMPT
    started = time.perf_counter()
    texts = tuple(hook(loaded.model, info, loaded.config, prompt, length, temperature, seed + index)
                  for index in range(max(1, num_tunes)))
    seconds = time.perf_counter() - started
    tunes = ()
    if abc:
        found = [(music.split_tunes(text) or [text])[0] for text in texts] if num_tunes else music.split_tunes(texts[0])
        capped = [music.cap_bars(tune) for tune in found]
        tunes = tuple(results.Tune(abc=tune, valid=music.is_valid(tune), cut=cut) for tune, cut in capped)
    return results.Generation(texts=texts, tunes=tunes, prompt=prompt, length=length, temperature=temperature,
                              seed=seed, seconds=seconds)



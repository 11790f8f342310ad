"""`python -m zoo translate NAME --text TEXT`: translate with a trained recipe's weights.

    python -m zoo translate translate_transformer --pretrained --text 'Tuesday, December 1, 2026'
    python -m zoo translate translate_lstm --pretrained --beam-size 4 --text 'twenty-one thousand and five'
    python -m zoo translate translate_transformer --workdir runs/mine --text 'seven hundred and twelve'

Prints the translation, one line. The weights are the run's best ones
(`--workdir`, default runs/NAME), or the shipped ones with `--pretrained`.
`--beam-size 1` (the default) is greedy decoding; larger keeps that many
hypotheses (beam search).

A recipe that can translate defines the hook

    def translate(model, info, config, text: str, beam_size: int) -> str

It raises a one-line `recipes._common.InputError` for an empty text, words
outside its vocabulary, a text longer than the model reads, or a bad beam
size; the command line shows it as one line and exit code 2.
"""

import pathlib

from zoo import errors
from zoo.engine import registry


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("translate", help="translate a text with a trained translation recipe")
    parser.add_argument("name")
    parser.add_argument("--text", required=True, help="the text to translate, e.g. 'Tuesday, December 1, 2026'")
    parser.add_argument("--beam-size", type=int, default=1, help="hypotheses kept by beam search (default 1: greedy)")
    parser.add_argument("--workdir", type=pathlib.Path, help="run to load (default: runs/NAME)")
    parser.add_argument("--pretrained", action="store_true", help="use the shipped weights instead of a run")
    parser.set_defaults(run=run_translate)


def translation_hook(recipe):
    """The recipe's `translate` hook; a UserError naming the recipes that have one if it has none."""
    return registry.require_hook(recipe, "translate", "cannot translate")


def run_translate(args) -> int:
    translation_hook(registry.describe(args.name))  # These mistakes are said before TensorFlow loads.
    if not args.text.strip():
        raise errors.UserError("--text is empty; expected a text to translate; pass e.g. --text 'Tuesday, December 1, 2026'.")
    if args.beam_size < 1:
        raise errors.UserError(f"--beam-size {args.beam_size} is not valid; expected an int >= 1; pass e.g. --beam-size 4.")
    recipe = registry.get_recipe(args.name)  # Imports Keras and TensorFlow.
    hook = translation_hook(recipe)
    from zoo.engine import runs

    loaded = runs.load(recipe, args.workdir, pretrained=args.pretrained)
    print(hook(loaded.model, loaded.info, loaded.config, args.text, args.beam_size))
    return 0

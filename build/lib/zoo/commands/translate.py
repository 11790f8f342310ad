"""`zoo translate NAME --text TEXT`: the translation, one line.

    zoo translate translate_transformer --pretrained --text 'Tuesday, December 1, 2026'
    zoo translate translate_lstm --pretrained --beam-size 4 --text 'twenty-one thousand and five'
    zoo translate translate_transformer --workdir runs/mine --text 'seven hundred and twelve'
"""

from zoo.commands import options


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("translate", help="translate a text with a trained translation recipe")
    parser.add_argument("name")
    parser.add_argument("--text", required=True, help="the text to translate, e.g. 'Tuesday, December 1, 2026'")
    parser.add_argument("--beam-size", type=int, default=1, help="hypotheses kept by beam search (default 1: greedy)")
    options.add_model_source(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    import zoo
    from zoo.engine import registry
    from zoo.inference import translate

    translate.translation_hook(registry.describe(args.name))  # These mistakes are said before TensorFlow loads.
    translate.check_request(args.text, args.beam_size)
    print(zoo.translate(options.load_model(args), args.text, beam_size=args.beam_size))
    return 0

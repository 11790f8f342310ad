"""`zoo export NAME --format savedmodel|tflite`: a model for serving (zoo/inference/export.py).

    zoo export digits_mlp --pretrained --format savedmodel   # exports/digits_mlp/savedmodel/
    zoo export digits_mlp --pretrained --format tflite       # exports/digits_mlp/model.tflite
    zoo export digits_mlp --workdir runs/digits_mlp --format tflite --out /tmp/x

Export never replaces anything: a file, folder or symbolic link (dangling or
not) already at OUT/savedmodel or OUT/model.tflite is refused in one line,
before TensorFlow loads.
"""

import pathlib

from zoo import outputs
from zoo.commands import options


def add_command(subparsers) -> None:
    from zoo.inference import export

    parser = subparsers.add_parser("export", help="write a SavedModel or a TFLite file of a model")
    parser.add_argument("name")
    options.add_model_source(parser)
    parser.add_argument("--format", required=True, choices=export.FORMATS)
    parser.add_argument("--out", type=pathlib.Path, help="output directory (default exports/NAME)")
    parser.set_defaults(run=run)


def run(args) -> int:
    import zoo
    from zoo.engine import registry
    from zoo.inference import export

    name = registry.locate(args.name)[0]  # The recipe's name, also for a recipe file's path.
    out = args.out or pathlib.Path("exports") / name
    outputs.check(out, [export.TARGETS[args.format]], None, "export")  # A file or link in the way: before TensorFlow loads.
    path, how = zoo.export(options.load_model(args), out, format=args.format)
    if args.format == "savedmodel":
        print(f"{name}: SavedModel in {path} (endpoint `serve`, signature `serving_default`)")
    else:
        note = "; it needs the Flex delegate at run time" if "SELECT_TF_OPS" in how else ""
        print(f"{name}: TFLite model in {path} (converted with {how}{note})")
    return 0

"""`zoo features NAME --input IMAGE`: what each convolution layer of a CNN learned, as figures.

    zoo features digits_cnn --pretrained --input docs/digit_5.csv [--out DIR] [--units 8] [--top 6]

Writes, into --out (default WORKDIR/features, or runs/NAME_pretrained/features):
`features_<layer>.png` for every layers.Conv2D (the input, each filter and its
feature map), `top_images_<last layer>.png` (for `--units` channels of the last
conv layer, the `--top` test images that activate each one most), and
`features.json`, what was written (a rerun replaces only those files).
The input is a PNG or the model's numbers, read as `predict` reads them.
"""

import pathlib

from zoo import outputs
from zoo.commands import options

RECORD = "features.json"


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("features", help="filters, feature maps and top images of each conv layer")
    parser.add_argument("name")
    parser.add_argument("--input", help="a PNG, or the model's numbers as CSV (- or none: stdin)")
    options.add_model_source(parser)
    parser.add_argument("--out", type=pathlib.Path, help="where the figures go")
    parser.add_argument("--units", type=int, default=8, help="channels of the last conv layer to show (default 8)")
    parser.add_argument("--top", type=int, default=6, help="test images per channel (default 6)")
    parser.set_defaults(run=run)


def run(args) -> int:
    import zoo
    from zoo.engine import registry
    from zoo.inference import features, predict

    features.check_counts(args.units, args.top)
    name = registry.locate(args.name)[0]
    out = args.out or options.inspection_folder(args, name, "features")
    outputs.check(out, [RECORD], RECORD, "features")  # Before TensorFlow loads.
    data = predict.read_input(args.input)
    found = zoo.features(options.load_model(args), data, units=args.units, top=args.top)
    with outputs.Outputs(out, RECORD, "features") as outs:
        outs.claim([RECORD, *features.figure_names(found)])
        for file_name in features.draw(found, outs.scratch):
            outs.place(file_name)
        written = outs.finish({"recipe": name})
    for file_name in written:
        print(f"{name}: wrote {out / file_name}")
    return 0

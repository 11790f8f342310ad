"""`zoo predict NAME --pretrained [--input FILE]`: one prediction per input, printed a line each.

    zoo predict digits_mlp --pretrained --input docs/digit_5.csv
    zoo predict binary_mlp --workdir runs/binary_mlp --input row.csv
    cat row.csv | zoo predict regression_mlp --pretrained

How each kind of input is read (PNG, CSV, ABC) is in zoo/inference/predict.py.
"""

from zoo.commands import options


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("predict", help="predict one input (CSV, PNG or a tune) with a classifier")
    parser.add_argument("name")
    options.add_model_source(parser)
    parser.add_argument("--input", help="a file (CSV, PNG or ABC); stdin when left out or '-'")
    parser.set_defaults(run=run)


def run(args) -> int:
    import zoo
    from zoo.engine import registry
    from zoo.inference import predict

    predict.check_task(registry.describe(args.name))  # A language model: said before TensorFlow loads.
    data = predict.read_input(args.input)
    for prediction in zoo.predict(options.load_model(args), data):
        print(prediction)
    return 0

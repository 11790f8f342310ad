"""`zoo compare NAME key=v1,v2,... [key=value ...]`: train once per value of one key; a table and a plot.

    zoo compare digits_mlp optimizer=sgd,momentum,adam epochs=20
    zoo compare digits_mlp batch_size=1,32,full epochs=10

The runs, comparison.png and comparison.json go to --workdir (default
runs/compare/NAME/KEY[--fixed]); finished runs are reused (zoo/lab/compare.py).
"""

import pathlib

from zoo.commands import options


def add_command(subparsers) -> None:
    parser = options.add_intermixed_parser(
        subparsers,
        "compare",
        help="train a recipe once per value of one key; table + plot",
        description="Train NAME once per value of the first key (key=v1,v2,...), same seed and data; "
        "the other key=value overrides are fixed. batch_size=full: the whole training split.",
    )
    parser.add_argument("name")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.add_argument("--workdir", type=pathlib.Path, help="default: runs/compare/NAME/KEY[--fixed]")
    parser.add_argument("--verbose", action="store_true", help="the trainer's progress bar and epoch lines")
    parser.set_defaults(run=run)


def run(args) -> int:
    from absl import logging

    from zoo.engine import registry
    from zoo.lab import compare

    compare.check_arguments(registry.describe(args.name).Config, args.overrides)  # Mistakes before TensorFlow loads.
    recipe = registry.get_recipe(args.name)
    key, values, fixed = compare.parse_arguments(recipe.Config, args.overrides)
    result = compare.compare(recipe, key, values, fixed, workdir=args.workdir, verbose=args.verbose, log=logging.info)
    print(result["table"])
    print(f"plot: {result['png']}")
    print(f"table: {result['json']}")
    return 0

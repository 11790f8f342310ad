"""`zoo tune NAME [key=value ...] --search random|grid|bayesian --trials N`: a keras-tuner search.

    zoo tune digits_mlp --search bayesian --trials 20 epochs=20

Every trial is trained by the zoo's trainer; rerunning resumes (zoo/lab/tune.py).
"""

import pathlib

from zoo.commands import options


def add_command(subparsers) -> None:
    from zoo.lab import tune

    parser = options.add_intermixed_parser(
        subparsers,
        "tune",
        help="hyperparameter search (keras-tuner) over the recipe's SEARCH_SPACE",
        description="Search the recipe's SEARCH_SPACE with keras-tuner; every trial is trained by the "
        "zoo's trainer. key=value arguments are fixed for every trial. Rerunning resumes.",
    )
    parser.add_argument("name")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.add_argument("--search", choices=tune.SEARCHES, default="random")
    parser.add_argument("--trials", type=int, default=10, help="trials in total (default 10)")
    parser.add_argument("--workdir", type=pathlib.Path, help="default: runs/tune/NAME[--fixed]")
    parser.add_argument("--objective", choices=("loss", "headline"), default="loss",
                        help="best validation loss (default) or the recipe's headline metric")
    parser.add_argument("--initial-points", type=int, default=None,
                        help="bayesian: random trials before the model takes over (default max(2, trials/4))")
    parser.add_argument("--seed", type=int, default=0, help="seeds the oracle's proposals")
    parser.add_argument("--verbose", action="store_true", help="the trainer's progress bar and epoch lines")
    parser.add_argument("--quiet", action="store_true", help="no keras-tuner trial display")
    parser.set_defaults(run=run)


def run(args) -> int:
    import zoo
    from zoo import errors
    from zoo.engine import config as config_lib
    from zoo.engine import registry
    from zoo.lab import tune

    fixed = config_lib.split_overrides(args.overrides)
    if args.trials < 1:  # These mistakes are said before TensorFlow loads and before the workdir is made.
        raise errors.UserError(f"trials={args.trials}: a search needs at least 1 trial.")
    if args.initial_points is not None and args.initial_points < 1:
        raise errors.UserError(f"--initial-points {args.initial_points}: use 1 or more.")
    config_lib.make_config(registry.describe(args.name).Config, fixed)
    name = registry.locate(args.name)[0]
    result = zoo.tune(args.name, search=args.search, trials=args.trials, fixed=fixed, workdir=args.workdir,
                      objective=args.objective, initial_points=args.initial_points, seed=args.seed,
                      verbose=args.verbose, quiet=args.quiet)
    print(result["table"])
    print(f"results: {pathlib.Path(args.workdir or tune.default_workdir(name, fixed)) / args.search / 'results.json'}")
    print(f"plot: {result['png']}")
    return 0

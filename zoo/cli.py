"""The command line: `python -m zoo COMMAND ...`.

    python -m zoo list
    python -m zoo train NAME [key=value ...] [--workdir DIR]
    python -m zoo evaluate NAME [--workdir DIR] [--split test] [--weights best]

A user's mistake (an unknown recipe, a bad override, a missing file) ends in one
line on stderr and exit code 2, never a traceback. Commands beyond these live in
their own modules (listed in COMMAND_MODULES), each with an `add_command`.
"""

import argparse
import importlib
import json
import pathlib
import re
import sys

from zoo import config as config_lib
from zoo import errors
from zoo import registry

USAGE_ERROR = 2
# Modules that each add one subcommand through `add_command(subparsers)`.
COMMAND_MODULES = ("zoo.compare", "zoo.tune", "zoo.generate", "zoo.cards", "zoo.attention_map", "zoo.predict", "zoo.export", "zoo.features", "zoo.launch", "zoo.translate")


class UsageError(Exception):
    """A command-line mistake caught by argparse."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def add_intermixed_parser(subparsers, name: str, **kwargs):
    """`subparsers.add_parser`, but `key=value` words may also follow the options.

    argparse (before Python 3.12) stops filling a `nargs="*"` positional at the
    first option, so `tune NAME --trials 2 epochs=3` would be an error. This
    parser parses intermixed options and positionals instead.
    """
    base = subparsers._parser_class

    class IntermixedParser(base):
        _inside = False

        def parse_known_args(self, args=None, namespace=None):
            if self._inside:
                return super().parse_known_args(args, namespace)
            self._inside = True
            try:
                return self.parse_known_intermixed_args(args, namespace)
            finally:
                self._inside = False

    subparsers._parser_class = IntermixedParser
    try:
        return subparsers.add_parser(name, **kwargs)
    finally:
        subparsers._parser_class = base


def default_workdir(name: str) -> pathlib.Path:
    return pathlib.Path("runs") / name


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m zoo", description="Train, evaluate and use the zoo's recipes.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    listing = commands.add_parser("list", help="one row per recipe")
    listing.set_defaults(run=run_list)

    training = add_intermixed_parser(commands, "train", help="train a recipe (resumes if the workdir has a run)")
    training.add_argument("name")
    training.add_argument("overrides", nargs="*", metavar="key=value")
    training.add_argument("--workdir", type=pathlib.Path, help="default: runs/NAME")
    training.add_argument("--quiet", action="store_true", help="no progress bar")
    training.set_defaults(run=run_train)

    evaluation = commands.add_parser("evaluate", help="metrics of a run's weights on a split")
    evaluation.add_argument("name")
    evaluation.add_argument("--workdir", type=pathlib.Path, help="default: runs/NAME")
    evaluation.add_argument("--split", default="test", choices=("train", "validation", "test"))
    evaluation.add_argument("--weights", default="best", choices=("best", "final"))
    evaluation.add_argument("--pretrained", action="store_true", help="the shipped checkpoint instead of a run")
    evaluation.set_defaults(run=run_evaluate)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_command(commands)
    return parser


def run_list(args) -> int:
    rows = [("recipe", "dataset", "task", "metric", "pretrained")]
    for name in registry.list_recipes():
        recipe = registry.get_recipe(name)
        dataset = recipe.Config().dataset
        rows.append((name, dataset, recipe.task, recipe.headline, pretrained_summary(name)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def pretrained_summary(name: str) -> str:
    """'no', or 'yes' with the headline metric from pretrained/manifest.json."""
    manifest = pathlib.Path(__file__).resolve().parent.parent / "pretrained" / "manifest.json"
    if not manifest.exists():
        return "no"
    entry = json.loads(manifest.read_text()).get("models", {}).get(name)
    if not entry:
        return "no"
    metric = entry.get("headline")
    return f"yes ({metric})" if metric else "yes"


def run_train(args) -> int:
    recipe = registry.get_recipe(args.name)
    config = config_lib.make_config(recipe.Config, args.overrides)
    workdir = args.workdir or default_workdir(args.name)
    from zoo import runs, trainer  # TensorFlow loads here, not for `list`, `--help` or `launch`.

    result = trainer.train(recipe, config, workdir, verbose=not args.quiet)
    test = runs.evaluate_model(recipe, result.model, result.splits, "test")
    best = result.best
    print(
        f"{args.name}: {result.steps} steps in {result.wall_time:.1f} s; best validation "
        f"(epoch {best.get('epoch')}): "
        + ", ".join(f"{k}={best[k]:.4f}" for k in ["loss", *recipe.module.METRICS] if k in best)
    )
    print(f"{args.name}: test " + ", ".join(f"{k}={v:.4f}" for k, v in test.items()))
    if result.nonfinite_steps:
        print(f"{args.name}: skipped {result.nonfinite_steps} non-finite steps")
    print(f"{args.name}: run directory {result.workdir}")
    return 0


def run_evaluate(args) -> int:
    recipe = registry.get_recipe(args.name)
    if args.pretrained:
        from zoo import pretrained

        metrics = pretrained.evaluate_pretrained(recipe.name, split=args.split)
        print(json.dumps({"recipe": args.name, "split": args.split, "weights": "pretrained", **metrics}))
        return 0
    workdir = args.workdir or default_workdir(args.name)
    from zoo import runs

    metrics = runs.evaluate(recipe, workdir, split=args.split, weights=args.weights)
    print(json.dumps({"recipe": args.name, "split": args.split, "weights": args.weights, **metrics}))
    return 0


def main(argv=None) -> int:
    """Runs one command; returns the exit code.

    A user's mistake (zoo/errors.py) is one line on stderr and exit code 2; a
    fault of the environment (disk full, permission denied) or a non-finite
    loss is one line and exit code 1. Anything else is a bug: it propagates,
    so Python prints its traceback and exits with 1.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return args.run(args)
    except UsageError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted; rerun the same command to resume from the last checkpoint", code=130)
    except Exception as error:
        if errors.is_user_mistake(error):
            return _fail(str(error))
        if isinstance(error, FloatingPointError):
            return _fail(str(error), code=1)
        if isinstance(error, OSError):
            return _fail(describe_fault(error), code=1)
        lost = _lost_workers(error)
        if lost is not None:
            return _fail(
                f"a worker of the cluster was lost ({lost}), so this one stopped; rerun the same command on "
                "every worker to resume from the last checkpoint",
                code=1,
            )
        if _is_resource_fault(error):
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            return _fail(f"{type(error).__name__}: {first_line[:300]}; ask for less (a smaller model or batch) and rerun", code=1)
        raise


def _lost_workers(error):
    """The tasks a multi-worker run lost, when `error` is TensorFlow's word for that; else None."""
    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(error, (tf.errors.UnavailableError, tf.errors.DeadlineExceededError)):
        return None
    tasks = sorted(set(re.findall(r"/job:\w+/replica:\d+/task:\d+", str(error))))
    return ", ".join(tasks) or "no task named"


def _is_resource_fault(error) -> bool:
    """TensorFlow's out-of-memory and permission errors (not OSErrors): the environment's, not a bug."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return False
    return isinstance(error, (tf.errors.ResourceExhaustedError, tf.errors.PermissionDeniedError))


def describe_fault(error: OSError) -> str:
    """One line for an environmental fault, naming the file when the OS did."""
    reason = error.strerror or str(error) or type(error).__name__
    where = f": {error.filename}" if error.filename else ""
    return f"{reason}{where}; fix the cause and rerun the same command"


def _fail(message: str, code: int = USAGE_ERROR) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code

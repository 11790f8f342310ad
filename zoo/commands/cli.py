"""The command line: `zoo COMMAND ...` (or `python -m zoo COMMAND ...` in a checkout).

    zoo list
    zoo train NAME [key=value ...] [--workdir DIR]
    zoo train path/to/my_recipe.py [key=value ...]
    zoo evaluate NAME [--workdir DIR] [--split test] [--weights best]

Flags are absl flags: the subcommands are argparse parsers from
`absl.flags.argparse_flags`, so absl's own flags work everywhere, among them
`--verbosity` (-1 hides the per-epoch lines, 1 adds debug lines),
`--logtostderr`, `--log_dir` and `--flagfile`. Progress and warnings go through
`absl.logging` to stderr; a command's results (tables, JSON, file names) go to
stdout.

A user's mistake (an unknown recipe, a bad override, a missing file) ends in one
line on stderr and exit code 2, never a traceback, and is found before
TensorFlow loads wherever it can be (the registry reads a recipe's Config
without importing Keras). Commands beyond these live in their own modules
(listed in COMMAND_MODULES), each with an `add_command`.
"""

import argparse
import importlib
import importlib.util
import json
import logging as std_logging
import os
import pathlib
import re
import sys

from absl import flags
from absl import logging
from absl.flags import argparse_flags

from zoo.engine import config as config_lib
from zoo import errors
from zoo.commands import options
from zoo.engine import registry

USAGE_ERROR = 2
# absl's logging flags that setup_logging reads.
_log_file = None  # The file a --log_dir call opened, closed by the next call.
LOGGING_FLAGS = ("verbosity", "showprefixforinfo", "logtostderr", "alsologtostderr", "log_dir")
# Modules that each add one subcommand through `add_command(subparsers)`.
COMMAND_MODULES = tuple(f"zoo.commands.{name}" for name in (
    "compare", "tune", "generate", "ship", "attention", "predict", "export", "features", "launch", "gallery", "translate",
))


class UsageError(Exception):
    """A command-line mistake caught by argparse."""


class _Parser(argparse_flags.ArgumentParser):
    """absl's argparse parser, with a mistake raised as UsageError (one line, exit 2)."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def program_name() -> str:
    """`zoo` for the installed command, `python -m zoo` otherwise (as the user typed it)."""
    return "zoo" if pathlib.Path(sys.argv[0]).name == "zoo" else "python -m zoo"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=program_name(), description="Train, evaluate and use the zoo's recipes.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    listing = commands.add_parser("list", help="one row per recipe")
    listing.set_defaults(run=run_list)

    training = options.add_intermixed_parser(commands, "train", help="train a recipe (resumes if the workdir has a run)")
    training.add_argument("name", help="a recipe's name (see `list`) or a recipe file's path")
    training.add_argument("overrides", nargs="*", metavar="key=value")
    training.add_argument("--workdir", type=pathlib.Path, help="default: runs/NAME")
    training.add_argument("--quiet", action="store_true", help="no progress bar")
    training.set_defaults(run=run_train)

    evaluation = commands.add_parser("evaluate", help="metrics of a run's weights on a split")
    evaluation.add_argument("name")
    options.add_model_source(evaluation)
    evaluation.add_argument("--split", default="test", choices=("train", "validation", "test"))
    evaluation.add_argument("--weights", default="best", choices=("best", "final"))
    evaluation.set_defaults(run=run_evaluate)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_command(commands)
    return parser


def run_list(args) -> int:
    from zoo.hub import pretrained

    shipped = pretrained.read_manifest()["models"]  # Read and checked once for every row.
    rows = [("recipe", "dataset", "task", "metric", "pretrained")]
    for name in registry.list_recipes():
        recipe = registry.describe(name)  # No Keras: `list` is instant.
        rows.append((name, recipe.dataset, recipe.task, recipe.headline, pretrained_summary(shipped.get(name))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def pretrained_summary(entry) -> str:
    """'no', or 'yes' with the headline metric of the recipe's manifest entry."""
    if not entry:
        return "no"
    metric = entry.get("headline")
    return f"yes ({metric})" if metric else "yes"


def check_overrides(name: str, overrides):
    """Refuses an unknown recipe or a bad `key=value` before TensorFlow loads (one line, exit 2)."""
    return config_lib.make_config(registry.describe(name).Config, overrides)


def run_train(args) -> int:
    from zoo.engine import cluster, rundir

    config = check_overrides(args.name, args.overrides)
    name, path = registry.locate(args.name)
    workdir = args.workdir or rundir.default_workdir(name)
    # A wrong --workdir too is refused before TensorFlow loads (the trainer checks again).
    rundir.check_resumable(workdir, name, config_lib.to_dict(config), {"path": str(path)})
    data_path = getattr(config, "data_path", "")  # Your own file, for the recipes that read one: checked now too.
    if data_path and not os.path.isfile(data_path):
        raise errors.UserError(f"data_path={data_path!r} does not exist (or is not a file); pass an existing UTF-8 text file.")
    cluster.join()  # Under a TF_CONFIG cluster: every worker is here, or one line names the missing one.
    import zoo
    from zoo.engine import runs

    recipe = registry.get_recipe(args.name)  # Keras and TensorFlow load here.
    result = zoo.train(recipe, args.overrides, workdir, verbose=not args.quiet)
    test = runs.evaluate_model(recipe, result.model, result.splits, "test")
    best = result.best
    print(
        f"{recipe.name}: {result.steps} steps in {result.wall_time:.1f} s; best validation "
        f"(epoch {best.get('epoch')}): "
        + ", ".join(f"{k}={best[k]:.4f}" for k in ["loss", *recipe.module.METRICS] if k in best)
    )
    print(f"{recipe.name}: test " + ", ".join(f"{k}={v:.4f}" for k, v in test.items()))
    if result.nonfinite_steps:
        print(f"{recipe.name}: skipped {result.nonfinite_steps} non-finite steps")
    print(f"{recipe.name}: run directory {result.workdir}")
    return 0


def run_evaluate(args) -> int:
    import zoo
    from zoo.engine import rundir

    name, path = registry.locate(args.name)
    if args.pretrained and registry.is_path(args.name):
        raise errors.UserError(
            f"--pretrained is for the zoo's own recipes, not the file {args.name}; train it and pass --workdir."
        )
    if not args.pretrained:  # A wrong --workdir: said before TensorFlow loads.
        rundir.finished_run(args.workdir or rundir.default_workdir(name), name, args.weights, {"path": str(path)})
    metrics = zoo.evaluate(args.name, args.workdir, pretrained=args.pretrained, split=args.split, weights=args.weights)
    weights = "pretrained" if args.pretrained else args.weights
    print(json.dumps({"recipe": name, "split": args.split, "weights": weights, **metrics}))
    return 0


def setup_logging() -> None:
    """absl logging as `absl.app.run` sets it up: INFO unless --verbosity says otherwise.

    Info lines (the per-epoch lines) are printed without absl's prefix unless
    --showprefixforinfo is given; INFO lines of TensorFlow's own code are kept
    out unless --verbosity is 1 or more.
    """
    if flags.FLAGS["verbosity"].using_default_value:
        flags.FLAGS.verbosity = 0
    if flags.FLAGS["showprefixforinfo"].using_default_value:
        flags.FLAGS.showprefixforinfo = False
    global _log_file
    logging.use_absl_handler()
    handler = logging.get_absl_handler()
    if _log_file is not None and handler.python_handler.stream is _log_file:  # An earlier call's --log_dir.
        handler.python_handler.stream = sys.stderr
        _log_file.close()
        _log_file = None
    if flags.FLAGS.log_dir and not flags.FLAGS.logtostderr:
        pathlib.Path(flags.FLAGS.log_dir).mkdir(parents=True, exist_ok=True)
        handler.use_absl_log_file("zoo", flags.FLAGS.log_dir)  # zoo.INFO etc., as absl names them.
        _log_file = handler.python_handler.stream
    for old in [f for f in handler.filters if isinstance(f, _NoLibraryInfo)]:
        handler.removeFilter(old)
    if flags.FLAGS.verbosity < 1:
        handler.addFilter(_NoLibraryInfo())


class _NoLibraryInfo(std_logging.Filter):
    """Drops INFO lines of TensorFlow's and Keras's own code (they log through absl too)."""

    LIBRARIES = tuple(
        str(pathlib.Path(spec.origin).parent)
        for spec in (importlib.util.find_spec(name) for name in ("tensorflow", "keras", "tf_keras"))
        if spec is not None and spec.origin
    )

    def filter(self, record) -> bool:
        return record.levelno >= std_logging.WARNING or not record.pathname.startswith(self.LIBRARIES)


def main(argv=None) -> int:
    """Runs one command; returns the exit code.

    A user's mistake (zoo/errors.py) is one line on stderr and exit code 2; a
    fault of the environment (disk full, permission denied) or a non-finite
    loss is one line and exit code 1. Anything else is a bug: it propagates,
    so Python prints its traceback and exits with 1.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    for name in LOGGING_FLAGS:  # Each call starts from the defaults (tests call main() many times).
        flags.FLAGS[name].unparse()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        setup_logging()
        return args.run(args)
    except (UsageError, flags.Error) as error:  # flags.Error: a bad absl flag value or --flagfile.
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted; rerun the same command to resume from the last checkpoint", code=130)
    except Exception as error:
        if errors.is_user_mistake(error):
            return _fail(str(error))
        if isinstance(error, FloatingPointError):
            return _fail(str(error), code=1)
        if isinstance(error, BrokenPipeError):  # `zoo list | head`: the reader has what it wanted.
            _quiet_stdout()
            return 141  # As a shell reports a process ended by SIGPIPE.
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


def _quiet_stdout() -> None:
    """Points stdout at /dev/null, so that the interpreter's last flush of a closed pipe stays silent."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _fail(message: str, code: int = USAGE_ERROR) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code

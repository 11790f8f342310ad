"""`python -m zoo tune`: hyperparameter search with keras-tuner over our own trainer.

    python -m zoo tune NAME --search random|grid|bayesian --trials N [key=value ...]
                       [--workdir DIR] [--objective loss|headline] [--initial-points K]
    make tune MODEL=digits_mlp SEARCH=bayesian TRIALS=20 ARGS="epochs=20"

The ranges come from the recipe's `SEARCH_SPACE`:

    SEARCH_SPACE = {
        "learning_rate": ("log", 1e-4, 1e-2),       # log-uniform float
        "hidden_units": ("int", 32, 256),           # integer, inclusive
        "dropout": ("float", 0.0, 0.5),             # uniform float
        "batch_size": ("choice", (32, 64, 128)),    # one of these
    }

The `key=value` arguments are fixed for every trial (say epochs=20 to keep trials
short) and must not name a searched key. keras-tuner's oracles (RandomSearch,
GridSearch, BayesianOptimization) propose the values; each trial is trained by
zoo.engine.trainer (the GradientTape trainer with its checkpoints and early stopping),
not by `model.fit`: `ZooTuner` subclasses `keras_tuner.Tuner` and overrides
`run_trial`. A trial's score is its best validation loss (`--objective loss`,
the default) or its recipe's headline metric at that epoch
(`--objective headline`). A trial whose loss turns NaN is recorded as failed and
the search goes on. For a grid search every numeric range becomes three points
(its ends and its middle, geometric for "log").

Results, under DIR (default runs/tune/NAME, plus the fixed overrides):

    DIR/SEARCH/                 keras-tuner's project (oracle.json, trial_*/trial.json)
    DIR/SEARCH/trial_ID/run/    the trial's run directory (config.json, metrics.jsonl, ...)
    DIR/SEARCH/results.json     every trial's values and scores, and the best one
    DIR/search_progress.png     best-so-far validation metric per trial, one line per
                                search kind run in DIR (random vs bayesian, ...)

At the end it prints a table of the trials, the trial at which the best validation
metric was first reached, and the best config as a ready `make train` command.
Rerunning the same command resumes: keras-tuner reloads its project
(overwrite=False), finished trials are not run again, and an interrupted trial
resumes from its last checkpoint. A larger --trials extends a finished search.

Distributed search (several machines, one shared DIR, e.g. on NFS): keras-tuner
runs one chief, which hosts the oracle, and any number of workers, which train
trials. Every process runs the same command with the same --workdir and these
environment variables:

    KERASTUNER_TUNER_ID      "chief" on the chief; a unique name per worker
                             ("tuner0", "tuner1", ...)
    KERASTUNER_ORACLE_IP     the chief's IP address (the same for everyone)
    KERASTUNER_ORACLE_PORT   the port the chief listens on (e.g. 8000)

    # on the chief machine
    KERASTUNER_TUNER_ID=chief KERASTUNER_ORACLE_IP=10.0.0.1 KERASTUNER_ORACLE_PORT=8000 \\
        python -m zoo tune digits_mlp --search bayesian --trials 40 --workdir /shared/tune
    # on each worker machine
    KERASTUNER_TUNER_ID=tuner0 KERASTUNER_ORACLE_IP=10.0.0.1 KERASTUNER_ORACLE_PORT=8000 \\
        python -m zoo tune digits_mlp --search bayesian --trials 40 --workdir /shared/tune

The chief only serves trials (it trains nothing) and returns when all are done;
keras-tuner needs grpcio and protobuf for this. It has not been run across
machines here (one machine, no cluster); single-process search is what the tests cover.
"""

import argparse
import contextlib
import json
import math
import os
import pathlib
import time

from zoo.commands import cli
from zoo.lab import compare as compare_lib
from zoo.engine import config as config_lib
from zoo import errors
from zoo.engine import registry
from zoo.engine import rundir

SEARCHES = ("random", "grid", "bayesian")
KINDS = ("log", "int", "float", "choice")
TRIAL_RECORD = "zoo_trial.json"
SETTINGS = "zoo_search.json"
GRID_POINTS = 3


# ------------------------------------------------------------ search space


def search_space(recipe) -> dict:
    """The recipe's SEARCH_SPACE, checked against its Config.

    Raises:
        ValueError: the recipe declares none, or an entry is malformed.
    """
    space = getattr(recipe.module, "SEARCH_SPACE", None)
    if not space:
        raise errors.UserError(
            f"Recipe {recipe.name!r} declares no SEARCH_SPACE, so there is nothing to tune; add e.g. "
            'SEARCH_SPACE = {"learning_rate": ("log", 1e-4, 1e-2)} to '
            f"recipes/{recipe.name}.py (see zoo/lab/tune.py), or use `python -m zoo compare`."
        )
    types = config_lib.field_types(recipe.Config)
    for key, entry in space.items():
        where = f"Recipe {recipe.name!r}: SEARCH_SPACE[{key!r}] = {entry!r}"
        if key not in types:
            raise ValueError(f"{where} names no Config key. Valid keys: {config_lib.describe_keys(recipe.Config)}.")
        if not isinstance(entry, tuple) or not entry or entry[0] not in KINDS:
            raise ValueError(f"{where} must be a tuple starting with one of {', '.join(KINDS)}.")
        if entry[0] == "choice":
            if len(entry) != 2 or not isinstance(entry[1], (tuple, list)) or len(entry[1]) < 1:
                raise ValueError(f'{where} must be ("choice", (value, ...)).')
            continue
        if len(entry) != 3 or not all(isinstance(v, (int, float)) for v in entry[1:]) or not entry[1] < entry[2]:
            raise ValueError(f'{where} must be ("{entry[0]}", low, high) with low < high.')
        if entry[0] == "log" and entry[1] <= 0:
            raise ValueError(f'{where}: a "log" range needs low > 0.')
        if entry[0] == "int" and not all(isinstance(v, int) for v in entry[1:]):
            raise ValueError(f'{where}: an "int" range needs integer ends.')
    return dict(space)


def declare(hyperparameters, space: dict, grid: bool = False) -> None:
    """Declares `space` on a keras_tuner.HyperParameters object.

    With `grid`, each numeric range gets a step that leaves GRID_POINTS values.
    """
    for key, entry in space.items():
        kind = entry[0]
        if kind == "choice":
            hyperparameters.Choice(key, list(entry[1]))
        elif kind == "int":
            low, high = entry[1], entry[2]
            step = max(1, (high - low) // (GRID_POINTS - 1)) if grid else 1
            hyperparameters.Int(key, low, high, step=step)
        elif kind == "float":
            low, high = float(entry[1]), float(entry[2])
            step = (high - low) / (GRID_POINTS - 1) if grid else None
            hyperparameters.Float(key, low, high, step=step)
        else:  # log
            low, high = float(entry[1]), float(entry[2])
            step = (high / low) ** (1.0 / (GRID_POINTS - 1)) if grid else None
            hyperparameters.Float(key, low, high, step=step, sampling="log")


def objective_for(recipe, objective: str):
    """(metric name, direction) of the search: val_loss/min or val_HEADLINE."""
    if objective == "loss" or recipe.headline == "loss":
        return "val_loss", "min"
    if objective != "headline":
        raise errors.UserError(f"objective={objective!r}: use loss or headline.")
    direction = "max" if "accuracy" in recipe.headline or recipe.headline == "r2" else "min"
    return f"val_{recipe.headline}", direction


def default_workdir(name: str, fixed: dict) -> pathlib.Path:
    folder = name
    if fixed:
        folder += "--" + "-".join(f"{k}={v}" for k, v in sorted(fixed.items()))
    return pathlib.Path("runs") / "tune" / compare_lib._safe(folder)


# ------------------------------------------------------------------- tuner


def save_state_atomically(path, state) -> None:
    """keras-tuner's JSON state files, written so that a kill leaves the old file or the new one.

    keras-tuner writes oracle.json, tuner0.json and each trial.json in place; a
    kill inside such a write left a truncated file that the rerun could not read.
    """
    rundir.write_atomically(path, json.dumps(state))


def _atomic(oracle_class):
    """`oracle_class` with its oracle.json and trial.json saves made atomic."""

    class AtomicOracle(oracle_class):
        def save(self):
            save_state_atomically(self._get_oracle_fname(), self.get_state())

        def _save_trial(self, trial):
            save_state_atomically(pathlib.Path(self._get_trial_dir(trial.trial_id)) / "trial.json", trial.get_state())

    AtomicOracle.__name__ = oracle_class.__name__
    return AtomicOracle


def _tuner_class():
    """ZooTuner, defined on first use so that importing zoo.lab.tune stays light."""
    import keras_tuner

    class ZooTuner(keras_tuner.Tuner):
        """A keras-tuner Tuner whose trials are run by zoo.engine.trainer, not model.fit."""

        def __init__(self, recipe, fixed: dict, verbose: bool, **kwargs):
            self.recipe = recipe
            self.fixed = dict(fixed)
            self.train_verbose = verbose
            self.user_error = None
            super().__init__(**kwargs)

        def save(self):
            if not self._is_worker():
                self.oracle.save()
            save_state_atomically(self._get_tuner_fname(), self.get_state())

        def run_trial(self, trial, *args, **kwargs):
            import keras

            values = dict(trial.hyperparameters.values)
            try:
                config = config_lib.make_config(self.recipe.Config, {**self.fixed, **values})
            except ValueError as error:
                # A bad range is the user's to fix: stop the search, do not skip.
                self.user_error = ValueError(f"Trial {trial.trial_id} ({_format_values(values)}): {error}")
                raise keras_tuner.errors.FatalError(str(error)) from None
            trial_dir = pathlib.Path(self.get_trial_dir(trial.trial_id))
            record = {"trial_id": trial.trial_id, "values": values, "config": config_lib.to_dict(config),
                      "tuner": os.environ.get("KERASTUNER_TUNER_ID", "tuner0")}  # Which process ran it.
            keras.backend.clear_session()
            started = time.perf_counter()
            try:
                from zoo.engine import trainer

                result = trainer.train(self.recipe, config, trial_dir / "run", verbose=self.train_verbose)
            except FloatingPointError as error:
                record.update(status="diverged", message=" ".join(str(error).split()))
                record["wall_time"] = round(time.perf_counter() - started, 2)
                rundir.write_atomically(trial_dir / TRIAL_RECORD, json.dumps(record, indent=2) + "\n")
                raise keras_tuner.errors.FailedTrialError(record["message"]) from None
            best = result.best
            metrics = {f"val_{name}": float(best[name]) for name in ["loss", *self.recipe.module.METRICS]}
            record.update(
                status="ok",
                metrics=metrics,
                best_epoch=best.get("epoch"),
                steps=result.steps,
                wall_time=round(time.perf_counter() - started, 2),
            )
            rundir.write_atomically(trial_dir / TRIAL_RECORD, json.dumps(record, indent=2) + "\n")
            return metrics

    return ZooTuner


def make_tuner(recipe, search: str, trials: int, fixed: dict, workdir, objective: str = "loss",
               initial_points=None, seed: int = 0, verbose: bool = False):
    """Builds (or reloads, if DIR/SEARCH exists) the keras-tuner Tuner for a search."""
    import keras_tuner

    if search not in SEARCHES:
        raise errors.UserError(f"search={search!r}: use one of {', '.join(SEARCHES)}.")
    if trials < 1:
        raise errors.UserError(f"trials={trials}: a search needs at least 1 trial.")
    space = search_space(recipe)
    overlap = sorted(set(fixed) & set(space))
    if overlap:
        raise errors.UserError(
            f"{', '.join(overlap)} is searched (SEARCH_SPACE of {recipe.name}) and cannot also be fixed; "
            "drop it from the key=value arguments."
        )
    base = config_lib.make_config(recipe.Config, fixed)  # Bad fixed overrides fail here, before any trial.
    name, direction = objective_for(recipe, objective)
    hyperparameters = keras_tuner.HyperParameters()
    declare(hyperparameters, space, grid=search == "grid")
    common = dict(
        objective=keras_tuner.Objective(name, direction),
        max_trials=trials,
        seed=seed,
        hyperparameters=hyperparameters,
        tune_new_entries=False,
        allow_new_entries=False,
        # A diverged trial is recorded as failed; never abort the whole search for it.
        max_consecutive_failed_trials=trials + 1,
    )
    if search == "random":
        oracle = _atomic(keras_tuner.oracles.RandomSearchOracle)(**common)
    elif search == "grid":
        oracle = _atomic(keras_tuner.oracles.GridSearchOracle)(**common)
    else:
        if initial_points is None:
            initial_points = max(2, trials // 4)
        oracle = _atomic(keras_tuner.oracles.BayesianOptimizationOracle)(num_initial_points=initial_points, **common)

    workdir = pathlib.Path(workdir)
    typed_fixed = {key: getattr(base, key) for key in fixed}
    _check_settings(workdir / search, recipe, typed_fixed, space, name)
    return _tuner_class()(
        recipe,
        fixed,
        verbose,
        oracle=oracle,
        directory=str(workdir),
        project_name=search,
        overwrite=False,
    )


def _check_settings(project: pathlib.Path, recipe, fixed, space, objective) -> None:
    """Refuses to resume a search that was started with other settings."""
    settings = {
        "recipe": recipe.name,
        "fixed": dict(sorted(fixed.items())),
        "search_space": json.loads(json.dumps(space)),
        "objective": objective,
    }
    path = project / SETTINGS
    if path.exists():
        saved = json.loads(path.read_text())
        changed = config_lib.differences(saved, settings)
        if changed:
            raise errors.UserError(
                f"{project} holds a search with other settings ({'; '.join(changed)}); rerun with the "
                "same settings to resume it, or pass another --workdir."
            )
        return
    project.mkdir(parents=True, exist_ok=True)
    rundir.write_atomically(path, json.dumps(settings, indent=2) + "\n")


def tune(recipe, search: str = "random", trials: int = 10, fixed=None, workdir=None, objective: str = "loss",
         initial_points=None, seed: int = 0, verbose: bool = False, quiet: bool = False) -> dict:
    """Runs (or resumes) a search and summarises every trial.

    Args:
        recipe: a `zoo.engine.registry.Recipe` or its name.
        search: random, grid or bayesian.
        trials: the number of trials in total (finished ones count).
        fixed: overrides for every trial ({key: "value"}).
        workdir: the search directory; `default_workdir(...)` if None.
        objective: "loss" (best validation loss) or "headline".
        initial_points: random trials before Bayesian optimization models the
            scores (bayesian only; default max(2, trials // 4)).
        seed: seeds the oracle's proposals.
        verbose: the trainer's progress bar; quiet: no keras-tuner display.

    Returns:
        The summary also written to DIR/SEARCH/results.json, plus "table",
        "command" and "png".
    """
    if isinstance(recipe, str):
        recipe = registry.get_recipe(recipe)
    fixed = dict(fixed or {})
    workdir = pathlib.Path(workdir) if workdir else default_workdir(recipe.name, fixed)
    # One search per directory at a time; keras-tuner's own chief/worker mode
    # (KERASTUNER_TUNER_ID set) shares the directory between its processes.
    owner = contextlib.nullcontext() if os.environ.get("KERASTUNER_TUNER_ID") else rundir.owned(workdir)
    with owner:
        return _tune(recipe, search, trials, fixed, workdir, objective, initial_points, seed, verbose, quiet)


def _tune(recipe, search, trials, fixed, workdir, objective, initial_points, seed, verbose, quiet) -> dict:
    import keras_tuner

    tuner = make_tuner(recipe, search, trials, fixed, workdir, objective, initial_points, seed, verbose)
    try:
        tuner.search(verbose=0 if quiet else 1)
    except keras_tuner.errors.FatalError:
        if tuner.user_error is not None:
            raise tuner.user_error from None
        raise
    summary = summarize(recipe, pathlib.Path(tuner.project_dir), search, fixed, *objective_for(recipe, objective))
    rundir.write_atomically(pathlib.Path(tuner.project_dir) / "results.json", json.dumps(summary, indent=2) + "\n")
    png = workdir / "search_progress.png"
    plot_progress(recipe, workdir, png)
    return {**summary, "table": format_table(recipe, summary), "png": str(png)}


# ---------------------------------------------------------------- summary


def read_trials(project: pathlib.Path) -> list:
    """Every trial's record (ours, or keras-tuner's for a trial that never trained), by id."""
    records = []
    for trial_dir in project.glob("trial_*"):
        ours = trial_dir / TRIAL_RECORD
        if ours.exists():
            records.append(json.loads(ours.read_text()))
            continue
        theirs = trial_dir / "trial.json"
        if theirs.exists():
            state = json.loads(theirs.read_text())
            records.append({
                "trial_id": state.get("trial_id"),
                "values": state.get("hyperparameters", {}).get("values", {}),
                "status": str(state.get("status", "unknown")).lower(),
            })
    return sorted(records, key=lambda r: int(r["trial_id"]))


def summarize(recipe, project: pathlib.Path, search: str, fixed: dict, objective: str, direction: str) -> dict:
    """The trials in order, with best-so-far scores and the best trial."""
    headline = "loss" if recipe.headline == "loss" else recipe.headline
    trials = read_trials(project)
    better = (lambda a, b: a < b) if direction == "min" else (lambda a, b: a > b)
    headline_better = (lambda a, b: a > b) if "accuracy" in headline or headline == "r2" else (lambda a, b: a < b)
    best, best_objective, best_headline = None, None, None
    for number, record in enumerate(trials, start=1):
        record["number"] = number
        metrics = record.get("metrics") or {}
        score = metrics.get(objective)
        if score is not None and math.isfinite(score) and (best_objective is None or better(score, best_objective)):
            best_objective, best = score, record
        value = metrics.get(f"val_{headline}")
        if value is not None and (best_headline is None or headline_better(value, best_headline)):
            best_headline = value
        record["best_so_far"] = best_objective
        record[f"best_val_{headline}_so_far"] = best_headline
    first_best_headline = next(
        (r["number"] for r in trials if (r.get("metrics") or {}).get(f"val_{headline}") == best_headline), None
    )
    summary = {
        "recipe": recipe.name,
        "search": search,
        "objective": objective,
        "direction": direction,
        "fixed": fixed,
        "headline": headline,
        "trials": trials,
        "completed": sum(r.get("status") == "ok" for r in trials),
        "best_trial": best["trial_id"] if best else None,
        "best_values": best["values"] if best else None,
        "best_metrics": best.get("metrics") if best else None,
        f"best_val_{headline}": best_headline,
        f"trials_to_best_val_{headline}": first_best_headline,
        "command": None,
    }
    if best is not None:
        summary["command"] = train_command(recipe.name, {**fixed, **best["values"]})
    return summary


def train_command(name: str, overrides: dict) -> str:
    """`make train MODEL=name ARGS="k=v ..."` for these overrides (exact values)."""
    parts = " ".join(f"{key}={_plain(value)}" for key, value in overrides.items())
    return f'make train MODEL={name} ARGS="{parts}"'


def _plain(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _format_values(values: dict) -> str:
    return " ".join(f"{k}={_short(v)}" for k, v in values.items())


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def format_table(recipe, summary: dict) -> str:
    """The trials as a markdown table, then the best trial and its command."""
    headline = summary["headline"]
    keys = list(search_space(recipe))
    columns = ["trial", *keys, "val loss"] + ([f"val {headline}"] if headline != "loss" else [])
    columns += ["steps", "wall s", "status", "best so far"]
    lines = []
    for record in summary["trials"]:
        metrics = record.get("metrics") or {}
        values = record.get("values", {})
        cells = [str(record["number"]), *(_short(values[k]) if k in values else "-" for k in keys)]
        cells.append(compare_lib._number(metrics.get("val_loss")))
        if headline != "loss":
            cells.append(compare_lib._number(metrics.get(f"val_{headline}")))
        cells += [
            compare_lib._text(record.get("steps")),
            compare_lib._text(record.get("wall_time")),
            record.get("status", "-"),
            compare_lib._number(record.get("best_so_far")),
        ]
        lines.append(cells)
    widths = [max(len(str(c)) for c in column) for column in zip(columns, *lines)]

    def render(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    text = [render(columns), rule, *(render(cells) for cells in lines), ""]
    text.append(
        f"{summary['search']} search on {summary['recipe']}: {summary['completed']}/{len(summary['trials'])} "
        f"trials completed; objective {summary['objective']} ({summary['direction']})."
    )
    if summary["best_trial"] is None:
        text.append("No trial finished with a finite loss; narrow the SEARCH_SPACE or set grad_clip_norm.")
        return "\n".join(text)
    best_number = next(r["number"] for r in summary["trials"] if r["trial_id"] == summary["best_trial"])
    text.append(f"best trial: #{best_number} ({_format_values(summary['best_values'])}), "
                + ", ".join(f"{k}={v:.4f}" for k, v in summary["best_metrics"].items()))
    if headline != "loss":
        text.append(
            f"best val_{headline} {summary[f'best_val_{headline}']:.4f}, first reached at trial "
            f"{summary[f'trials_to_best_val_{headline}']} of {len(summary['trials'])}"
        )
    text.append(f"train it: {summary['command']}")
    return "\n".join(text)


def plot_progress(recipe, workdir: pathlib.Path, path) -> None:
    """Best-so-far validation headline per trial, one line per search in `workdir`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5.5, 3.6))
    headline = None
    for search in SEARCHES:
        results = workdir / search / "results.json"
        if not results.exists():
            continue
        summary = json.loads(results.read_text())
        headline = summary["headline"]
        key = f"best_val_{headline}_so_far"
        points = [(r["number"], r[key]) for r in summary["trials"] if r.get(key) is not None]
        scores = [(r["number"], r["metrics"][f"val_{headline}"]) for r in summary["trials"] if r.get("metrics")]
        if points:
            line, = axis.step(*zip(*points), where="post", label=f"{search}: best so far")
            axis.plot(*zip(*scores), "o", color=line.get_color(), alpha=0.35, markersize=4)
    axis.set_xlabel("trial")
    axis.set_ylabel(f"validation {headline or 'metric'}")
    axis.set_title(f"{recipe.name}: search progress (dots: each trial)")
    axis.grid(alpha=0.3)
    if headline is not None:
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


# -------------------------------------------------------------------- CLI


def add_command(subparsers) -> None:
    parser = cli.add_intermixed_parser(
        subparsers,
        "tune",
        help="hyperparameter search (keras-tuner) over the recipe's SEARCH_SPACE",
        description="Search the recipe's SEARCH_SPACE with keras-tuner; every trial is trained by the "
        "zoo's trainer. key=value arguments are fixed for every trial. Rerunning resumes.",
    )
    parser.add_argument("name")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.add_argument("--search", choices=SEARCHES, default="random")
    parser.add_argument("--trials", type=int, default=10, help="trials in total (default 10)")
    parser.add_argument("--workdir", type=pathlib.Path, help="default: runs/tune/NAME[--fixed]")
    parser.add_argument("--objective", choices=("loss", "headline"), default="loss",
                        help="best validation loss (default) or the recipe's headline metric")
    parser.add_argument("--initial-points", type=int, default=None,
                        help="bayesian: random trials before the model takes over (default max(2, trials/4))")
    parser.add_argument("--seed", type=int, default=0, help="seeds the oracle's proposals")
    parser.add_argument("--verbose", action="store_true", help="the trainer's progress bar and epoch lines")
    parser.add_argument("--quiet", action="store_true", help="no keras-tuner trial display")
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    fixed = config_lib.split_overrides(args.overrides)
    if args.trials < 1:  # These mistakes are said before TensorFlow loads and before the workdir is made.
        raise errors.UserError(f"trials={args.trials}: a search needs at least 1 trial.")
    if args.initial_points is not None and args.initial_points < 1:
        raise errors.UserError(f"--initial-points {args.initial_points}: use 1 or more.")
    config_lib.make_config(registry.describe(args.name).Config, fixed)
    recipe = registry.get_recipe(args.name)
    result = tune(
        recipe,
        search=args.search,
        trials=args.trials,
        fixed=fixed,
        workdir=args.workdir,
        objective=args.objective,
        initial_points=args.initial_points,
        seed=args.seed,
        verbose=args.verbose,
        quiet=args.quiet,
    )
    print(result["table"])
    print(f"results: {pathlib.Path(args.workdir or default_workdir(recipe.name, fixed)) / args.search / 'results.json'}")
    print(f"plot: {result['png']}")
    return 0

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
Rerunning the same command resumes, exactly, however the search was stopped
(even killed inside a write): keras-tuner reloads its project, finished trials
are not run again, and an interrupted trial is rerun with its own values and
resumes from its last checkpoint; the later trials get the values an unbroken
search would have given them (`--seed` seeds the proposals). A larger --trials
extends a finished search. A damaged state file (zoo_search.json, oracle.json,
a trial.json) is one error line naming it.

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

The chief holds DIR for the whole search, as a plain search does (its lock
names its oracle's address); each worker waits for its chief, then checks
that DIR is held by that chief, and another search on DIR, distributed or not,
is refused with the holder's pid. The chief only serves trials (it trains
nothing) and returns when all are done;
keras-tuner needs grpcio and protobuf for this. It has not been run across
machines here (one machine, no cluster); single-process search is what the tests cover.
"""

import contextlib
import json
import math
import os
import pathlib

from zoo.lab import compare as compare_lib
from zoo.engine import config as config_lib
from zoo import errors
from zoo.engine import registry
from zoo.engine import record as record_lib
from zoo.engine import rundir
from zoo import files

# What to do about a damaged state file of a search (files.read_json names the file).
REMEDY = "restore it, or move its search folder aside and start again"
SEARCHES = ("random", "grid", "bayesian")
KINDS = ("log", "int", "float", "choice")
TRIAL_RECORD = "zoo_trial.json"
SETTINGS = "zoo_search.json"
GRID_POINTS = 3
# How long a distributed search's worker waits for its chief to answer (keras-tuner's own workers wait as long).
CHIEF_WAIT_SECONDS = 60 * 60


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
    return rundir.default_workdir("tune", compare_lib._safe(folder))


# ------------------------------------------------------------------- tuner


def save_state_atomically(path, state) -> None:
    """keras-tuner's JSON state files, written so that a kill leaves the old file or the new one.

    keras-tuner writes oracle.json, tuner0.json and each trial.json in place; a
    kill inside such a write left a truncated file that the rerun could not read.
    """
    files.write_atomically(path, json.dumps(state))


def _atomic(oracle_class):
    """`oracle_class` made to resume exactly: atomic saves, a seeded state, a reload that fits its files.

    - oracle.json and each trial.json are written atomically (`save_state_atomically`).
    - `seed` seeds the proposals whatever it is (keras-tuner takes 0 for "none"
      and draws a random seed), and Bayesian optimization's own random generator
      is saved in oracle.json, so a resumed search proposes what an unbroken one would.
    - `reload` treats oracle.json as the commit point and reads every file with
      `files.read_json` (see `reload`).
    """
    import keras_tuner
    import numpy

    class AtomicOracle(oracle_class):
        def __init__(self, *, seed, **kwargs):
            super().__init__(seed=seed, **kwargs)
            self.seed = self._seed_state = seed
            self._seed_own_generators()

        def _seed_own_generators(self):
            if hasattr(self, "_random_state"):  # Bayesian optimization: its generator and its regressor's seed.
                self._random_state = numpy.random.RandomState(self.seed)
                self.gpr = self._make_gpr()

        def get_state(self):
            state = super().get_state()
            if hasattr(self, "_random_state"):
                kind, keys, position, has_gauss, cached = self._random_state.get_state()
                state["zoo_random_state"] = [kind, keys.tolist(), position, has_gauss, cached]
            return state

        def set_state(self, state):
            super().set_state(state)
            self._seed_own_generators()
            if "zoo_random_state" in state:
                kind, keys, position, has_gauss, cached = state["zoo_random_state"]
                self._random_state.set_state((kind, numpy.array(keys, dtype=numpy.uint32), position, has_gauss, cached))

        def save(self):
            save_state_atomically(self._get_oracle_fname(), self.get_state())

        def _save_trial(self, trial):
            save_state_atomically(pathlib.Path(self._get_trial_dir(trial.trial_id)) / "trial.json", trial.get_state())

        def reload(self):
            """keras-tuner's reload, exact after a kill at any of the search's writes.

            oracle.json is the commit point: each trial.json is written before the
            oracle.json that counts it. A trial.json that oracle.json does not list
            is left from a trial creation killed before its oracle.json; nothing of
            that trial ran (training starts after that write), so it is left out
            and the oracle proposes it again, with the same id and values. A trial
            that oracle.json lists as ongoing, and not as ended, was interrupted: it
            is sent for retry (keras-tuner's way), so it is rerun with its own
            values and its run resumes from its checkpoint.
            """
            path = pathlib.Path(self._get_oracle_fname())
            state = files.read_json(path, REMEDY, kind=None) if path.exists() else None
            listed = state.get("start_order") if isinstance(state, dict) else []
            if state is not None and not (isinstance(listed, list) and all(isinstance(i, str) for i in listed)):
                raise errors.UserError(
                    f"{path} is not keras-tuner's oracle state (no list of trial ids in \"start_order\"); "
                    "restore it, or move its folder aside and start again."
                )
            self.trials = {}
            for trial_path in sorted(pathlib.Path(self._project_dir).glob("trial_*/trial.json")):
                trial_state = files.read_json(trial_path, REMEDY, kind=None)
                trial_id = trial_state.get("trial_id") if isinstance(trial_state, dict) else None
                if trial_id not in listed:
                    continue
                try:
                    self.trials[trial_id] = keras_tuner.engine.trial.Trial.from_state(trial_state)
                except (KeyError, TypeError, ValueError, AttributeError) as error:
                    raise errors.UserError(
                        f"{trial_path} is not keras-tuner's trial state ({type(error).__name__}: {error}); "
                        "restore it, or move its folder aside and start again."
                    ) from None
            if state is not None:
                try:
                    self.set_state(state)
                except (KeyError, TypeError, ValueError, AttributeError) as error:
                    raise errors.UserError(
                        f"{path} is not keras-tuner's oracle state of the trials beside it ({type(error).__name__}: "
                        f"{error}); restore it, or move its folder aside and start again."
                    ) from None
            for trial in self.ongoing_trials.values():
                # end_trial saves oracle.json before it drops the trial from the ongoing
                # ones: a trial whose end was saved is not interrupted, so not run again.
                if trial.trial_id not in self.end_order and trial.trial_id not in self._retry_queue:
                    self._retry_queue.append(trial.trial_id)
            self.ongoing_trials = {}

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
            self.reloaded = False
            super().__init__(**kwargs)
            # keras-tuner reloads only once tuner0.json exists, which is written after the
            # first trial ends; a search killed before that has an oracle.json to resume from.
            if not self.reloaded and not self._is_worker() and os.path.exists(self.oracle._get_oracle_fname()):
                self.oracle.reload()

        def save(self):
            if not self._is_worker():
                self.oracle.save()
            save_state_atomically(self._get_tuner_fname(), self.get_state())

        def reload(self):
            self.reloaded = True
            if not self._is_worker():
                self.oracle.reload()
            self.set_state(files.read_json(self._get_tuner_fname(), REMEDY, kind=None))

        def run_trial(self, trial, *args, **kwargs):
            values = dict(trial.hyperparameters.values)
            try:
                config = config_lib.make_config(self.recipe.Config, {**self.fixed, **values})
            except ValueError as error:
                # A bad range is the user's to fix: stop the search, do not skip.
                self.user_error = ValueError(f"Trial {trial.trial_id} ({_format_values(values)}): {error}")
                raise keras_tuner.errors.FatalError(str(error)) from None
            trial_dir = pathlib.Path(self.get_trial_dir(trial.trial_id))
            extra = {"trial_id": trial.trial_id, "values": values,
                     "tuner": os.environ.get("KERASTUNER_TUNER_ID", "tuner0")}  # Which process ran it.
            try:
                record = record_lib.train_and_record(self.recipe, config, trial_dir / "run", trial_dir / TRIAL_RECORD,
                                                     verbose=self.train_verbose, extra=extra)
            except errors.UserError as error:
                # The trial's folder cannot be used (say, it holds a run of other values):
                # the user's to fix, so stop the search with it, do not record a failed trial.
                self.user_error = error
                raise keras_tuner.errors.FatalError(str(error)) from None
            if record["status"] == "diverged":
                raise keras_tuner.errors.FailedTrialError(record["message"])
            return record["metrics"]

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
        saved = files.read_json(path, REMEDY, kind=None)
        if not isinstance(saved, dict):
            raise errors.UserError(
                f"{path} is not the zoo's record of a search's settings (not a JSON object); restore it, "
                "or move its folder aside and start again."
            )
        changed = config_lib.differences(saved, settings)
        if changed:
            raise errors.UserError(
                f"{project} holds a search with other settings ({'; '.join(changed)}); rerun with the "
                "same settings to resume it, or pass another --workdir."
            )
        return
    project.mkdir(parents=True, exist_ok=True)
    files.write_atomically(path, json.dumps(settings, indent=2) + "\n")


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
    # One search per directory at a time. In keras-tuner's chief/worker mode the
    # chief holds the directory for the whole search (its lock names its oracle)
    # and its workers share it; a worker checks that the holder is its chief.
    role, address = distributed_role()
    if role == "worker":
        check_chief_holds(workdir, address)
        owner = contextlib.nullcontext()
    else:
        owner = files.owned(workdir, note=chief_note(address) if role == "chief" else "")
    with owner:
        return _tune(recipe, search, trials, fixed, workdir, objective, initial_points, seed, verbose, quiet)


def distributed_role() -> tuple:
    """("alone", None), or ("chief" or "worker", "IP:PORT" of the oracle) in keras-tuner's distributed mode.

    keras-tuner runs a distributed search when KERASTUNER_ORACLE_IP is set; the
    process whose KERASTUNER_TUNER_ID contains "chief" hosts the oracle.
    """
    ip = os.environ.get("KERASTUNER_ORACLE_IP")
    if ip is None:
        return "alone", None
    missing = [name for name in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID") if not os.environ.get(name)]
    if missing:
        raise errors.UserError(
            f"KERASTUNER_ORACLE_IP is set (a distributed search) but {' and '.join(missing)} is not; set "
            "KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT on every process (see "
            "zoo/lab/tune.py), or none of them for a search in one process."
        )
    role = "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"
    return role, f"{ip}:{os.environ['KERASTUNER_ORACLE_PORT']}"


def chief_note(address: str) -> str:
    """What a distributed search's chief writes in its directory's lock, for its workers to compare."""
    return f"the tune chief serving oracle {address}"


def check_chief_holds(workdir: pathlib.Path, address: str) -> None:
    """A worker's check that the chief at `address` holds `workdir`: the workers share their chief's folder only.

    Waits (as keras-tuner's workers do) until the chief answers; by then it
    holds its folder, for it takes the lock before it serves.
    """
    import grpc

    with grpc.insecure_channel(address) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=CHIEF_WAIT_SECONDS)
        except grpc.FutureTimeoutError:
            raise errors.UserError(
                f"No tune chief answered at {address} within {CHIEF_WAIT_SECONDS // 60} minutes; start it "
                "(KERASTUNER_TUNER_ID=chief, the same --workdir) or fix KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT."
            ) from None
    held = files.holder(workdir)
    if held is None or held[1] != chief_note(address):
        now = "no process holds it" if held is None else f"it is in use by {files.describe_holder(*held)}"
        raise errors.UserError(
            f"Workdir {str(workdir)!r} is not held by {chief_note(address)} ({now}); run this worker with its "
            "chief's --workdir, or give it the KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT of that folder's chief."
        )


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
    files.write_atomically(pathlib.Path(tuner.project_dir) / "results.json", json.dumps(summary, indent=2) + "\n")
    png = workdir / "search_progress.png"
    plot_progress(recipe, workdir, png)
    return Search({**summary, "table": format_table(recipe, summary), "png": str(png)})


# ---------------------------------------------------------------- summary


class Search(dict):
    """What `tune` returns: a plain dict (best_values, table, png, ...), shown in a notebook as its table."""

    def __repr__(self) -> str:
        best = f"best {self['best_values']}" if self.get("best_values") else "no finished trial"
        return f"Search({self['recipe']}, {self['search']}: {self['completed']}/{len(self['trials'])} trials, {best})"

    def _repr_markdown_(self) -> str:
        return self["table"]



def read_trials(project: pathlib.Path) -> list:
    """Every trial's record (ours, or keras-tuner's for a trial that never trained), by id."""
    records = []
    for trial_dir in project.glob("trial_*"):
        ours = trial_dir / TRIAL_RECORD
        if ours.exists():
            records.append(_object(ours, "the zoo's record of a trial", ("trial_id",)))
            continue
        theirs = trial_dir / "trial.json"
        if theirs.exists():
            state = _object(theirs, "keras-tuner's trial state", ("trial_id",))
            records.append({
                "trial_id": state.get("trial_id"),
                "values": state.get("hyperparameters", {}).get("values", {}),
                "status": str(state.get("status", "unknown")).lower(),
            })
    return sorted(records, key=lambda r: int(r["trial_id"]))


def _object(path: pathlib.Path, what: str, keys) -> dict:
    """The JSON object in `path`, which must have `keys`; a UserError naming the file otherwise."""
    value = files.read_json(path, REMEDY, kind=None)
    if not isinstance(value, dict) or any(key not in value for key in keys):
        raise errors.UserError(
            f"{path} is not {what} (a JSON object with {', '.join(keys)}); restore it, or move its folder "
            "aside and start again."
        )
    return value


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
            compare_lib._text(record.get("wall_time_s")),
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
    import matplotlib.figure

    figure = matplotlib.figure.Figure(figsize=(5.5, 3.6))
    axis = figure.subplots()
    headline = None
    for search in SEARCHES:
        results = workdir / search / "results.json"
        if not results.exists():
            continue
        summary = files.read_json(results, REMEDY, kind=None)
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


# -------------------------------------------------------------------- CLI

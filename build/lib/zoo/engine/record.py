"""Train one config and keep a record of how it went: the one way compare, tune and ship train.

    record = record.train_and_record(recipe, config, "runs/compare/.../lr=0.1", extra={"label": "0.1"})
    record["status"], record["best_validation"], record["metrics"], record["wall_time_s"]

The record (JSON, beside the run: RUN/../NAME.json is the caller's choice) holds
the resolved config, "ok" or "diverged" (with the step and the trainer's
message), the steps, the best validation record and its metrics as
`val_<name>`, the recipe's report, the wall time, and the machine and library
versions. `finished(record_path, config)` gives back a record whose run
finished with this exact config, so a rerun reuses it instead of training.
"""

import json
import pathlib
import time

from zoo import errors, files
from zoo.engine import config as config_lib
from zoo.engine import rundir


def finished(record_path, config, needs=()):
    """The record at `record_path` if it is of this exact `config` (and every path in `needs` exists), else None.

    A record cut short by a kill is not reused: its run is trained (resumed) again.
    """
    path = pathlib.Path(record_path)
    if not path.exists():
        return None
    try:
        saved = files.read_json(path, "")
    except errors.UserError:
        return None
    if saved.get("config") != config_lib.to_dict(config) or not all(pathlib.Path(p).exists() for p in needs):
        return None
    return saved


def train_and_record(recipe, config, run_path, record_path=None, *, verbose=False, extra=None,
                     evaluate_test=False) -> dict:
    """Trains `config` into `run_path` (resuming what is there), writes the record, returns it.

    Args:
        recipe, config: what to train.
        run_path: the run directory.
        record_path: where the record goes (atomically); None writes none.
        verbose: the trainer's progress bar and per-epoch lines.
        extra: fields the caller adds first (a seed, a trial id, the hardware).
        evaluate_test: also score the best weights on the test split ("test").

    A diverged run (the trainer's non-finite stop) is recorded as "diverged";
    any other error propagates.
    """
    import keras

    from zoo.engine import runs, trainer

    keras.backend.clear_session()  # Each run starts from the same clean Keras state.
    started = time.perf_counter()
    record = {**(extra or {}), "config": config_lib.to_dict(config)}
    try:
        result = trainer.train(recipe, config, run_path, verbose=verbose)
    except FloatingPointError as error:  # The trainer's non-finite stop (trainer.Diverged carries its step).
        record.update(status="diverged", steps=getattr(error, "step", None), message=" ".join(str(error).split()))
    else:
        best = result.best
        record.update(
            status="ok",
            steps=result.steps,
            nonfinite_steps=result.nonfinite_steps,
            resumed_from_step=result.resumed_from_step,
            best_validation=best,
            best_epoch=best.get("epoch"),
            metrics={f"val_{name}": float(best[name]) for name in ["loss", *recipe.module.METRICS] if name in best},
            report={k: v for k, v in (result.report or {}).items() if isinstance(v, (int, float, str))},
        )
        if evaluate_test:
            record["test"] = runs.evaluate_model(recipe, result.model, result.splits, "test")
    record.update(wall_time_s=round(time.perf_counter() - started, 2), versions=rundir.versions(),
                  git_commit=rundir.git_commit())
    if record_path is not None:
        files.write_atomically(record_path, json.dumps(record, indent=2) + "\n")
    return record

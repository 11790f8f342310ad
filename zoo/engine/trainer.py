"""One GradientTape trainer for every recipe.

The trainer knows a recipe only through its contract (zoo/engine/registry.py): it asks
for the data, the model, the per-example loss and the metrics, and does the rest
the same way for all of them:

- A compiled call (zoo/engine/steps.py) runs up to `steps_per_call` optimizer steps
  in a `tf.while_loop` (forward pass, loss, gradients, one all-reduce, optional
  global-norm clipping, apply), so the host is visited once per call, not once
  per step. A call never crosses an epoch's end, a `checkpoint_every` step,
  a step whose TensorBoard scalars are due (every SUMMARY_EVERY) or
  `max_steps`. The call is traced once and never again.
- Input (zoo/engine/batches.py): a split that fits in memory is held as tensors and
  each step gathers its batch from the epoch's seeded permutation inside the
  loop; a larger split streams through tf.data. Both give the same order for
  the same (seed, epoch), so a resumed run lands on its exact example.
- Evaluation on the validation split every epoch, early stopping on the
  validation loss that restores the best weights, a progress bar.
- Checkpoints (zoo/engine/checkpoints.py) of everything a resume needs. Rerunning
  the same command resumes from the newest readable one, bit-identically on
  CPU (see docs/reproducibility.md).
- Output in the run directory: config.json, metrics.jsonl, tensorboard/,
  curves.png, final.weights.h5 and best.weights.h5 (see zoo/engine/rundir.py).
"""

import dataclasses
import math
import os
import pathlib
import sys
import time

import keras
import tensorflow as tf
from absl import flags
from absl import logging

from zoo.engine import batches as batches_lib
from zoo.engine import checkpoints as checkpoints_lib
from zoo.engine import config as config_lib
from zoo import errors
from zoo.engine import optimizers
from zoo.engine import plots
from zoo.engine import rundir
from zoo.engine import runs
from zoo.engine import steps

# Per-step TensorBoard scalars (loss, gradient norms, learning rate) every this
# many steps; per-epoch train/validation records are always written.
SUMMARY_EVERY = 50
# Without a terminal, a progress line at most this often within an epoch.
PROGRESS_SECONDS = 30.0


@dataclasses.dataclass
class TrainResult:
    """What a finished run returns; the same facts are in the run directory."""

    model: keras.Model
    splits: object  # The datasets.Splits it trained on.
    workdir: pathlib.Path
    history: list  # The metrics.jsonl records.
    best: dict  # The validation record with the lowest loss.
    steps: int  # Optimizer steps taken in total (across resumes).
    resumed_from_step: int  # 0 for a fresh run.
    wall_time: float  # Seconds spent in this process.
    nonfinite_steps: int  # Steps skipped for NaN/Inf (skip_nonfinite=true).
    report: dict  # Whatever the recipe's `report` hook returned.

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value:.4g}" for key, value in self.best.items()
                          if key not in ("step", "epoch", "wall_time") and isinstance(value, (int, float)))
        return (f"TrainResult({str(self.workdir)!r}: {self.steps} steps in {self.wall_time:.1f} s; "
                f"best validation (epoch {self.best.get('epoch')}): {shown or 'none'})")


class Diverged(FloatingPointError):
    """Training stopped at a non-finite loss or gradient; `step` is the step that was not applied."""

    def __init__(self, step: int, message: str):
        super().__init__(message)
        self.step = step


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy, TF and Keras, and makes TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class Trainer:
    """Trains one recipe with one config into one run directory.

    Args:
        recipe: a `zoo.engine.registry.Recipe`.
        config: the recipe's validated Config.
        workdir: the run directory (created if needed).
        strategy: a `tf.distribute.Strategy`; `runs.default_strategy()` if None.
        verbose: a progress bar on a terminal, and a line per epoch (see `say`).
    """

    def __init__(self, recipe, config, workdir, strategy=None, verbose=True):
        self.recipe = recipe
        self.config = config
        self.strategy = strategy or runs.default_strategy()
        # In a multi-worker run only the chief writes the run directory.
        self.chief = runs.is_chief(self.strategy)
        self.several_workers = runs.cluster_size() > 1
        self.run = rundir.RunDir(workdir, writer=self.chief)
        self.verbose = verbose and self.chief
        self.metric_names = list(recipe.module.METRICS)

    # ---------------------------------------------------------------- set-up

    def _setup(self) -> None:
        config = self.config
        self.splits = self.recipe.module.load_data(config)
        info = self.splits.info
        self.num_train = int(info.num_examples["train"])
        if self.num_train < 1:
            raise errors.UserError(f"Dataset {info.name!r} has an empty training split.")
        self.steps_per_epoch = math.ceil(self.num_train / config.batch_size)
        self.total_steps = config.epochs * self.steps_per_epoch
        if config.max_steps:
            self.total_steps = min(self.total_steps, config.max_steps)
        self.batches = batches_lib.training_batches(
            self.splits.train, self.num_train, config.batch_size, config.seed, self.strategy
        )
        with self.strategy.scope():
            sample_features = next(iter(self.splits.train.batch(2)))[0]
            self.model = runs.build_model(self.recipe, config, info, sample_features)
            self.optimizer = optimizers.make_optimizer(
                config.optimizer, config.learning_rate, config.lr_schedule, self.total_steps
            )
            if config.precision == "mixed_float16":
                self.optimizer = keras.optimizers.LossScaleOptimizer(self.optimizer)
            self.optimizer.build(self.model.trainable_variables)
            self.state = checkpoints_lib.TrainState(self.metric_names)
        self.checkpoints = checkpoints_lib.Checkpoints(
            self.run.checkpoints, self.model, self.optimizer, self.state, writer=self.chief
        )
        self.evaluator = runs.Evaluator(self.recipe, self.model, self.strategy)
        self.steps = steps.TrainSteps(
            self.recipe, config, self.model, self.optimizer, self.state, self.batches, self.strategy
        )

    # ------------------------------------------------------------------ loop

    def fit(self) -> TrainResult:
        """Trains to `epochs` (or `max_steps`), resuming from the latest checkpoint.

        The workdir is this process's alone for the whole run (rundir.owned).
        """
        with self.run.owned():
            return self._fit()

    def _fit(self) -> TrainResult:
        started = time.perf_counter()
        self.run.prepare()
        saved = rundir.check_resume(self.run, self.recipe, config_lib.to_dict(self.config), checkpoints_lib.warn)
        seed_everything(self.config.seed)
        previous_policy = keras.mixed_precision.dtype_policy()
        keras.mixed_precision.set_dtype_policy(self.config.precision)
        try:
            self._setup()
            rundir.check_same_data(self.run, saved, self.splits.info.fingerprint)
            resumed = self.checkpoints.restore()
            resumed_from = int(self.state.step.numpy()) if resumed else 0
            self.run.write_config(
                self.recipe.name, config_lib.to_dict(self.config), self.splits.info.fingerprint, self.recipe.source
            )
            # metrics.jsonl keeps exactly the records that belong to the restored
            # checkpoint: later ones (from a run killed after writing them) are
            # written again, identically, by the resumed run.
            if resumed:
                say(self.verbose, f"Resuming {self.recipe.name} from step {resumed_from} in {self.run.path}.")
            self.run.truncate_metrics(resumed_from, keep=int(self.state.records.numpy()))
            self._records_restored = int(self.state.records.numpy())
            self._loop(started)
            return self._finish(started, resumed_from)
        finally:
            keras.mixed_precision.set_dtype_policy(previous_policy)

    def _loop(self, started: float) -> None:
        config, state = self.config, self.state
        self._last_checkpoint = time.monotonic()
        self._unsaved_best = None  # Weights of a better epoch, not written yet.
        self._best_weights = None  # The best weights this process saw (a non-chief worker writes no file).
        writer = tf.summary.create_file_writer if self.chief else lambda path: tf.summary.create_noop_writer()
        self._writer = writer(str(self.run.tensorboard / "train"))
        self._validation_writer = writer(str(self.run.tensorboard / "validation"))
        while True:
            epoch, step = int(state.epoch.numpy()), int(state.step.numpy())
            # Steps trained but not evaluated yet: resumed from a `checkpoint_every`
            # checkpoint taken just before an end-of-epoch evaluation that was killed.
            pending = step > int(state.evaluated_step.numpy())
            if not pending and (epoch >= config.epochs or step >= self.total_steps):
                break
            if not pending and config.patience and int(state.bad_epochs.numpy()) >= config.patience:
                break  # Resumed from the checkpoint of an early stop.
            epoch_start = epoch * self.steps_per_epoch
            if step == epoch_start:
                state.reset_epoch_sums()
            self._train_epoch(epoch, step, min(epoch_start + self.steps_per_epoch, self.total_steps))
            finished = int(state.step.numpy()) - epoch_start >= self.steps_per_epoch
            if self._end_of_epoch(epoch, finished, started):
                break
        self._writer.flush()
        self._validation_writer.flush()

    def _train_epoch(self, epoch: int, step: int, end: int) -> None:
        """Trains epoch `epoch` from step `step` to step `end`, one call at a time."""
        epoch_start = epoch * self.steps_per_epoch
        progress = Progress(self.verbose, epoch, self.config.epochs, epoch_start, end, step)
        if self.batches.streaming:
            source = self.batches.epoch_iterator(epoch, step - epoch_start)
        else:
            source = self.batches.epoch_order(epoch)
        while step < end:
            outputs = self.steps(source, step - epoch_start, self._call_length(step, end))
            step = int(outputs["step"])
            self._after_call(step, outputs)
            progress.update(step, float(outputs["epoch_loss"]))

    def _call_length(self, step: int, end: int) -> int:
        """Steps in the next call: up to `steps_per_call`, stopping at every boundary."""
        boundaries = [end, step + self.config.steps_per_call, (step // SUMMARY_EVERY + 1) * SUMMARY_EVERY]
        if self.config.checkpoint_every:
            every = self.config.checkpoint_every
            boundaries.append((step // every + 1) * every)
        return min(boundaries) - step

    def _after_call(self, step: int, outputs: dict) -> None:
        """After each call: a non-finite stop, TensorBoard scalars, `checkpoint_every` saves."""
        if not outputs["finite"] and not self.config.skip_nonfinite:
            latest = self.checkpoints.latest or "none yet"
            raise Diverged(
                step,
                f"Non-finite loss or gradient at step {step}; stopped without applying it. "
                f"Last good checkpoint: {latest}. Lower learning_rate, set grad_clip_norm, "
                "or pass skip_nonfinite=true to skip such steps.",
            )
        if step % SUMMARY_EVERY == 0:
            with self._writer.as_default(step=step):
                for name in ("loss", "grad_norm", "clipped_grad_norm"):
                    tf.summary.scalar(name, float(outputs[name]))
                tf.summary.scalar("learning_rate", current_learning_rate(self.optimizer))
        if self.config.checkpoint_every and step % self.config.checkpoint_every == 0:
            self._save_checkpoint(step)

    def _save_checkpoint(self, step: int) -> None:
        self._save_best_weights()
        self.checkpoints.save(step)
        self._last_checkpoint = time.monotonic()

    def _save_best_weights(self) -> None:
        """Writes best.weights.h5 if a better epoch came since it was last written.

        The best weights are kept in memory and written with each checkpoint
        (and at the end), not at every better epoch: so the file always matches
        the checkpoint's best_loss, and a short epoch does not pay for an h5 file.
        """
        if self._unsaved_best is None:
            return
        if self.chief:
            current = self.model.get_weights()
            self.model.set_weights(self._unsaved_best)
            save_weights(self.model, self.run.best_weights)
            self.model.set_weights(current)
        self._best_weights, self._unsaved_best = self._unsaved_best, None

    def _end_of_epoch(self, epoch: int, finished: bool, started: float) -> bool:
        """Evaluates, records, keeps the best weights, checkpoints; returns True when training should stop."""
        config, state = self.config, self.state
        step = int(state.step.numpy())
        train_record = state.train_record(self.metric_names)
        validation_record = self.evaluator(self.splits.validation)
        if finished:
            state.epoch.assign_add(1)
        self._record(epoch, step, started, train_record, validation_record)
        stop = False
        if state.track_best(validation_record["loss"], epoch + 1):
            self._unsaved_best = self.model.get_weights()
        elif config.patience and int(state.bad_epochs.numpy()) >= config.patience:
            say(self.verbose, f"Early stopping after epoch {epoch + 1}: no improvement for "
                f"{config.patience} epochs (best epoch {int(state.best_epoch.numpy())}).")
            stop = True
        last_epoch = stop or step >= self.total_steps or int(state.epoch.numpy()) >= config.epochs
        # A checkpoint costs about as much as a few dozen small steps, so for
        # short epochs it is written every `checkpoint_seconds`, not every epoch.
        # Resuming replays the epochs since the last one, bit for bit.
        # Every worker of a multi-worker run must take part in each save, and their
        # clocks may disagree, so there a checkpoint is taken at every epoch end.
        due = time.monotonic() - self._last_checkpoint >= config.checkpoint_seconds or self.several_workers
        if last_epoch or due:
            self._save_checkpoint(step)
        say(self.verbose, f"epoch {epoch + 1}/{config.epochs} step {step}: "
            + " ".join(f"train_{k}={v:.4g}" for k, v in train_record.items() if "norm" not in k)
            + " " + " ".join(f"val_{k}={v:.4g}" for k, v in validation_record.items()))
        return stop

    def _record(self, epoch: int, step: int, started: float, train_record: dict, validation_record: dict) -> None:
        """One epoch's two records in metrics.jsonl (counted in the state) and its TensorBoard scalars."""
        stamp = {"step": step, "epoch": epoch + 1, "wall_time": round(time.perf_counter() - started, 3)}
        self.run.append_metrics({**stamp, "split": "train", **train_record})
        self.run.append_metrics({**stamp, "split": "validation", **validation_record})
        self.state.records.assign_add(2)
        self.state.evaluated_step.assign(step)
        with self._validation_writer.as_default(step=step):
            for name, value in validation_record.items():
                tf.summary.scalar(f"epoch_{name}", value)

    def _finish(self, started: float, resumed_from: int) -> TrainResult:
        self._save_best_weights()  # Already written with the last checkpoint, unless resumed to the end.
        if self.chief:
            save_weights(self.model, self.run.final_weights)
        # The returned model is the one with the best validation loss, whether or
        # not early stopping cut the run short; `evaluate` reads the same file.
        if not self.chief and self._best_weights is not None:
            self.model.set_weights(self._best_weights)
        elif self.run.best_weights.exists():
            runs.load_weights(self.model, self.run.best_weights)
        history = self.run.read_metrics()
        validation = [r for r in history if r["split"] == "validation"]
        best = min(validation, key=lambda r: r["loss"]) if validation else {}
        hook = self.recipe.hook("report") if self.chief else None
        # A rerun of a finished run adds no record: its curves.png is already drawn.
        if self.chief and (int(self.state.records.numpy()) != self._records_restored or not self.run.curves.exists()):
            plots.training_curves(history, self.recipe.headline, self.run.curves)
        report = (hook(self.model, self.splits, self.config, self.run.path) or {}) if hook else {}
        return TrainResult(
            model=self.model, splits=self.splits, workdir=self.run.path, history=history, best=best,
            steps=int(self.state.step.numpy()), resumed_from_step=resumed_from, wall_time=time.perf_counter() - started,
            nonfinite_steps=int(self.state.nonfinite_steps.numpy()), report=report,
        )


def current_learning_rate(optimizer) -> float:
    rate = optimizer.learning_rate  # A keras Variable, or a schedule's tensor.
    return float(tf.convert_to_tensor(getattr(rate, "value", rate)))


def say(verbose: bool, message: str) -> None:
    """A progress line: an absl INFO line under the CLI (or any program whose absl flags are
    parsed: `--verbosity=-1` hides it), a plain print in a notebook or a script."""
    if not verbose:
        return
    if flags.FLAGS.is_parsed():
        logging.info(message)
    else:
        print(message, flush=True)


class Progress:
    """An epoch's progress: keras's bar on a terminal; in a log file (CI, nohup, tee), whose
    redraws would be noise, a plain line every PROGRESS_SECONDS of a long epoch."""

    def __init__(self, verbose: bool, epoch: int, epochs: int, epoch_start: int, end: int, step: int):
        self.verbose, self.epoch, self.epochs, self.epoch_start, self.end = verbose, epoch, epochs, epoch_start, end
        self.on_terminal = verbose and sys.stdout.isatty()
        self.bar = keras.utils.Progbar(end - epoch_start, verbose=1 if self.on_terminal else 0, stateful_metrics=["loss"])
        self.last_line, self.last_step = time.monotonic(), step

    def update(self, step: int, loss: float) -> None:
        self.bar.update(step - self.epoch_start, [("loss", loss)])
        now = time.monotonic()
        if self.verbose and not self.on_terminal and now - self.last_line >= PROGRESS_SECONDS:
            say(True, f"epoch {self.epoch + 1}/{self.epochs} step {step} ({step - self.epoch_start}/{self.end - self.epoch_start}): "
                f"loss={loss:.4g} {(step - self.last_step) / (now - self.last_line):.1f} steps/s")
            self.last_line, self.last_step = now, step


def save_weights(model: keras.Model, path: pathlib.Path) -> None:
    """Saves weights so that a kill leaves either the old file or the new one."""
    temporary = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    model.save_weights(temporary)
    os.replace(temporary, path)


def train(recipe, config, workdir, strategy=None, verbose=True) -> TrainResult:
    """Trains `recipe` with `config` into `workdir`; see `Trainer`."""
    return Trainer(recipe, config, workdir, strategy=strategy, verbose=verbose).fit()

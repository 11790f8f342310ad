"""One GradientTape trainer for every recipe.

The trainer knows a recipe only through its contract (zoo/registry.py): it asks
for the data, the model, the per-example loss and the metrics, and does the rest
the same way for all of them:

- A compiled call runs up to `steps_per_call` optimizer steps in a
  `tf.while_loop` (forward pass, loss, gradients, one all-reduce, optional
  global-norm clipping, apply), so the host is visited once per call, not once
  per step. A call never crosses an epoch's end, a `checkpoint_every` step,
  a step whose TensorBoard scalars are due (every SUMMARY_EVERY) or
  `max_steps`. The call is traced once and never again.
- Input (zoo/batches.py): a split that fits in memory is held as tensors and
  each step gathers its batch from the epoch's seeded permutation inside the
  loop; a larger split streams through tf.data. Both give the same order for
  the same (seed, epoch), so a resumed run lands on its exact example.
- Evaluation on the validation split every epoch, early stopping on the
  validation loss that restores the best weights, a progress bar.
- Checkpoints (zoo/checkpoints.py) of everything a resume needs. Rerunning
  the same command resumes from the newest readable one, bit-identically on
  CPU (see docs/reproducibility.md).
- Output in the run directory: config.json, metrics.jsonl, tensorboard/,
  curves.png, final.weights.h5 and best.weights.h5 (see zoo/rundir.py).

Losses across devices: each replica sums its examples' losses and divides by
the number of examples in the whole global batch (all-reduced), so the summed
gradient equals the single-device mean gradient even for a ragged last batch.
"""

import dataclasses
import math
import os
import pathlib
import time

import keras
import tensorflow as tf

from zoo import batches as batches_lib
from zoo import checkpoints as checkpoints_lib
from zoo import config as config_lib
from zoo import optimizers
from zoo import plots
from zoo import rundir
from zoo import runs

# Per-step TensorBoard scalars (loss, gradient norms, learning rate) every this
# many steps; per-epoch train/validation records are always written.
SUMMARY_EVERY = 50
# Config keys that change how fast a run goes, not what it computes: a resume
# may change them.
SPEED_KEYS = ("steps_per_call",)


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


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy, TF and Keras, and makes TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class Trainer:
    """Trains one recipe with one config into one run directory.

    Args:
        recipe: a `zoo.registry.Recipe`.
        config: the recipe's validated Config.
        workdir: the run directory (created if needed).
        strategy: a `tf.distribute.Strategy`; `runs.default_strategy()` if None.
        verbose: print a progress bar and a line per epoch.
    """

    def __init__(self, recipe, config, workdir, strategy=None, verbose=True):
        self.recipe = recipe
        self.config = config
        self.run = rundir.RunDir(workdir)
        self.strategy = strategy or runs.default_strategy()
        self.verbose = verbose
        self.metric_names = list(recipe.module.METRICS)

    # ---------------------------------------------------------------- set-up

    def _check_workdir(self) -> None:
        self.run.prepare()
        saved = self.run.read_config()
        if saved is None:
            return
        if saved.get("recipe") != self.recipe.name:
            raise ValueError(
                f"Workdir {str(self.run.path)!r} holds a run of recipe "
                f"{saved.get('recipe')!r}, not {self.recipe.name!r}; pass another --workdir."
            )
        old, new = saved.get("config", {}), config_lib.to_dict(self.config)
        changed = [line for line in config_lib.differences(old, new) if line.split(":")[0] not in SPEED_KEYS]
        if changed:
            raise ValueError(
                f"Workdir {str(self.run.path)!r} holds a run with a different config "
                f"({'; '.join(changed)}); rerun with the same config to resume, or pass "
                "another --workdir."
            )

    def _setup(self) -> None:
        config = self.config
        self.splits = self.recipe.module.load_data(config)
        info = self.splits.info
        self.num_train = int(info.num_examples["train"])
        if self.num_train < 1:
            raise ValueError(f"Dataset {info.name!r} has an empty training split.")
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
        self.checkpoints = checkpoints_lib.Checkpoints(self.run.checkpoints, self.model, self.optimizer, self.state)
        self.evaluator = runs.Evaluator(self.recipe, self.model, self.strategy)
        self._gradients = tf.function(self._replica_gradients, jit_compile=True) if config.jit_compile else self._replica_gradients
        signature = None if self.batches.streaming else [
            tf.TensorSpec([None], tf.int64), tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.int32)
        ]
        call = self._streaming_call if self.batches.streaming else self._in_memory_call
        self.train_call = tf.function(call, input_signature=signature)

    # ------------------------------------------------------------- the steps

    def _replica_gradients(self, features, targets, global_count):
        """Forward and backward on one replica: (per-example loss sums, gradients)."""
        optimizer = self.optimizer
        with tf.GradientTape() as tape:
            outputs = tf.cast(self.model(features, training=True), tf.float32)
            losses = runs.per_example(self.recipe.module.loss(targets, outputs))
            loss = tf.reduce_sum(losses) / tf.maximum(global_count, 1.0)
            scaled_loss = optimizer.scale_loss(loss)
        variables = self.model.trainable_variables
        gradients = tape.gradient(scaled_loss, variables)
        gradients = [tf.zeros_like(v) if g is None else g for g, v in zip(gradients, variables)]
        # Embedding lookups give sparse IndexedSlices; make them dense for the maths below.
        gradients = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in gradients]
        sums = {"count": tf.cast(tf.shape(outputs)[0], tf.float32), "loss": tf.reduce_sum(losses)}
        for name, metric in self.recipe.module.METRICS.items():
            sums[name] = tf.reduce_sum(runs.per_example(metric(targets, outputs)))
        return loss, sums, gradients

    def _replica_step(self, features, targets, share: bool):
        if share:  # An in-memory batch reaches every replica whole.
            features, targets = batches_lib.replica_share((features, targets))
        optimizer = self.optimizer
        context = tf.distribute.get_replica_context()
        local_count = tf.cast(tf.shape(targets)[0], tf.float32)
        global_count = context.all_reduce(tf.distribute.ReduceOp.SUM, local_count)
        loss, sums, gradients = self._gradients(features, targets, global_count)
        # One all-reduce gives every replica the global gradient, so the norm and
        # the clipping below are the same as on a single device.
        gradients = context.all_reduce(tf.distribute.ReduceOp.SUM, gradients)
        loss_scale = tf.cast(optimizer.scale_loss(tf.constant(1.0)), tf.float32)
        grad_norm = tf.linalg.global_norm(gradients) / loss_scale
        clipped_norm = grad_norm
        if self.config.grad_clip_norm > 0:
            clip = tf.constant(self.config.grad_clip_norm, tf.float32)
            gradients, _ = tf.clip_by_global_norm(gradients, clip * loss_scale, use_norm=grad_norm * loss_scale)
            clipped_norm = tf.minimum(grad_norm, clip)
        finite = tf.math.is_finite(context.all_reduce(tf.distribute.ReduceOp.SUM, loss))
        if not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            # With loss scaling, overflowing gradients are expected and the
            # LossScaleOptimizer skips them itself.
            finite = tf.logical_and(finite, tf.math.is_finite(grad_norm))
        # The optimizer all-reduces (sums) what it is given, so hand it a
        # 1/replicas share of the already-reduced gradient.
        self._apply_if_finite(finite, [g / context.num_replicas_in_sync for g in gradients])
        norms = {"grad_norm": grad_norm, "clipped_grad_norm": clipped_norm, "finite": tf.cast(finite, tf.float32)}
        return sums, norms

    def _apply_if_finite(self, finite, gradients):
        """Applies `gradients` unless the step was non-finite, on every replica.

        The optimizer synchronises replicas (merge_call) inside `apply`, which a
        `tf.cond` in replica context may not contain. So, as keras's
        LossScaleOptimizer does, the condition is taken in cross-replica context
        and each replica's apply is called from there.
        """
        variables = self.model.trainable_variables

        def apply(replica_gradients):
            self.optimizer.apply(replica_gradients, variables)

        if tf.__internal__.distribute.strategy_supports_no_merge_call():
            tf.cond(finite, lambda: apply(gradients), lambda: None)
            return

        def cross_replica(distribution, finite, gradients):
            # Every replica computed the same `finite` from all-reduced values.
            first_finite = distribution.experimental_local_results(finite)[0]
            tf.cond(
                first_finite,
                lambda: distribution.extended.call_for_each_replica(apply, args=(gradients,)),
                lambda: None,
            )

        tf.distribute.get_replica_context().merge_call(cross_replica, args=(finite, gradients))

    def _step(self, features, targets, share: bool) -> dict:
        """One optimizer step on every replica; adds it to the epoch's running sums."""
        sums, norms = self.strategy.run(self._replica_step, args=(features, targets, share))
        sums = self.strategy.reduce(tf.distribute.ReduceOp.SUM, sums, axis=None)
        norms = self.strategy.reduce(tf.distribute.ReduceOp.MEAN, norms, axis=None)
        finite = norms["finite"] > 0.5
        # A skipped (non-finite) step adds nothing to the epoch's running means.
        epoch_sums = self.state.epoch_sums
        added = {**sums, "grad_norm": norms["grad_norm"], "clipped_grad_norm": norms["clipped_grad_norm"]}
        for name, value in added.items():
            epoch_sums[name].assign_add(tf.where(finite, tf.cast(value, tf.float64), 0.0))
        epoch_sums["finite_steps"].assign_add(tf.cast(finite, tf.float64))
        # A skipped step still consumed its batch, so it counts as a step: the
        # step counter is also the position in the data.
        self.state.step.assign_add(1)
        self.state.nonfinite_steps.assign_add(1 - tf.cast(finite, tf.int64))
        return {
            "loss": sums["loss"] / tf.maximum(sums["count"], 1.0),
            "grad_norm": norms["grad_norm"],
            "clipped_grad_norm": norms["clipped_grad_norm"],
            "finite": finite,
        }

    def _call_outputs(self, outputs) -> dict:
        """What a call returns: its last step's outputs, the step and the epoch's mean loss."""
        epoch_sums = self.state.epoch_sums
        return {
            **outputs,
            "step": self.state.step.read_value(),
            "epoch_loss": epoch_sums["loss"] / tf.maximum(epoch_sums["count"], 1.0),
        }

    def _no_step_yet(self) -> dict:
        zero = tf.constant(0.0)
        return {"loss": zero, "grad_norm": zero, "clipped_grad_norm": zero, "finite": tf.constant(True)}

    def _in_memory_call(self, order, first, count):
        """Up to `count` steps from batch `first` of the epoch whose permutation is `order`."""
        outputs = self._no_step_yet()
        for index in tf.range(count):
            features, targets = self.batches.batch(order, first + tf.cast(index, tf.int64))
            outputs = self._step(features, targets, share=True)
            if not self.config.skip_nonfinite and not outputs["finite"]:
                break  # Stop at the bad step, which was not applied.
        return self._call_outputs(outputs)

    def _streaming_call(self, iterator, count):
        """Up to `count` steps from a distributed iterator over the epoch's batches."""
        outputs = self._no_step_yet()
        for _ in tf.range(count):
            batch = iterator.get_next_as_optional()
            if not batch.has_value():
                break
            features, targets = batch.get_value()
            outputs = self._step(features, targets, share=False)
            if not self.config.skip_nonfinite and not outputs["finite"]:
                break
        return self._call_outputs(outputs)

    # ------------------------------------------------------------------ loop

    def fit(self) -> TrainResult:
        """Trains to `epochs` (or `max_steps`), resuming from the latest checkpoint."""
        started = time.perf_counter()
        self._check_workdir()
        seed_everything(self.config.seed)
        previous_policy = keras.mixed_precision.dtype_policy()
        keras.mixed_precision.set_dtype_policy(self.config.precision)
        try:
            self._setup()
            resumed = self.checkpoints.restore()
            resumed_from = int(self.state.step.numpy()) if resumed else 0
            self.run.write_config(self.recipe.name, config_lib.to_dict(self.config))
            # metrics.jsonl keeps exactly the records that belong to the restored
            # checkpoint: later ones (from a run killed after writing them) are
            # written again, identically, by the resumed run.
            if resumed:
                self._say(f"Resuming {self.recipe.name} from step {resumed_from} in {self.run.path}.")
            self.run.truncate_metrics(resumed_from, keep=int(self.state.records.numpy()))
            self._loop(started)
            return self._finish(started, resumed_from)
        finally:
            keras.mixed_precision.set_dtype_policy(previous_policy)

    def _loop(self, started: float) -> None:
        config, state = self.config, self.state
        self._last_checkpoint = time.monotonic()
        self._unsaved_best = None  # Weights of a better epoch, not written yet.
        self._writer = tf.summary.create_file_writer(str(self.run.tensorboard / "train"))
        self._validation_writer = tf.summary.create_file_writer(str(self.run.tensorboard / "validation"))
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
        bar = keras.utils.Progbar(end - epoch_start, verbose=1 if self.verbose else 0, stateful_metrics=["loss"])
        if self.batches.streaming:
            source = (self.batches.epoch_iterator(epoch, step - epoch_start),)
        else:
            source = (self.batches.epoch_order(epoch),)
        while step < end:
            count = self._call_length(step, end)
            if self.batches.streaming:
                outputs = self.train_call(*source, tf.constant(count, tf.int32))
            else:
                first = tf.constant(step - epoch_start, tf.int64)
                outputs = self.train_call(*source, first, tf.constant(count, tf.int32))
            outputs = {name: value.numpy() for name, value in outputs.items()}
            step = int(outputs["step"])
            self._after_call(step, outputs)
            bar.update(step - epoch_start, [("loss", float(outputs["epoch_loss"]))])

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
            raise FloatingPointError(
                f"Non-finite loss or gradient at step {step}; stopped without applying it. "
                f"Last good checkpoint: {latest}. Lower learning_rate, set grad_clip_norm, "
                "or pass skip_nonfinite=true to skip such steps."
            )
        if step % SUMMARY_EVERY == 0:
            with self._writer.as_default(step=step):
                for name in ("loss", "grad_norm", "clipped_grad_norm"):
                    tf.summary.scalar(name, float(outputs[name]))
                tf.summary.scalar("learning_rate", self._current_learning_rate())
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
        current = self.model.get_weights()
        self.model.set_weights(self._unsaved_best)
        save_weights(self.model, self.run.best_weights)
        self.model.set_weights(current)
        self._unsaved_best = None

    def _current_learning_rate(self) -> float:
        rate = self.optimizer.learning_rate  # A keras Variable, or a schedule's tensor.
        return float(tf.convert_to_tensor(getattr(rate, "value", rate)))

    def _end_of_epoch(self, epoch: int, finished: bool, started: float) -> bool:
        """Evaluates, logs, checkpoints; returns True when training should stop."""
        config, state = self.config, self.state
        step = int(state.step.numpy())
        sums = {name: float(variable.numpy()) for name, variable in state.epoch_sums.items()}
        count, applied = max(sums["count"], 1.0), max(sums["finite_steps"], 1.0)
        train_record = {name: sums[name] / count for name in ["loss", *self.metric_names]}
        train_record["grad_norm"] = sums["grad_norm"] / applied
        train_record["clipped_grad_norm"] = sums["clipped_grad_norm"] / applied
        train_record["nonfinite_steps"] = int(state.nonfinite_steps.numpy())  # So far, in the whole run.
        validation_record = self.evaluator(self.splits.validation)
        if finished:
            state.epoch.assign_add(1)
        stamp = {"step": step, "epoch": epoch + 1, "wall_time": round(time.perf_counter() - started, 3)}
        self.run.append_metrics({**stamp, "split": "train", **train_record})
        self.run.append_metrics({**stamp, "split": "validation", **validation_record})
        state.records.assign_add(2)
        state.evaluated_step.assign(step)
        with self._validation_writer.as_default(step=step):
            for name, value in validation_record.items():
                tf.summary.scalar(f"epoch_{name}", value)

        stop = False
        if validation_record["loss"] < float(state.best_loss.numpy()):
            state.best_loss.assign(validation_record["loss"])
            state.best_epoch.assign(epoch + 1)
            state.bad_epochs.assign(0)
            self._unsaved_best = self.model.get_weights()
        else:
            state.bad_epochs.assign_add(1)
            if config.patience and int(state.bad_epochs.numpy()) >= config.patience:
                self._say(
                    f"Early stopping after epoch {epoch + 1}: no improvement for "
                    f"{config.patience} epochs (best epoch {int(state.best_epoch.numpy())})."
                )
                stop = True
        last_epoch = stop or step >= self.total_steps or int(state.epoch.numpy()) >= config.epochs
        # A checkpoint costs about as much as a few dozen small steps, so for
        # short epochs it is written every `checkpoint_seconds`, not every epoch.
        # Resuming replays the epochs since the last one, bit for bit.
        if last_epoch or time.monotonic() - self._last_checkpoint >= config.checkpoint_seconds:
            self._save_checkpoint(step)
        self._say(
            f"epoch {epoch + 1}/{config.epochs} step {step}: "
            + " ".join(f"train_{k}={v:.4g}" for k, v in train_record.items() if "norm" not in k)
            + " "
            + " ".join(f"val_{k}={v:.4g}" for k, v in validation_record.items())
        )
        return stop

    def _finish(self, started: float, resumed_from: int) -> TrainResult:
        self._save_best_weights()  # Already written with the last checkpoint, unless resumed to the end.
        save_weights(self.model, self.run.final_weights)
        # The returned model is the one with the best validation loss, whether or
        # not early stopping cut the run short; `evaluate` reads the same file.
        if self.run.best_weights.exists():
            self.model.load_weights(self.run.best_weights)
        history = self.run.read_metrics()
        validation = [r for r in history if r["split"] == "validation"]
        best = min(validation, key=lambda r: r["loss"]) if validation else {}
        plots.training_curves(history, self.recipe.headline, self.run.curves)
        hook = self.recipe.hook("report")
        report = (hook(self.model, self.splits, self.config, self.run.path) or {}) if hook else {}
        return TrainResult(
            model=self.model,
            splits=self.splits,
            workdir=self.run.path,
            history=history,
            best=best,
            steps=int(self.state.step.numpy()),
            resumed_from_step=resumed_from,
            wall_time=time.perf_counter() - started,
            nonfinite_steps=int(self.state.nonfinite_steps.numpy()),
            report=report,
        )

    def _say(self, message: str) -> None:
        if self.verbose:
            print(message, flush=True)


def save_weights(model: keras.Model, path: pathlib.Path) -> None:
    """Saves weights so that a kill leaves either the old file or the new one."""
    temporary = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    model.save_weights(temporary)
    os.replace(temporary, path)


def train(recipe, config, workdir, strategy=None, verbose=True) -> TrainResult:
    """Trains `recipe` with `config` into `workdir`; see `Trainer`."""
    return Trainer(recipe, config, workdir, strategy=strategy, verbose=verbose).fit()

"""One GradientTape trainer for every recipe.

The trainer knows a recipe only through its contract (zoo/registry.py): it asks
for the data, the model, the per-example loss and the metrics, and does the rest
the same way for all of them:

- A `tf.function` train step run under a `tf.distribute` strategy: forward pass,
  loss, gradients, one all-reduce, optional global-norm clipping, apply. The step
  is traced once (its input signature has a free batch axis) and never again.
- tf.data input: the split is cached, shuffled with a seed derived from
  (seed, epoch), batched and prefetched. That order is a pure function of the
  epoch, so a resumed run can skip to its exact position in the data.
- Evaluation on the validation split every epoch, early stopping on the
  validation loss that restores the best weights, a progress bar.
- Checkpoints (`tf.train.Checkpoint` + `CheckpointManager`) of the model, the
  optimizer (slots, iteration count), the step (which is also the position in
  the data), the epoch, the random state of every dropout-like layer, the
  early-stopping state, the epoch's running sums and how many metrics.jsonl
  records belong to it. Rerunning the same command resumes from the latest
  readable one, bit-identically on CPU (see docs/reproducibility.md).
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
import signal
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from zoo import config as config_lib
from zoo import optimizers
from zoo import plots
from zoo import rundir

EVAL_BATCH_SIZE = 256
# Per-step TensorBoard scalars (loss, gradient norms, learning rate) every this
# many steps; per-epoch train/validation records are always written.
SUMMARY_EVERY = 50

# Test hook, used only by tests/test_resume.py: ZOO_TEST_KILL_AT="step:N" (after
# optimizer step N), "eval:N" (inside this process's N-th end-of-epoch
# evaluation, after the train record is written) or "save:N" (inside this
# process's N-th checkpoint save, after the checkpoint's files are written and
# before the checkpoint list names them) makes the trainer SIGKILL its own
# process there. Unset, it costs one integer comparison per step.
KILL_AT_VARIABLE = "ZOO_TEST_KILL_AT"


def _parse_kill_at(text: str) -> dict:
    """{"step"|"eval"|"save": N} from the test hook's variable; {} when unset."""
    if not text:
        return {}
    kind, _, number = text.partition(":")
    if kind not in ("step", "eval", "save") or not number.isdigit():
        raise ValueError(f"{KILL_AT_VARIABLE}={text!r}: use step:N, eval:N or save:N (a test hook).")
    return {kind: int(number)}


def _kill_self() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


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


def default_strategy() -> tf.distribute.Strategy:
    """MirroredStrategy over all GPUs when there are several, else one device."""
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy, TF and Keras, and makes TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def per_example(values) -> tf.Tensor:
    """Averages a per-element tensor over every axis but the batch axis."""
    values = tf.cast(values, tf.float32)
    if values.shape.rank > 1:
        values = tf.reduce_mean(values, axis=list(range(1, values.shape.rank)))
    return values


def random_states(model: keras.Model) -> list:
    """The model's variables that are not weights: its layers' RNG (SeedGenerator) states."""
    weights = {id(variable) for variable in model.weights}
    return [variable for variable in model.variables if id(variable) not in weights]


def build_model(recipe, config, info, sample_features) -> keras.Model:
    """Builds the recipe's model and makes sure its weights exist."""
    model = recipe.module.build_model(config, info)
    if not model.built:
        model(sample_features)
    return model


class Evaluator:
    """Runs the recipe's loss and metrics over a dataset, distributed."""

    def __init__(self, recipe, model, strategy):
        self.recipe = recipe
        self.model = model
        self.strategy = strategy
        self._step = None

    def _replica_step(self, features, targets):
        outputs = tf.cast(self.model(features, training=False), tf.float32)
        sums = {
            "count": tf.cast(tf.shape(outputs)[0], tf.float32),
            "loss": tf.reduce_sum(per_example(self.recipe.module.loss(targets, outputs))),
        }
        for name, metric in self.recipe.module.METRICS.items():
            sums[name] = tf.reduce_sum(per_example(metric(targets, outputs)))
        return sums

    def __call__(self, dataset: tf.data.Dataset, batch_size: int = EVAL_BATCH_SIZE) -> dict:
        """Mean loss and metrics over `dataset` (unbatched (features, targets) pairs)."""
        batches = dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
        distributed = self.strategy.experimental_distribute_dataset(batches)
        if self._step is None:
            self._step = tf.function(self._distributed_step, input_signature=[distributed.element_spec])
        totals = None
        for batch in distributed:
            sums = self._step(batch)
            totals = sums if totals is None else {k: totals[k] + sums[k] for k in totals}
        if totals is None:
            raise ValueError("Cannot evaluate on an empty split.")
        count = float(totals.pop("count"))
        return {name: float(value) / count for name, value in totals.items()}

    def _distributed_step(self, batch):
        features, targets = batch
        sums = self.strategy.run(self._replica_step, args=(features, targets))
        return self.strategy.reduce(tf.distribute.ReduceOp.SUM, sums, axis=None)


class Trainer:
    """Trains one recipe with one config into one run directory.

    Args:
        recipe: a `zoo.registry.Recipe`.
        config: the recipe's validated Config.
        workdir: the run directory (created if needed).
        strategy: a `tf.distribute.Strategy`; `default_strategy()` if None.
        verbose: print a progress bar and a line per epoch.
    """

    def __init__(self, recipe, config, workdir, strategy=None, verbose=True):
        self.recipe = recipe
        self.config = config
        self.run = rundir.RunDir(workdir)
        self.strategy = strategy or default_strategy()
        self.verbose = verbose
        self._kill_at = _parse_kill_at(os.environ.get(KILL_AT_VARIABLE, ""))
        self._kill_step = self._kill_at.get("step", -1)
        self._events = {"eval": 0, "save": 0}
        self._last_checkpoint = time.monotonic()

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
        changed = config_lib.differences(saved.get("config", {}), config_lib.to_dict(self.config))
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
        self.train_cached = self.splits.train.cache()

        with self.strategy.scope():
            sample_features = next(iter(self.splits.train.batch(2)))[0]
            self.model = build_model(self.recipe, config, info, sample_features)
            optimizer = optimizers.make_optimizer(
                config.optimizer, config.learning_rate, config.lr_schedule, self.total_steps
            )
            if config.precision == "mixed_float16":
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            optimizer.build(self.model.trainable_variables)
            self.optimizer = optimizer

            def counter(dtype=tf.int64, value=0):
                return tf.Variable(
                    tf.constant(value, dtype),
                    trainable=False,
                    aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
                )

            self.step = counter()
            self.epoch = counter()  # Epochs completed.
            self.best_loss = counter(tf.float64, np.inf)
            self.best_epoch = counter()
            self.bad_epochs = counter()
            self.nonfinite_steps = counter()
            # metrics.jsonl records written when the checkpoint was taken; -1 in
            # checkpoints written before this counter existed.
            self.records = counter(value=-1)
            self.evaluated_step = counter()  # The step of the last end-of-epoch evaluation.
            # Running sums of the current epoch's train loss and metrics.
            names = ["count", "loss", *self.recipe.module.METRICS, "grad_norm", "clipped_grad_norm"]
            self.epoch_sums = {name: counter(tf.float64, 0.0) for name in names}

        self.checkpoint = tf.train.Checkpoint(
            model=self.model,
            optimizer=self.optimizer,
            step=self.step,
            epoch=self.epoch,
            best_loss=self.best_loss,
            best_epoch=self.best_epoch,
            bad_epochs=self.bad_epochs,
            nonfinite_steps=self.nonfinite_steps,
            epoch_sums=self.epoch_sums,
            records=self.records,
            evaluated_step=self.evaluated_step,
            # Keras tracks a layer's SeedGenerator (dropout's RNG) as a model
            # variable but not as a tf.train.Checkpoint dependency, so its state
            # is listed here: without it a resumed run draws other dropout masks.
            random_states=random_states(self.model),
        )
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(self.run.checkpoints), max_to_keep=3, step_counter=self.step
        )
        self.evaluator = Evaluator(self.recipe, self.model, self.strategy)
        self._train_step = None

    def _restore(self) -> int:
        """Restores the newest readable checkpoint; returns its step (0 if none).

        An unreadable checkpoint (cut short, corrupted) is reported and skipped
        for the one before it; its files are left where they are. When there are
        checkpoints but none can be read, the run is refused rather than
        restarted over them.
        """
        unreadable = []
        for path in reversed(self._checkpoint_paths()):
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            except Exception as error:  # noqa: BLE001  TF raises OpError, IndexError, ValueError, ... for bad files.
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                self._warn(f"warning: checkpoint {path} is unreadable ({first_line}); trying an older one.")
                unreadable.append(path)
                continue
            if unreadable:
                self._warn(f"warning: resuming from {path}, the newest readable checkpoint.")
            return int(self.step.numpy())
        if unreadable:
            raise ValueError(
                f"None of the {len(unreadable)} checkpoints in {str(self.run.checkpoints)!r} can be read "
                f"(newest: {unreadable[0]}); nothing was changed. Move the workdir aside or pass another --workdir."
            )
        return 0

    def _checkpoint_paths(self) -> list:
        """The checkpoints to resume from, oldest first.

        Normally the manager's list. When that list (the `checkpoint` file) is
        missing or unreadable but checkpoint files are there, they are found by
        name instead, so that they are resumed from rather than trained over.
        """
        listed = list(self.manager.checkpoints)
        if listed:
            return listed
        found = []
        for index in self.run.checkpoints.glob("ckpt-*.index"):
            number = index.name[len("ckpt-") : -len(".index")]
            if number.isdigit():
                found.append((int(number), str(index.with_suffix(""))))
        if found:
            self._warn(
                f"warning: {self.run.checkpoints / 'checkpoint'} is missing or unreadable; "
                f"trying the {len(found)} checkpoint files found there, newest first."
            )
        return [path for _, path in sorted(found)]

    # ----------------------------------------------------------------- steps

    def _epoch_batches(self, epoch: int, skip: int):
        """The training batches of `epoch`, in a fixed order, from batch `skip` on."""
        order_seed = (self.config.seed * 1_000_003 + epoch) % (2**31 - 1)
        dataset = self.train_cached.shuffle(
            self.num_train, seed=order_seed, reshuffle_each_iteration=False
        )
        dataset = dataset.batch(self.config.batch_size).skip(skip).prefetch(tf.data.AUTOTUNE)
        return self.strategy.experimental_distribute_dataset(dataset)

    def _replica_train_step(self, features, targets):
        model, optimizer = self.model, self.optimizer
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync
        local_count = tf.cast(tf.shape(targets)[0], tf.float32)
        global_count = context.all_reduce(tf.distribute.ReduceOp.SUM, local_count)
        with tf.GradientTape() as tape:
            outputs = tf.cast(model(features, training=True), tf.float32)
            losses = per_example(self.recipe.module.loss(targets, outputs))
            loss = tf.reduce_sum(losses) / tf.maximum(global_count, 1.0)
            scaled_loss = optimizer.scale_loss(loss)
        variables = model.trainable_variables
        gradients = tape.gradient(scaled_loss, variables)
        gradients = [tf.zeros_like(v) if g is None else g for g, v in zip(gradients, variables)]
        # Embedding lookups give sparse IndexedSlices; make them dense for the maths below.
        gradients = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in gradients]
        # One all-reduce gives every replica the global gradient, so the norm and
        # the clipping below are the same as on a single device.
        gradients = context.all_reduce(tf.distribute.ReduceOp.SUM, gradients)
        loss_scale = tf.cast(optimizer.scale_loss(tf.constant(1.0)), tf.float32)
        grad_norm = tf.linalg.global_norm(gradients) / loss_scale
        clipped_norm = grad_norm
        if self.config.grad_clip_norm > 0:
            clip = tf.constant(self.config.grad_clip_norm, tf.float32)
            gradients, _ = tf.clip_by_global_norm(
                gradients, clip * loss_scale, use_norm=grad_norm * loss_scale
            )
            clipped_norm = tf.minimum(grad_norm, clip)
        global_loss = context.all_reduce(tf.distribute.ReduceOp.SUM, loss)
        finite = tf.math.is_finite(global_loss)
        if not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            # With loss scaling, overflowing gradients are expected and the
            # LossScaleOptimizer skips them itself.
            finite = tf.logical_and(finite, tf.math.is_finite(grad_norm))

        # The optimizer all-reduces (sums) what it is given, so hand it a
        # 1/replicas share of the already-reduced gradient.
        shares = [g / replicas for g in gradients]
        self._apply_if_finite(finite, shares)
        sums = {"count": local_count, "loss": tf.reduce_sum(losses)}
        for name, metric in self.recipe.module.METRICS.items():
            sums[name] = tf.reduce_sum(per_example(metric(targets, outputs)))
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

    def _distributed_train_step(self, batch):
        features, targets = batch
        sums, norms = self.strategy.run(self._replica_train_step, args=(features, targets))
        sums = self.strategy.reduce(tf.distribute.ReduceOp.SUM, sums, axis=None)
        norms = self.strategy.reduce(tf.distribute.ReduceOp.MEAN, norms, axis=None)
        finite = norms["finite"] > 0.5
        # A skipped (non-finite) step adds nothing to the epoch's running means.
        weight = tf.cast(finite, tf.float64)
        for name, value in sums.items():
            self.epoch_sums[name].assign_add(weight * tf.cast(value, tf.float64))
        for name in ("grad_norm", "clipped_grad_norm"):
            self.epoch_sums[name].assign_add(weight * tf.cast(norms[name], tf.float64))
        # A skipped step still consumed its batch, so it counts as a step: the
        # step counter is also the position in the data.
        self.step.assign_add(1)
        self.nonfinite_steps.assign_add(1 - tf.cast(finite, tf.int64))
        return {
            "loss": sums["loss"] / tf.maximum(sums["count"], 1.0),
            "grad_norm": norms["grad_norm"],
            "clipped_grad_norm": norms["clipped_grad_norm"],
            "finite": finite,
        }

    @property
    def train_step(self):
        """The compiled train step (exposed so tests can count its traces)."""
        return self._train_step

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
            resumed_from = self._restore()
            self.run.write_config(self.recipe.name, config_lib.to_dict(self.config))
            # metrics.jsonl keeps exactly the records that belong to the restored
            # checkpoint: later ones (from a run killed after writing them) are
            # written again, identically, by the resumed run.
            if resumed_from:
                self._say(f"Resuming {self.recipe.name} from step {resumed_from} in {self.run.path}.")
                records = int(self.records.numpy())
                self.run.truncate_metrics(resumed_from, keep=records if records >= 0 else None)
            else:
                self.run.truncate_metrics(0, keep=0)  # Left by a run killed before its first checkpoint.
            if int(self.records.numpy()) < 0:  # A checkpoint from before these counters.
                self.records.assign(len(self.run.read_metrics()))
                self.evaluated_step.assign(self.step)
            self._loop(started)
            return self._finish(started, resumed_from)
        finally:
            keras.mixed_precision.set_dtype_policy(previous_policy)

    def _loop(self, started: float) -> None:
        config = self.config
        self._last_checkpoint = time.monotonic()
        writer = tf.summary.create_file_writer(str(self.run.tensorboard / "train"))
        self._validation_writer = tf.summary.create_file_writer(str(self.run.tensorboard / "validation"))
        while True:
            epoch, step = int(self.epoch.numpy()), int(self.step.numpy())
            # Steps trained but not evaluated yet: resumed from a `checkpoint_every`
            # checkpoint taken just before an end-of-epoch evaluation that was killed.
            pending = step > int(self.evaluated_step.numpy())
            if not pending and (epoch >= config.epochs or step >= self.total_steps):
                break
            if not pending and config.patience and int(self.bad_epochs.numpy()) >= config.patience:
                break  # Resumed from the checkpoint of an early stop.
            done_in_epoch = step - epoch * self.steps_per_epoch
            if done_in_epoch == 0:
                for variable in self.epoch_sums.values():
                    variable.assign(0.0)
            batches = self._epoch_batches(epoch, max(0, done_in_epoch))
            if self._train_step is None:
                self._train_step = tf.function(
                    self._distributed_train_step, input_signature=[batches.element_spec]
                )
            steps_this_epoch = min(self.steps_per_epoch, self.total_steps - epoch * self.steps_per_epoch)
            bar = keras.utils.Progbar(steps_this_epoch, verbose=1 if self.verbose else 0)
            if step >= self.total_steps:
                batches = ()  # Only the pending evaluation is left.
            # The step counter advances by exactly one per call (skipped steps
            # included), so it is read once here, not once per step.
            for batch in batches:
                outputs = self._train_step(batch)
                step += 1
                if step == self._kill_step:
                    _kill_self()  # Test hook; see KILL_AT_VARIABLE.
                if not bool(outputs["finite"]):
                    self._on_nonfinite(step)
                if self.verbose:
                    bar.update(step - epoch * self.steps_per_epoch, [("loss", float(outputs["loss"]))])
                if step % SUMMARY_EVERY == 0:
                    values = {k: float(v) for k, v in outputs.items() if k != "finite"}
                    with writer.as_default(step=step):
                        for name, value in values.items():
                            tf.summary.scalar(name, value)
                        tf.summary.scalar("learning_rate", self._current_learning_rate())
                if config.checkpoint_every and step % config.checkpoint_every == 0:
                    self._save_checkpoint(step)
                if step >= self.total_steps:
                    break
            epoch_finished = int(self.step.numpy()) - epoch * self.steps_per_epoch >= self.steps_per_epoch
            stop = self._end_of_epoch(epoch, epoch_finished, started)
            if stop:
                break
        writer.flush()
        self._validation_writer.flush()

    def _save_checkpoint(self, step: int) -> None:
        """Saves checkpoint `step`. TensorFlow writes its files under temporary
        names and renames them, and the manager then rewrites its list of
        checkpoints atomically: a kill at any point leaves the previous
        checkpoints listed and readable."""
        self._events["save"] += 1
        if self._events["save"] == self._kill_at.get("save"):
            # Test hook: the files of checkpoint `step` exist, the list does not name them.
            self.checkpoint.write(os.path.join(self.manager.directory, f"ckpt-{step}"))
            _kill_self()
        self.manager.save(checkpoint_number=step)
        self._last_checkpoint = time.monotonic()

    def _current_learning_rate(self) -> float:
        rate = self.optimizer.learning_rate  # A keras Variable, or a schedule's tensor.
        return float(tf.convert_to_tensor(getattr(rate, "value", rate)))

    def _on_nonfinite(self, step: int) -> None:
        if self.config.skip_nonfinite:
            return
        latest = self.manager.latest_checkpoint or "none yet"
        raise FloatingPointError(
            f"Non-finite loss or gradient at step {step}; stopped without applying it. "
            f"Last good checkpoint: {latest}. Lower learning_rate, set grad_clip_norm, "
            "or pass skip_nonfinite=true to skip such steps."
        )

    def _end_of_epoch(self, epoch: int, finished: bool, started: float) -> bool:
        """Evaluates, logs, checkpoints; returns True when training should stop."""
        step = int(self.step.numpy())
        sums = {name: float(v.numpy()) for name, v in self.epoch_sums.items()}
        count = max(sums.pop("count"), 1.0)
        steps_done = max(1, step - epoch * self.steps_per_epoch)
        train_record = {name: sums[name] / count for name in ["loss", *self.recipe.module.METRICS]}
        train_record["grad_norm"] = sums["grad_norm"] / steps_done
        train_record["clipped_grad_norm"] = sums["clipped_grad_norm"] / steps_done
        train_record["nonfinite_steps"] = int(self.nonfinite_steps.numpy())  # So far, in the whole run.
        validation_record = self.evaluator(self.splits.validation)
        if finished:
            self.epoch.assign_add(1)
        stamp = {"step": step, "epoch": epoch + 1, "wall_time": round(time.perf_counter() - started, 3)}
        self.run.append_metrics({**stamp, "split": "train", **train_record})
        self._events["eval"] += 1
        if self._events["eval"] == self._kill_at.get("eval"):
            _kill_self()  # Test hook; see KILL_AT_VARIABLE.
        self.run.append_metrics({**stamp, "split": "validation", **validation_record})
        self.records.assign_add(2)
        self.evaluated_step.assign(step)
        with self._validation_writer.as_default(step=step):
            for name, value in validation_record.items():
                tf.summary.scalar(f"epoch_{name}", value)

        stop = False
        if validation_record["loss"] < float(self.best_loss.numpy()):
            self.best_loss.assign(validation_record["loss"])
            self.best_epoch.assign(epoch + 1)
            self.bad_epochs.assign(0)
            _save_weights(self.model, self.run.best_weights)
        else:
            self.bad_epochs.assign_add(1)
            if self.config.patience and int(self.bad_epochs.numpy()) >= self.config.patience:
                self._say(
                    f"Early stopping after epoch {epoch + 1}: no improvement for "
                    f"{self.config.patience} epochs (best epoch {int(self.best_epoch.numpy())})."
                )
                stop = True
        last_epoch = stop or step >= self.total_steps or int(self.epoch.numpy()) >= self.config.epochs
        # A checkpoint costs about as much as a few dozen small steps, so for
        # short epochs it is written every `checkpoint_seconds`, not every epoch.
        # Resuming replays the epochs since the last one, bit for bit.
        if last_epoch or time.monotonic() - self._last_checkpoint >= self.config.checkpoint_seconds:
            self._save_checkpoint(step)
        self._say(
            f"epoch {epoch + 1}/{self.config.epochs} step {step}: "
            + " ".join(f"train_{k}={v:.4g}" for k, v in train_record.items() if "norm" not in k)
            + " "
            + " ".join(f"val_{k}={v:.4g}" for k, v in validation_record.items())
        )
        return stop

    def _finish(self, started: float, resumed_from: int) -> TrainResult:
        _save_weights(self.model, self.run.final_weights)
        # The returned model is the one with the best validation loss, whether or
        # not early stopping cut the run short; `evaluate` reads the same file.
        if self.run.best_weights.exists():
            self.model.load_weights(self.run.best_weights)
        history = self.run.read_metrics()
        validation = [r for r in history if r["split"] == "validation"]
        best = min(validation, key=lambda r: r["loss"]) if validation else {}
        plots.training_curves(history, self.recipe.headline, self.run.curves)
        report = {}
        hook = self.recipe.hook("report")
        if hook is not None:
            report = hook(self.model, self.splits, self.config, self.run.path) or {}
        return TrainResult(
            model=self.model,
            splits=self.splits,
            workdir=self.run.path,
            history=history,
            best=best,
            steps=int(self.step.numpy()),
            resumed_from_step=resumed_from,
            wall_time=time.perf_counter() - started,
            nonfinite_steps=int(self.nonfinite_steps.numpy()),
            report=report,
        )

    def _say(self, message: str) -> None:
        if self.verbose:
            print(message, flush=True)

    @staticmethod
    def _warn(message: str) -> None:
        """Something the user must see even with --quiet (on stderr)."""
        print(message, file=sys.stderr, flush=True)


def _save_weights(model: keras.Model, path: pathlib.Path) -> None:
    """Saves weights so that a kill leaves either the old file or the new one."""
    temporary = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    model.save_weights(temporary)
    os.replace(temporary, path)


def train(recipe, config, workdir, strategy=None, verbose=True) -> TrainResult:
    """Trains `recipe` with `config` into `workdir`; see `Trainer`."""
    return Trainer(recipe, config, workdir, strategy=strategy, verbose=verbose).fit()


def evaluate(recipe, workdir, split: str = "test", weights: str = "best", strategy=None) -> dict:
    """Loss and metrics of a finished run's weights on one split.

    Args:
        recipe: the `zoo.registry.Recipe` the run was trained with.
        workdir: the run directory.
        split: "train", "validation" or "test".
        weights: "best" or "final".

    Raises:
        FileNotFoundError: the run has no config.json or no such weights file.
        ValueError: the run belongs to another recipe, or the split is unknown.
    """
    run = rundir.RunDir(workdir)
    saved = run.read_config()
    if saved is None:
        raise FileNotFoundError(
            f"No run in {str(run.path)!r} (no config.json); train first with "
            f"`python -m zoo train {recipe.name} --workdir {run.path}`."
        )
    if saved.get("recipe") != recipe.name:
        raise ValueError(f"Workdir {str(run.path)!r} holds recipe {saved.get('recipe')!r}, not {recipe.name!r}.")
    config = config_lib.from_dict(recipe.Config, saved["config"])
    path = {"best": run.best_weights, "final": run.final_weights}.get(weights)
    if path is None:
        raise ValueError(f"weights={weights!r}: use best or final.")
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; the run has not finished an epoch yet.")
    model, splits = load_model(recipe, config, path, strategy)
    return evaluate_model(recipe, model, splits, split, strategy)


def load_model(recipe, config, weights_path, strategy=None):
    """Builds the recipe's model for `config` and loads weights from a .weights.h5 file."""
    strategy = strategy or default_strategy()
    keras.mixed_precision.set_dtype_policy(config.precision)
    try:
        splits = recipe.module.load_data(config)
        with strategy.scope():
            sample = next(iter(splits.train.batch(2)))[0]
            model = build_model(recipe, config, splits.info, sample)
        model.load_weights(weights_path)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    return model, splits


def evaluate_model(recipe, model, splits, split: str = "test", strategy=None) -> dict:
    """Loss and metrics of `model` on one split of `splits`."""
    datasets = {"train": splits.train, "validation": splits.validation, "test": splits.test}
    if split not in datasets:
        raise ValueError(f"split={split!r}: use train, validation or test.")
    return Evaluator(recipe, model, strategy or default_strategy())(datasets[split])

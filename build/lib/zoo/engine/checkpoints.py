"""What a resume restores, and how it is saved and found again.

`TrainState` holds the trainer's counters as tf.Variables, so that they are
checkpointed with the weights: the step (which is also the position in the
data), the epochs completed, the early-stopping state, the non-finite step
count, the current epoch's running sums, how many metrics.jsonl records belong
to the checkpoint and the step of the last end-of-epoch evaluation.

`Checkpoints` saves the model, the optimizer (slots, iteration count), that
state and every layer's random state with `tf.train.CheckpointManager`, and
restores the newest readable checkpoint. TensorFlow writes a checkpoint's
files under temporary names and renames them, and the manager then rewrites
its list atomically, so a kill at any point leaves the earlier checkpoints
listed and readable.
"""

import os
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from zoo import errors

KEEP = 3  # Checkpoints kept on disk; older ones are deleted by the manager.


def _counter(dtype=tf.int64, value=0) -> tf.Variable:
    return tf.Variable(
        tf.constant(value, dtype), trainable=False, aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA
    )


class TrainState:
    """The trainer's counters (create it inside the strategy's scope).

    Args:
        metric_names: the recipe's METRICS names; the epoch's running sums
            hold "count", "loss", each metric, the two gradient norms and
            "finite_steps" (the steps that were applied).
    """

    def __init__(self, metric_names):
        self.step = _counter()
        self.epoch = _counter()  # Epochs completed.
        self.best_loss = _counter(tf.float64, np.inf)
        self.best_epoch = _counter()
        self.bad_epochs = _counter()
        self.nonfinite_steps = _counter()
        self.records = _counter()  # metrics.jsonl records written when the checkpoint was taken.
        self.evaluated_step = _counter()  # The step of the last end-of-epoch evaluation.
        names = ["count", "loss", *metric_names, "grad_norm", "clipped_grad_norm", "finite_steps"]
        self.epoch_sums = {name: _counter(tf.float64, 0.0) for name in names}

    def variables(self) -> dict:
        """The checkpoint's entries (their names are the checkpoint's keys)."""
        return {
            "step": self.step,
            "epoch": self.epoch,
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "nonfinite_steps": self.nonfinite_steps,
            "epoch_sums": self.epoch_sums,
            "records": self.records,
            "evaluated_step": self.evaluated_step,
        }

    def reset_epoch_sums(self) -> None:
        for variable in self.epoch_sums.values():
            variable.assign(0.0)

    def train_record(self, metric_names) -> dict:
        """The epoch's training means: loss and metrics per example, gradient norms per applied step."""
        sums = {name: float(variable.numpy()) for name, variable in self.epoch_sums.items()}
        count, applied = max(sums["count"], 1.0), max(sums["finite_steps"], 1.0)
        record = {name: sums[name] / count for name in ["loss", *metric_names]}
        record["grad_norm"] = sums["grad_norm"] / applied
        record["clipped_grad_norm"] = sums["clipped_grad_norm"] / applied
        record["nonfinite_steps"] = int(self.nonfinite_steps.numpy())  # So far, in the whole run.
        return record

    def track_best(self, validation_loss: float, epoch: int) -> bool:
        """Notes an epoch's validation loss (epoch counts from 1); True when it is the best so far."""
        if validation_loss < float(self.best_loss.numpy()):
            self.best_loss.assign(validation_loss)
            self.best_epoch.assign(epoch)
            self.bad_epochs.assign(0)
            return True
        self.bad_epochs.assign_add(1)
        return False


def random_states(model: keras.Model) -> list:
    """The model's variables that are not weights: its layers' RNG (SeedGenerator) states."""
    weights = {id(variable) for variable in model.weights}
    return [variable for variable in model.variables if id(variable) not in weights]


class Checkpoints:
    """The checkpoints of one run directory.

    Args:
        directory: the run's `checkpoints/` folder.
        model, optimizer: what the trainer trains.
        state: its `TrainState`.
        writer: False for a multi-worker run's non-chief worker: it restores
            from `directory` (the chief's, on shared storage) and takes part in
            every save, as TensorFlow requires, into a scratch folder it removes.
    """

    def __init__(self, directory, model, optimizer, state: TrainState, writer: bool = True):
        self.directory = directory
        self.writer = writer
        self.checkpoint = tf.train.Checkpoint(
            model=model,
            optimizer=optimizer,
            # Keras tracks a layer's SeedGenerator (dropout's RNG) as a model
            # variable but not as a tf.train.Checkpoint dependency, so its state
            # is listed here: without it a resumed run draws other dropout masks.
            random_states=random_states(model),
            **state.variables(),
        )
        make_manager = lambda: tf.train.CheckpointManager(  # noqa: E731
            self.checkpoint, str(directory), max_to_keep=KEEP, step_counter=state.step
        )
        listing = directory / "checkpoint"
        try:
            self.manager = make_manager()
        except Exception as error:  # noqa: BLE001  The list's parser raises UnicodeDecodeError, ParseError, ...
            if not listing.exists() or not writer:
                raise
            # The list is the trainer's own file: keep it aside and find the checkpoints by name.
            kept = listing.with_name("checkpoint.unreadable")
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            warn(f"{listing} is unreadable ({first_line}); kept it as {kept.name}.")
            os.replace(listing, kept)
            self.manager = make_manager()

    @property
    def latest(self):
        """The newest listed checkpoint's path, or None."""
        return self.manager.latest_checkpoint

    def save(self, step: int) -> None:
        """Saves checkpoint `step` (a kill at any point leaves the earlier ones listed)."""
        if self.writer:
            self.manager.save(checkpoint_number=step)
            return
        scratch = tempfile.mkdtemp(prefix="zoo-worker-checkpoint-")
        try:
            self.checkpoint.write(os.path.join(scratch, f"ckpt-{step}"))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def restore(self) -> bool:
        """Restores the newest readable checkpoint; False when there is none.

        An unreadable checkpoint (cut short, corrupted) is reported and skipped
        for the one before it; its files are left where they are. When there are
        checkpoints but none can be read, the run is refused rather than
        restarted over them.

        Raises:
            ValueError: there are checkpoints and none of them can be read.
        """
        unreadable = []
        for path in reversed(self._paths()):
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            except Exception as error:  # noqa: BLE001  TF raises OpError, IndexError, ValueError, ... for bad files.
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                warn(f"checkpoint {path} is unreadable ({first_line}); trying an older one.")
                unreadable.append(path)
                continue
            if unreadable:
                warn(f"resuming from {path}, the newest readable checkpoint.")
            return True
        if unreadable:
            raise errors.UserError(
                f"None of the {len(unreadable)} checkpoints in {str(self.directory)!r} can be read "
                f"(newest: {unreadable[0]}); nothing was changed. Move the workdir aside or pass another --workdir."
            )
        return False

    def _paths(self) -> list:
        """The checkpoints to resume from, oldest first.

        Normally the manager's list. When that list (the `checkpoint` file) is
        missing or unreadable but checkpoint files are there, they are found by
        name instead, so that they are resumed from rather than trained over.
        """
        listed = list(self.manager.checkpoints)
        if listed:
            return listed
        found = []
        for index in self.directory.glob("ckpt-*.index"):
            number = index.name[len("ckpt-") : -len(".index")]
            if number.isdigit():
                found.append((int(number), str(index.with_suffix(""))))
        if found:
            warn(
                f"{self.directory / 'checkpoint'} is missing or unreadable; "
                f"trying the {len(found)} checkpoint files found there, newest first."
            )
        return [path for _, path in sorted(found)]


def warn(message: str) -> None:
    """Something the user must see even with --quiet: an absl WARNING (on stderr)."""
    logging.warning(message)

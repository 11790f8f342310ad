"""Finished runs: build a recipe's model, load a run's weights, evaluate them.

Every command that reads a run (evaluate, predict, generate, attention,
export, ship) loads it through `load_run`, and every evaluation goes through
`Evaluator`, so they all agree on which weights a run means and how a split
is scored.

    run = runs.load_run(recipe, "runs/digits_mlp")   # best weights
    runs.evaluate_model(recipe, run.model, run.splits, "test")
"""

import dataclasses
import pathlib

import keras
import tensorflow as tf

from zoo.engine import batches as batches_lib
from zoo.engine import cluster
from zoo.engine import config as config_lib
from zoo import errors
from zoo.engine import rundir

EVAL_BATCH_SIZE = 256


# A collective that waits longer than this for a lost worker fails instead of hanging.
WORKER_TIMEOUT_SECONDS = 60


def cluster_size() -> int:
    """Workers (and chief) in the cluster that TF_CONFIG names; 1 without TF_CONFIG.

    A TF_CONFIG that names no usable cluster, or a task outside its cluster, is
    a UserError naming the field (zoo/engine/cluster.py)."""
    spec = cluster.from_environment()
    return 1 if spec is None else spec.size


_MULTI_WORKER = []  # The process's MultiWorkerMirroredStrategy: TF allows one, made before any other op.


def default_strategy() -> tf.distribute.Strategy:
    """MultiWorkerMirroredStrategy when TF_CONFIG names a cluster of several workers,
    MirroredStrategy over all GPUs when there are several, else one device."""
    if cluster_size() > 1:
        if not _MULTI_WORKER:
            cluster.join()  # A peer that never starts: one line naming it, not a silent wait.
            options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=WORKER_TIMEOUT_SECONDS)
            _MULTI_WORKER.append(tf.distribute.MultiWorkerMirroredStrategy(communication_options=options))
        return _MULTI_WORKER[0]
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy) -> bool:
    """True unless this process is a multi-worker run's worker other than the chief (worker 0)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def per_example(values) -> tf.Tensor:
    """Averages a per-element tensor over every axis but the batch axis."""
    values = tf.cast(values, tf.float32)
    if values.shape.rank > 1:
        values = tf.reduce_mean(values, axis=list(range(1, values.shape.rank)))
    return values


def build_model(recipe, config, info, sample_features) -> keras.Model:
    """Builds the recipe's model and makes sure its weights exist."""
    model = recipe.module.build_model(config, info)
    if not model.built:
        model(sample_features)
    return model


def first_replica(strategy, values):
    """The first replica's copy of values that every replica holds alike (all-reduced ones).

    Taking it instead of `strategy.reduce` in the cross-replica part of the
    compiled loop: under MultiWorkerMirroredStrategy, `reduce` inside a
    tf.while_loop fails ("Expected any non-tensor type, but got a tensor").
    """
    return tf.nest.map_structure(lambda value: strategy.experimental_local_results(value)[0], values)


class Evaluator:
    """Sums the recipe's loss and metrics over a split, on every replica.

    A split that fits in memory is read into tensors once and scored in one
    compiled call that loops over its batches; a larger one streams. Both add
    the same per-batch sums in the same order.
    """

    def __init__(self, recipe, model, strategy, batch_size: int = EVAL_BATCH_SIZE):
        self.recipe = recipe
        self.model = model
        self.strategy = strategy
        self.batch_size = batch_size
        self._held = {}  # id(dataset) -> (dataset, its tensors, number of examples)
        self._in_memory_call = tf.function(self._in_memory_sums, reduce_retracing=True)
        self._streaming_call = None

    def __call__(self, dataset: tf.data.Dataset) -> dict:
        """Mean loss and metrics over `dataset` (unbatched (features, targets) pairs)."""
        held = self._hold(dataset)
        if held is not None:
            totals = self._in_memory_call(*held)
        else:
            totals = self._streaming_sums(dataset)
        totals = {name: float(value) for name, value in totals.items()}
        count = totals.pop("count")
        if count == 0:
            raise errors.UserError("Cannot evaluate on an empty split.")
        return {name: value / count for name, value in totals.items()}

    def _hold(self, dataset):
        """(tensors, number of examples) of a split that fits in memory, else None."""
        key = id(dataset)
        if key not in self._held:
            size = dataset.cardinality()
            count = int(size) if size >= 0 else None
            held = None
            if count is not None and batches_lib.fits_in_memory(dataset, count) and count > 0:
                held = (batches_lib.stack(dataset, count), tf.constant(count, tf.int64))
            self._held[key] = (dataset, held)  # The dataset is kept so that its id stays its own.
        return self._held[key][1]

    def _replica_sums(self, features, targets, share: bool):
        if share:
            features, targets = batches_lib.replica_share((features, targets))
        outputs = tf.cast(self.model(features, training=False), tf.float32)
        sums = {
            "count": tf.cast(tf.shape(outputs)[0], tf.float32),
            "loss": tf.reduce_sum(per_example(self.recipe.module.loss(targets, outputs))),
        }
        for name, metric in self.recipe.module.METRICS.items():
            sums[name] = tf.reduce_sum(per_example(metric(targets, outputs)))
        return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, sums)

    def _batch_sums(self, features, targets, share: bool):
        return first_replica(self.strategy, self.strategy.run(self._replica_sums, args=(features, targets, share)))

    def _in_memory_sums(self, examples, count):
        names = ["count", "loss", *self.recipe.module.METRICS]
        totals = {name: tf.constant(0.0) for name in names}
        for start in tf.range(0, count, self.batch_size):
            batch = tf.nest.map_structure(lambda tensor: tensor[start : start + self.batch_size], examples)
            sums = self._batch_sums(*batch, True)
            totals = {name: totals[name] + sums[name] for name in names}
        return totals

    def _streaming_sums(self, dataset):
        batches = dataset.batch(self.batch_size).prefetch(tf.data.AUTOTUNE)
        distributed = self.strategy.experimental_distribute_dataset(batches)
        if self._streaming_call is None:
            self._streaming_call = tf.function(
                lambda batch: self._batch_sums(*batch, False), input_signature=[distributed.element_spec]
            )
        totals = {"count": 0.0}
        for batch in distributed:
            sums = self._streaming_call(batch)
            totals = sums if len(totals) == 1 else {name: totals[name] + sums[name] for name in totals}
        return totals


def load_model(recipe, config, weights_path, strategy=None):
    """(model, splits): the recipe's model for `config` with weights from a .weights.h5 file."""
    strategy = strategy or default_strategy()
    keras.mixed_precision.set_dtype_policy(config.precision)
    try:
        splits = recipe.module.load_data(config)
        with strategy.scope():
            sample = next(iter(splits.train.batch(2)))[0]
            model = build_model(recipe, config, splits.info, sample)
        load_weights(model, weights_path)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    return model, splits


def load_weights(model, path) -> None:
    """`model.load_weights(path)`; a file that cannot be read is one line naming it."""
    try:
        model.load_weights(path)
    except (OSError, ValueError) as error:  # h5py: truncated or not HDF5; keras: weights that do not fit.
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise errors.UserError(
            f"{path} cannot be loaded ({first_line[:200]}); it is damaged or belongs to another model. "
            "Restore it, or retrain into a new --workdir."
        ) from None


def evaluate_model(recipe, model, splits, split: str = "test", strategy=None) -> dict:
    """Loss and metrics of `model` on one split of `splits`."""
    datasets = {"train": splits.train, "validation": splits.validation, "test": splits.test}
    if split not in datasets:
        raise ValueError(f"split={split!r}: use train, validation or test.")
    return Evaluator(recipe, model, strategy or default_strategy())(datasets[split])


@dataclasses.dataclass
class LoadedRun:
    """A finished run's model with its weights loaded, and what it was trained on."""

    recipe: object
    config: object
    model: keras.Model
    splits: object  # datasets.Splits
    weights: pathlib.Path  # The weights file that was loaded.

    @property
    def info(self):
        return self.splits.info

    def __repr__(self) -> str:
        return f"LoadedRun({self.recipe.name} from {str(self.weights)!r}, {self.model.count_params():,} parameters)"


def load_run(recipe, workdir, weights: str = "best", strategy=None) -> LoadedRun:
    """Loads a finished run of `recipe` from `workdir`.

    Args:
        recipe: the `zoo.engine.registry.Recipe` the run was trained with.
        workdir: the run directory.
        weights: "best" (lowest validation loss) or "final" (after the last step).

    Raises:
        FileNotFoundError: the run has no config.json or no such weights file.
        ValueError: the run belongs to another recipe, or `weights` is unknown.
    """
    saved, path = rundir.finished_run(workdir, recipe.name, weights, recipe.source)
    config = config_lib.from_dict(recipe.Config, saved["config"])
    model, splits = load_model(recipe, config, path, strategy)
    return LoadedRun(recipe=recipe, config=config, model=model, splits=splits, weights=path)


def evaluate(recipe, workdir, split: str = "test", weights: str = "best", strategy=None) -> dict:
    """Loss and metrics of a finished run's weights on one split; see `load_run`."""
    run = load_run(recipe, workdir, weights, strategy)
    return evaluate_model(recipe, run.model, run.splits, split, strategy)

"""Training and evaluation batches, in the same order from memory or from a stream.

A split that fits in memory (every offline dataset here) is read once into
tensors, and each step's batch is gathered inside the compiled training loop
from that epoch's permutation. A larger split streams through tf.data. Both
paths give the same examples in the same order for the same (seed, epoch):

- the permutation is tf.data's `shuffle` of the indices 0..n-1 with the
  epoch's seed and a buffer of n, which is the very permutation the same
  `shuffle` applies to the examples themselves;
- batch `k` of an epoch is positions k*batch .. (k+1)*batch-1 of it, the last
  batch holding what is left.

So a resumed run lands on the same example whichever path it takes, and the
in-memory path changes nothing but the speed.

Across devices the trainer passes a global batch to every replica, and each
replica keeps its own contiguous share (`replica_share`); the losses are
divided by the global batch size, so the summed gradient is the same as on
one device.
"""

import math

import tensorflow as tf

# A split is held in memory when its tensors take at most this many bytes.
IN_MEMORY_MAX_BYTES = 512 * 2**20


def order_seed(seed: int, epoch: int) -> int:
    """The shuffle seed of `epoch`: a pure function of (seed, epoch)."""
    return (seed * 1_000_003 + epoch) % (2**31 - 1)


def size_in_memory(dataset: tf.data.Dataset, num_examples: int):
    """Bytes that `dataset`'s `num_examples` elements take as tensors, or None.

    None when an element has no fixed shape or is a string: such a split
    cannot be stacked into one tensor per component, so it streams.
    """
    total = 0
    for spec in tf.nest.flatten(dataset.element_spec):
        if not isinstance(spec, tf.TensorSpec) or not spec.shape.is_fully_defined() or spec.dtype == tf.string:
            return None
        total += spec.dtype.size * math.prod(spec.shape.as_list())
    return total * num_examples


def fits_in_memory(dataset: tf.data.Dataset, num_examples: int) -> bool:
    size = size_in_memory(dataset, num_examples)
    return size is not None and size <= IN_MEMORY_MAX_BYTES


def stack(dataset: tf.data.Dataset, num_examples: int):
    """The whole split as one tensor per component, in the dataset's order."""
    return next(iter(dataset.batch(num_examples)))


def replica_share(structure):
    """This replica's contiguous share of a global batch (inside `strategy.run`).

    Replica r of R keeps rows [r*ceil(b/R), (r+1)*ceil(b/R)) of a batch of b
    rows; a short last batch may leave the last replicas with none.
    """
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync
    if replicas == 1:
        return structure
    rows = tf.shape(tf.nest.flatten(structure)[0])[0]
    per_replica = (rows + replicas - 1) // replicas
    start = tf.minimum(tf.cast(context.replica_id_in_sync_group, tf.int32) * per_replica, rows)
    stop = tf.minimum(start + per_replica, rows)
    return tf.nest.map_structure(lambda tensor: tensor[start:stop], structure)


class InMemory:
    """A training split held as tensors; batches are gathered by permutation.

    Args:
        dataset: the unbatched split of (features, targets) pairs.
        num_examples: its number of examples.
        batch_size: examples per step (the global batch).
        seed: the run's seed, which fixes each epoch's order.
    """

    streaming = False

    def __init__(self, dataset, num_examples: int, batch_size: int, seed: int):
        self.examples = stack(dataset, num_examples)
        self.num_examples = num_examples
        self.batch_size = batch_size
        self.seed = seed
        self._permutation = tf.function(
            self._shuffled_indices, input_signature=[tf.TensorSpec((), tf.int64), tf.TensorSpec((), tf.int64)]
        )

    def epoch_order(self, epoch: int) -> tf.Tensor:
        """The permutation of epoch `epoch`: (num_examples,) int64 indices.

        It is tf.data's `Dataset.range(n).shuffle(n, seed)`, drawn by a
        compiled function so that no pipeline is built in Python each epoch.
        `shuffle` turns its seed and the global seed (`tf.random.set_seed`)
        into the two seeds of its op, with `tf.compat.v1.random.get_seed`; that
        is done here, eagerly, and the compiled function hands both to the op.
        """
        seed, seed2 = tf.compat.v1.random.get_seed(order_seed(self.seed, epoch))
        return self._permutation(tf.constant(seed, tf.int64), tf.constant(seed2, tf.int64))

    def _shuffled_indices(self, seed, seed2):
        indices = tf.data.experimental.to_variant(tf.data.Dataset.range(self.num_examples))
        shuffled = tf.raw_ops.ShuffleDatasetV3(
            input_dataset=indices,
            buffer_size=tf.constant(self.num_examples, tf.int64),
            seed=seed,
            seed2=seed2,
            seed_generator=tf.raw_ops.DummySeedGenerator(),
            output_types=[tf.int64],
            output_shapes=[tf.TensorShape([])],
            reshuffle_each_iteration=False,
        )
        dataset = tf.data.experimental.from_variant(shuffled, tf.TensorSpec((), tf.int64))
        return dataset.batch(self.num_examples).get_single_element()  # (num_examples,)

    def batch(self, order, step_in_epoch):
        """The (features, targets) of batch `step_in_epoch` of the epoch in `order` (in a graph)."""
        start = tf.cast(step_in_epoch, tf.int64) * self.batch_size
        indices = order[start : start + self.batch_size]  # (batch,), shorter at the epoch's end
        return tf.nest.map_structure(lambda tensor: tf.gather(tensor, indices), self.examples)


class Streaming:
    """A training split streamed through tf.data: cached, shuffled per epoch, batched.

    Args: as for `InMemory`, plus the `tf.distribute.Strategy` that splits
    each batch over its replicas.
    """

    streaming = True

    def __init__(self, dataset, num_examples: int, batch_size: int, seed: int, strategy):
        self.cached = dataset.cache()
        self.num_examples = num_examples
        self.batch_size = batch_size
        self.seed = seed
        self.strategy = strategy

    def epoch_iterator(self, epoch: int, skip: int):
        """A distributed iterator over epoch `epoch`'s batches, from batch `skip` on."""
        dataset = self.cached.shuffle(
            self.num_examples, seed=order_seed(self.seed, epoch), reshuffle_each_iteration=False
        )
        dataset = dataset.batch(self.batch_size).skip(skip).prefetch(tf.data.AUTOTUNE)
        # Several workers shard by example: each reads the whole (cached, in-order)
        # split and keeps its part of every global batch. There are no files to shard.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return iter(self.strategy.experimental_distribute_dataset(dataset.with_options(options)))


def training_batches(dataset, num_examples: int, batch_size: int, seed: int, strategy):
    """`InMemory` when the split fits in memory, else `Streaming`."""
    if fits_in_memory(dataset, num_examples):
        return InMemory(dataset, num_examples, batch_size, seed)
    return Streaming(dataset, num_examples, batch_size, seed, strategy)


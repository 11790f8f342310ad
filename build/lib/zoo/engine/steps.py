"""The compiled training call: up to `steps_per_call` optimizer steps in one tf.function.

Each step, on every replica of the `tf.distribute` strategy: forward pass,
per-example loss, gradients, one all-reduce, optional global-norm clipping of
the all-reduced gradient, and apply (unless the loss or the gradient is not
finite). The steps run in a `tf.while_loop`, so the host is visited once per
call; the call stops early at a non-finite step unless `skip_nonfinite`.

Losses across devices: each replica sums its examples' losses and divides by
the number of examples in the whole global batch (all-reduced), so the summed
gradient equals the single-device mean gradient even for a ragged last batch.
"""

import keras
import tensorflow as tf

from zoo.engine import batches as batches_lib
from zoo.engine import runs


class TrainSteps:
    """The compiled call of one run; `__call__` runs it and reads its results once.

    Args:
        recipe: the `zoo.engine.registry.Recipe` (its loss and METRICS).
        config: the run's Config (grad_clip_norm, skip_nonfinite, jit_compile).
        model, optimizer: what is trained (built in the strategy's scope).
        state: the run's `checkpoints.TrainState`: the step counter and the
            epoch's running sums advance inside the call.
        batches: a `batches.InMemory` or `batches.Streaming`.
        strategy: the `tf.distribute.Strategy`.
    """

    def __init__(self, recipe, config, model, optimizer, state, batches, strategy):
        self.recipe = recipe
        self.config = config
        self.model = model
        self.optimizer = optimizer
        self.state = state
        self.batches = batches
        self.strategy = strategy
        self.gradients = tf.function(self.replica_gradients, jit_compile=True) if config.jit_compile else self.replica_gradients
        if batches.streaming:
            self.call = tf.function(self.streaming_call)
        else:
            signature = [tf.TensorSpec([None], tf.int64), tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.int32)]
            self.call = tf.function(self.in_memory_call, input_signature=signature)

    def __call__(self, source, first: int, count: int) -> dict:
        """Runs `count` steps from batch `first` of the epoch; numpy outputs of the last one.

        `source` is the epoch's permutation (in memory) or its iterator
        positioned at batch `first` (streaming). The outputs are the last
        step's loss, gradient norms and finiteness, the step counter after the
        call, and the epoch's mean loss so far.
        """
        if self.batches.streaming:
            outputs = self.call(source, tf.constant(count, tf.int32))
        else:
            outputs = self.call(source, tf.constant(first, tf.int64), tf.constant(count, tf.int32))
        return {name: value.numpy() for name, value in outputs.items()}

    def replica_gradients(self, features, targets, global_count):
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

    def replica_step(self, features, targets, share: bool):
        if share:  # An in-memory batch reaches every replica whole.
            features, targets = batches_lib.replica_share((features, targets))
        optimizer = self.optimizer
        context = tf.distribute.get_replica_context()
        local_count = tf.cast(tf.shape(targets)[0], tf.float32)
        global_count = context.all_reduce(tf.distribute.ReduceOp.SUM, local_count)
        loss, sums, gradients = self.gradients(features, targets, global_count)
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
        self.apply_if_finite(finite, [g / context.num_replicas_in_sync for g in gradients])
        norms = {"grad_norm": grad_norm, "clipped_grad_norm": clipped_norm, "finite": finite}
        # The norms already agree on every replica; the sums are all-reduced here, in
        # replica context, so that every replica returns the global values.
        return context.all_reduce(tf.distribute.ReduceOp.SUM, sums), norms

    def apply_if_finite(self, finite, gradients):
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

    def step(self, features, targets, share: bool) -> dict:
        """One optimizer step on every replica; adds it to the epoch's running sums."""
        sums, norms = runs.first_replica(self.strategy, self.strategy.run(self.replica_step, args=(features, targets, share)))
        finite = norms["finite"]
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

    def call_outputs(self, outputs) -> dict:
        """What a call returns: its last step's outputs, the step and the epoch's mean loss."""
        epoch_sums = self.state.epoch_sums
        return {
            **outputs,
            "step": self.state.step.read_value(),
            "epoch_loss": epoch_sums["loss"] / tf.maximum(epoch_sums["count"], 1.0),
        }

    def no_step_yet(self) -> dict:
        zero = tf.constant(0.0)
        return {"loss": zero, "grad_norm": zero, "clipped_grad_norm": zero, "finite": tf.constant(True)}

    def in_memory_call(self, order, first, count):
        """Up to `count` steps from batch `first` of the epoch whose permutation is `order`."""
        outputs = self.no_step_yet()
        for index in tf.range(count):
            features, targets = self.batches.batch(order, first + tf.cast(index, tf.int64))
            outputs = self.step(features, targets, share=True)
            if not self.config.skip_nonfinite and not outputs["finite"]:
                break  # Stop at the bad step, which was not applied.
        return self.call_outputs(outputs)

    def streaming_call(self, iterator, count):
        """Up to `count` steps from a distributed iterator over the epoch's batches."""
        outputs = self.no_step_yet()
        for _ in tf.range(count):
            batch = iterator.get_next_as_optional()
            if not batch.has_value():
                break
            features, targets = batch.get_value()
            outputs = self.step(features, targets, share=False)
            if not self.config.skip_nonfinite and not outputs["finite"]:
                break
        return self.call_outputs(outputs)


"""Benchmark: the zoo's SelfAttention against keras.layers.MultiHeadAttention.

Times one training step (forward, backward and an Adam update) of a tiny model
that is only the attention layer, causal as in a language model, with a
mean-squared-error loss. Both layers run in the same process with the same
sizes, interleaved round by round (alternating which goes first), after a
warm-up; each cell is the median over the rounds of the mean time per step.
The ratio ours/keras is the number to watch: the target is <= 1.10.

Run from the repository root:

    .venv/bin/python benchmarks/attention.py            # tf.function steps
    .venv/bin/python benchmarks/attention.py --xla      # plus XLA-compiled steps

It prints a table and asserts nothing.
"""

import argparse
import os
import pathlib
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# A script, not a package: make `import layers` find the repository's layers/.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

import layers  # noqa: E402

# (batch, time, d_model, heads). The first is the size of the character
# language-model recipe; the second is a larger one.
CONFIGS = [
    (32, 128, 128, 4),
    (32, 256, 256, 8),
]


def _train_step(attention, is_keras, inputs, targets, jit_compile):
    """A compiled step: forward, MSE loss, gradients, Adam apply."""
    if is_keras:
        attention(inputs, inputs, inputs)
    else:
        attention(inputs)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    optimizer.build(attention.trainable_weights)

    @tf.function(jit_compile=jit_compile)
    def step():
        with tf.GradientTape() as tape:
            if is_keras:
                outputs = attention(inputs, inputs, inputs, use_causal_mask=True)
            else:
                outputs = attention(inputs, use_causal_mask=True)
            loss = ops.mean(ops.square(outputs - targets))
        gradients = tape.gradient(loss, attention.trainable_weights)
        optimizer.apply_gradients(zip(gradients, attention.trainable_weights))
        return loss

    return step


def _milliseconds_per_step(step, steps):
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    float(loss)  # wait for the last step to finish
    return (time.perf_counter() - start) * 1000.0 / steps


def benchmark(batch, length, model_dim, heads, jit_compile, rounds, steps):
    """Returns (ours ms/step, keras ms/step), medians over interleaved rounds."""
    keras.utils.set_random_seed(0)
    random = np.random.default_rng(0)
    inputs = tf.constant(random.normal(size=(batch, length, model_dim)), "float32")
    targets = tf.constant(random.normal(size=(batch, length, model_dim)), "float32")
    key_dim = model_dim // heads
    ours = layers.SelfAttention(num_heads=heads, key_dim=key_dim)
    theirs = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)
    steps_by_name = {
        "ours": _train_step(ours, False, inputs, targets, jit_compile),
        "keras": _train_step(theirs, True, inputs, targets, jit_compile),
    }
    for step in steps_by_name.values():  # trace, compile and warm up
        _milliseconds_per_step(step, 3)

    timings = {name: [] for name in steps_by_name}
    for round_index in range(rounds):
        names = list(steps_by_name)
        if round_index % 2:
            names.reverse()
        for name in names:
            timings[name].append(_milliseconds_per_step(steps_by_name[name], steps))
    return statistics.median(timings["ours"]), statistics.median(timings["keras"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xla", action="store_true",
                        help="also time XLA-compiled (jit_compile=True) steps")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5,
                        help="steps per timed round")
    arguments = parser.parse_args()

    devices = [device.device_type for device in tf.config.list_logical_devices()]
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, devices "
        f"{devices}, float32, causal, median of {arguments.rounds} rounds x "
        f"{arguments.steps} steps"
    )
    header = (
        f"{'config (batch, time, d_model, heads)':<38}{'step':<13}"
        f"{'ours ms/step':>13}{'keras ms/step':>15}{'ours/keras':>12}"
    )
    print(header)
    print("-" * len(header))
    modes = [False, True] if arguments.xla else [False]
    for config in CONFIGS:
        for jit_compile in modes:
            ours, theirs = benchmark(
                *config, jit_compile=jit_compile,
                rounds=arguments.rounds, steps=arguments.steps,
            )
            mode = "xla" if jit_compile else "tf.function"
            print(
                f"{str(config):<38}{mode:<13}{ours:>13.2f}{theirs:>15.2f}"
                f"{ours / theirs:>12.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

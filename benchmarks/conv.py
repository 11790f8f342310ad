"""Our gather-and-matmul Conv2D against keras.layers.Conv2D: one training step, same shapes, interleaved.

    .venv/bin/python benchmarks/conv.py [--rounds 9] [--milliseconds 200]

A step is forward + backward + Adam on a layer alone (3x3 kernel, same
padding, relu), compiled with tf.function and traced before timing. Two steps
per shape: "first layer", where the images are constants and only the kernel
and bias get gradients, and "inner layer", where the images are a variable too,
as for every conv layer after the first, so the step also computes the
gradient with respect to the input. Ours and keras's alternate within each
round, the order flipping every round; a cell is the median over the rounds of
ours / keras, with the range of the rounds in parentheses; above 1 means ours is
slower. Our layer gathers every kh*kw window with one `ops.take` (a 9x copy of
its input for a 3x3 kernel) and does one matmul; keras calls the convolution op
directly. A third side, `PerOffsetConv2D`, is the other way to write a
convolution without the op: one matmul per kernel offset on a shifted view of
the padded input, summed (no patch copy, but kh*kw matmuls and, for the input
gradient, kh*kw pads of the whole image); its column is also over keras.
"""

import argparse
import os
import pathlib
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import layers  # noqa: E402
from benchmarks._summary import spread  # noqa: E402

# (batch, height, width, in channels, filters): digits_cnn's two conv shapes, MNIST-sized ones,
# and a sweep of the shapes of a small ResNet's stages.
SHAPES = [
    (32, 8, 8, 32, 32),
    (32, 4, 4, 32, 64),
    (32, 28, 28, 1, 32),
    (8, 56, 56, 16, 16),
    (32, 28, 28, 32, 32),
    (32, 14, 14, 64, 64),
    (32, 7, 7, 128, 128),
]


def step_function(layer, images, input_gradient: bool):
    optimizer = keras.optimizers.Adam(1e-3)
    layer(images)
    images = tf.Variable(images) if input_gradient else images
    variables = layer.trainable_variables + ([images] if input_gradient else [])
    optimizer.build(variables)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(layer(images)))
        gradients = tape.gradient(loss, variables)
        optimizer.apply(gradients, variables)
        return loss

    step()  # Trace.
    return step


def milliseconds(step, steps: int) -> float:
    started = time.perf_counter()
    for _ in range(steps):
        loss = step()
    float(loss)
    return (time.perf_counter() - started) / steps * 1e3


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class PerOffsetConv2D(keras.layers.Layer):
    """A stride-1, same-padding convolution as kh*kw matmuls, one per kernel offset, summed (relu)."""

    def __init__(self, filters, kernel_size=3):
        super().__init__()
        self.filters, self.kernel_size = filters, kernel_size

    def build(self, input_shape):
        size = self.kernel_size
        self.kernel = self.add_weight(shape=(size, size, input_shape[-1], self.filters), initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros")

    def call(self, images):
        size, height, width = self.kernel_size, images.shape[1], images.shape[2]
        before, after = (size - 1) // 2, size - 1 - (size - 1) // 2
        padded = keras.ops.pad(images, [[0, 0], [before, after], [before, after], [0, 0]])
        total = 0
        for row in range(size):
            for column in range(size):  # The input pixels under kernel offset (row, column), for every output at once.
                total = total + keras.ops.matmul(padded[:, row : row + height, column : column + width], self.kernel[row, column])
        return keras.ops.relu(total + self.bias)


def check_per_offset():
    """PerOffsetConv2D is keras's convolution: the same weights give the same outputs (1e-5)."""
    images = np.random.default_rng(1).normal(size=(2, 7, 6, 3)).astype("float32")
    theirs, mine = keras.layers.Conv2D(4, 3, padding="same", activation="relu"), PerOffsetConv2D(4, 3)
    theirs.build(images.shape)
    mine.build(images.shape)
    mine.set_weights([np.random.default_rng(2).normal(size=w.shape).astype("float32") for w in mine.get_weights()])
    theirs.set_weights(mine.get_weights())
    np.testing.assert_allclose(np.asarray(mine(images)), np.asarray(theirs(images)), atol=1e-5)


def compare(shape, input_gradient: bool, rounds: int, budget_ms: float):
    """Per side (ours, per_offset): the rounds' ratios of side / keras; and keras's median ms per step."""
    batch, height, width, channels, filters = shape
    images = tf.constant(np.random.default_rng(0).normal(size=(batch, height, width, channels)).astype("float32"))
    steps = {
        "ours": step_function(layers.Conv2D(filters, 3, padding="same", activation="relu"), images, input_gradient),
        "keras": step_function(keras.layers.Conv2D(filters, 3, padding="same", activation="relu"), images, input_gradient),
        "per_offset": step_function(PerOffsetConv2D(filters, 3), images, input_gradient),
    }
    count = max(2, round(budget_ms / max(milliseconds(steps["keras"], 2), 0.01)))
    times = {name: [] for name in steps}
    for round_index in range(rounds):
        order = list(steps) if round_index % 2 == 0 else list(steps)[::-1]
        for name in order:
            times[name].append(milliseconds(steps[name], count))
    ratios = {name: [mine / theirs for mine, theirs in zip(times[name], times["keras"])] for name in ("ours", "per_offset")}
    return ratios, statistics.median(times["keras"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--milliseconds", type=float, default=200.0, help="time per side per round")
    args = parser.parse_args()
    check_per_offset()
    print(f"load average before: {load()}")
    print("| conv training step (batch, h, w, in, filters) | first layer: ours / keras (range) | per-offset / keras | keras ms | "
          "inner layer: ours / keras (range) | per-offset / keras | keras ms |")
    print("|---|---|---|---|---|---|---|")
    for shape in SHAPES:
        cells = []
        for input_gradient in (False, True):
            ratios, keras_ms = compare(shape, input_gradient, args.rounds, args.milliseconds)
            cells += [spread(ratios["ours"], 2), spread(ratios["per_offset"], 2), f"{keras_ms:.2f}"]
        print(f"| {shape} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nmedian of {args.rounds} interleaved rounds (order alternated), ~{args.milliseconds:.0f} ms per side per "
          f"round; TF {tf.__version__}, {os.cpu_count()} CPU cores. load average after: {load()}")


if __name__ == "__main__":
    main()

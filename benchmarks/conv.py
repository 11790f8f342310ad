"""Our patch-and-matmul Conv2D against keras.layers.Conv2D: one training step, same shapes, interleaved.

    .venv/bin/python benchmarks/conv.py [--rounds 7] [--steps 10]

A step is forward + backward + Adam on a layer alone (3x3 kernel, same
padding, relu), compiled with tf.function and traced before timing. The two
layers alternate round by round and each cell is the median over the rounds;
ours / keras above 1 means ours is slower. Our layer gathers kh*kw strided
slices and concatenates them (a 9x copy of its input for a 3x3 kernel), then
does one matmul; keras calls the convolution op directly.
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

# (batch, height, width, in channels, filters): digits_cnn's two conv shapes, and MNIST-sized ones.
SHAPES = [(32, 8, 8, 32, 32), (32, 4, 4, 32, 64), (32, 28, 28, 1, 32), (32, 28, 28, 32, 32)]


def step_function(layer, images):
    optimizer = keras.optimizers.Adam(1e-3)
    layer(images)
    optimizer.build(layer.trainable_variables)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(layer(images)))
        gradients = tape.gradient(loss, layer.trainable_variables)
        optimizer.apply(gradients, layer.trainable_variables)
        return loss

    step()  # Trace.
    return step


def milliseconds(step, steps: int) -> float:
    started = time.perf_counter()
    for _ in range(steps):
        loss = step()
    float(loss)
    return (time.perf_counter() - started) / steps * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| conv training step (batch, h, w, in, filters) | ours ms/step | keras ms/step | ours / keras |")
    print("|---|---|---|---|")
    for batch, height, width, channels, filters in SHAPES:
        images = tf.constant(np.random.default_rng(0).normal(size=(batch, height, width, channels)).astype("float32"))
        steps = {
            "ours": step_function(layers.Conv2D(filters, 3, padding="same", activation="relu"), images),
            "keras": step_function(keras.layers.Conv2D(filters, 3, padding="same", activation="relu"), images),
        }
        times = {name: [] for name in steps}
        for _ in range(args.rounds):
            for name, step in steps.items():
                times[name].append(milliseconds(step, args.steps))
        ours, theirs = statistics.median(times["ours"]), statistics.median(times["keras"])
        print(f"| ({batch}, {height}, {width}, {channels}, {filters}) | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} |", flush=True)
    print(f"\nmedian of {args.rounds} interleaved rounds of {args.steps} steps; TF {tf.__version__}, "
          f"{os.cpu_count()} CPU cores. load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

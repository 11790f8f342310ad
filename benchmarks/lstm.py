"""keras.layers.RNN(layers.LSTMCell) against keras.layers.LSTM: one training step, same shapes, interleaved.

    .venv/bin/python benchmarks/lstm.py [--rounds 9] [--milliseconds 300]

A step is forward + backward + Adam of the recurrent layer alone over a random
sequence (return_sequences=True, a mean-square loss), compiled with
tf.function and traced before timing. On CPU keras.layers.LSTM has no fused
kernel (cuDNN is GPU only), so both run keras's RNN loop one step at a time and
differ only in the cell's own maths. Ours and keras's alternate within each
round, the order flipping every round; a cell is the median over the rounds of
ours / keras with the range of the rounds in parentheses; above 1 means ours is
slower.
"""

import argparse
import os
import pathlib
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from conv import load, milliseconds, step_function  # noqa: E402  (benchmarks/conv.py: the same timing)

import layers  # noqa: E402
from benchmarks._summary import spread  # noqa: E402

# (batch, time, features, units): forecast_lstm / sentiment_lstm-sized, translate-sized and music_lstm-sized.
SHAPES = [(32, 24, 8, 32), (64, 40, 64, 128), (32, 100, 256, 256), (64, 100, 256, 1024)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--milliseconds", type=float, default=300.0, help="time per side per round")
    parser.add_argument("--shapes", type=int, default=len(SHAPES), help="run only the first N shapes")
    args = parser.parse_args()
    print(f"load average before: {load()}")
    print("| LSTM training step (batch, time, features, units) | ours / keras (range) | ours ms | keras ms |")
    print("|---|---|---|---|")
    for batch, time_steps, features, units in SHAPES[: args.shapes]:
        sequence = tf.constant(np.random.default_rng(0).normal(size=(batch, time_steps, features)).astype("float32"))
        steps = {
            "ours": step_function(keras.layers.RNN(layers.LSTMCell(units), return_sequences=True), sequence, input_gradient=False),
            "keras": step_function(keras.layers.LSTM(units, return_sequences=True), sequence, input_gradient=False),
        }
        count = max(1, round(args.milliseconds / max(milliseconds(steps["keras"], 1), 0.01)))
        times = {name: [] for name in steps}
        for round_index in range(args.rounds):
            for name in (["ours", "keras"] if round_index % 2 == 0 else ["keras", "ours"]):
                times[name].append(milliseconds(steps[name], count))
        ratios = [ours / theirs for ours, theirs in zip(times["ours"], times["keras"])]
        print(f"| ({batch}, {time_steps}, {features}, {units}) | {spread(ratios, 2)} | {statistics.median(times['ours']):.2f} | "
              f"{statistics.median(times['keras']):.2f} |", flush=True)
    print(f"\nmedian of {args.rounds} interleaved rounds (order alternated), ~{args.milliseconds:.0f} ms per side per "
          f"round; TF {tf.__version__}, {os.cpu_count()} CPU cores. load average after: {load()}")


if __name__ == "__main__":
    main()

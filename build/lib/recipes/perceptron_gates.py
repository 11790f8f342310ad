"""Perceptron on logic gates: one neuron learns AND and OR, but not XOR.

Lecture 1's first model. A perceptron computes sigmoid(x·w + b): a straight line
through the input plane, with one class on each side. AND and OR can be split by
a line; XOR cannot, so a single perceptron gets at most 3 of its 4 rows right.
One hidden layer bends the boundary and XOR is learned exactly.

    make train MODEL=perceptron_gates ARGS="gate=and hidden_units=0"   # 100%
    make train MODEL=perceptron_gates ARGS="gate=xor hidden_units=0"   # <= 75%
    make train MODEL=perceptron_gates                                  # xor, 8 hidden: 100%

Measured on this project's machine (2 CPU cores, AMD EPYC, no GPU, quiet), seed 0: AND and
OR with a single perceptron: 4/4 rows (test accuracy 1.0); XOR with a single
perceptron: 2/4 rows (0.5: it outputs ~0.5 everywhere, the best a line can do
in loss); XOR with 8 hidden units: 4/4 rows, in 2.5 s of training (240 steps),
10.4 s for the whole command. The trained truth table is printed at the end and
saved as WORKDIR/truth_table.json.
"""

import dataclasses
import json
import pathlib
import typing

import keras
import numpy as np

import layers
from datasets import gates
from recipes import _common


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    epochs: int = 60
    batch_size: int = 16
    learning_rate: float = 0.05
    dataset: typing.Literal["gates"] = "gates"
    gate: typing.Literal["and", "or", "xor", "nand", "nor"] = "xor"
    hidden_units: int = 8  # 0: a single perceptron, no hidden layer.
    hidden_activation: typing.Literal["tanh", "relu", "sigmoid"] = "tanh"
    repeats: int = 16  # Copies of the 4-row truth table per training epoch.

    def __post_init__(self):
        super().__post_init__()
        _common.require(self, "hidden_units", self.hidden_units >= 0, "must be >= 0")
        _common.require(self, "repeats", self.repeats >= 1, "must be >= 1")


TASK = "binary"
HEADLINE = "accuracy"
METRICS = {"accuracy": _common.binary_accuracy}
loss = _common.binary_crossentropy


def load_data(config):
    return gates.load(gate=config.gate, repeats=config.repeats)


def build_model(config, info):
    inputs = keras.Input(shape=info.input_shape, name="inputs")
    hidden = inputs
    if config.hidden_units:
        hidden = layers.Dense(config.hidden_units, activation=config.hidden_activation, name="hidden")(hidden)
    logit = layers.Dense(1, name="perceptron")(hidden)  # One logit: P(1) = sigmoid(logit).
    return keras.Model(inputs, logit, name="perceptron_gates")


def report(model, splits, config, workdir):
    """Prints the truth table the trained model predicts and saves it as JSON."""
    rows = splits.info.extras["truth_table"]
    inputs = np.array([row[0] for row in rows], dtype="float32")
    targets = [int(row[1]) for row in rows]
    probabilities = keras.ops.convert_to_numpy(keras.ops.sigmoid(model(inputs))).reshape(-1)
    table = [
        {"x1": float(x[0]), "x2": float(x[1]), "target": t, "p(1)": round(float(p), 4), "predicted": int(p > 0.5)}
        for x, t, p in zip(inputs, targets, probabilities)
    ]
    correct = sum(row["predicted"] == row["target"] for row in table)
    model_name = f"{config.hidden_units} hidden units" if config.hidden_units else "a single perceptron"
    print(f"{config.gate.upper()} with {model_name}: {correct}/4 rows right")
    for row in table:
        print(f"  {row['x1']:.0f} {row['x2']:.0f} -> p(1)={row['p(1)']:.3f}  target {row['target']}")
    result = {"gate": config.gate, "hidden_units": config.hidden_units, "rows_correct": correct, "table": table}
    (pathlib.Path(workdir) / "truth_table.json").write_text(json.dumps(result, indent=2) + "\n")
    return {"rows_correct": correct}

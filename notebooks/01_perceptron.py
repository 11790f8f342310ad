# %% [markdown]
# # 1. The perceptron: gates, XOR, hidden layers and the decision boundary
#
# Lecture 1 starts from one neuron. A perceptron multiplies each input by a weight, adds
# a bias, and passes the sum through a non-linearity: `y = g(x·w + b)`. Where `x·w + b = 0`
# is a straight line through the input plane, so one perceptron can only tell apart
# what a straight line can separate. This notebook shows that limit on the logic gates,
# then how one hidden layer removes it, and finally a deeper network that bends its
# boundary into a spiral.
#
# Everything here trains in seconds on a CPU or loads the zoo's shipped weights.

# %%
# Setup (the same first cell in every notebook; notebooks/README.md explains it).
# Finds the zoo: installed, or the checkout around this notebook; else installs it from
# ZOO_SOURCE (a checkout's folder, a git URL or a wheel: anything `pip install` takes;
# on Colab, the zoo's git URL: "git+https://HOST/OWNER/zoo.git").
import importlib.util
import os
import pathlib
import subprocess
import sys

QUICK = os.environ.get("ZOO_NOTEBOOK_QUICK") == "1"  # The tests' small settings: fewer runs and samples.
ZOO_SOURCE = os.environ.get("ZOO_SOURCE", "")
RUNS = pathlib.Path(os.environ.get("ZOO_NOTEBOOK_RUNS", "runs")).resolve()  # Where this notebook trains.


def pip(*arguments):
    subprocess.run([sys.executable, "-m", "pip", *arguments, "--quiet"], check=True)


if importlib.util.find_spec("zoo") is None:
    here = pathlib.Path.cwd().resolve()
    checkout = next((folder for folder in (here, *here.parents) if (folder / "zoo" / "__init__.py").is_file()), None)
    if checkout is not None:
        sys.path.insert(0, str(checkout))
    elif ZOO_SOURCE:
        if "google.colab" in sys.modules:  # Colab's HuggingFace `datasets` has the name of the zoo's own.
            pip("uninstall", "--yes", "datasets")
        pip("install", ZOO_SOURCE)
        importlib.invalidate_caches()
    else:
        raise RuntimeError("The zoo is not installed here: set ZOO_SOURCE to its checkout or a pip URL and rerun.")
if importlib.util.find_spec("mitdeeplearning") is None:  # The Irish tunes, as the README installs them.
    pip("install", "setuptools<81", "wheel")
    pip("install", "--no-deps", "--no-build-isolation", "mitdeeplearning==0.7.5")

import zoo  # noqa: E402  (in a notebook, this loads TensorFlow without its C++ start-up lines)

import matplotlib.pyplot as plt
import numpy as np

# %% [markdown]
# ## A perceptron by hand
#
# Before training anything: with weights picked by hand, a perceptron already computes
# AND. Both inputs must be on for `x1 + x2 - 1.5` to be positive, and the step function
# turns the sign into 0 or 1.

# %%
inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
weights, bias = np.array([1.0, 1.0]), -1.5
for x in inputs:
    print(x, "->", int(x @ weights + bias > 0))

# %% [markdown]
# No line can do the same for XOR (1 when exactly one input is on): the two 1s sit on
# one diagonal of the square and the two 0s on the other. Training finds this out for us.
# `zoo.train` trains the `perceptron_gates` recipe; `hidden_units=0` leaves out the
# hidden layer, so the model is a single perceptron. The recipe prints the truth table
# it learned.

# %%
single = zoo.train("perceptron_gates", {"gate": "xor", "hidden_units": 0}, RUNS / "xor_single", verbose=False)
hidden = zoo.train("perceptron_gates", {"gate": "xor", "hidden_units": 8}, RUNS / "xor_hidden", verbose=False)
single, hidden

# %% [markdown]
# The single perceptron stays near p = 0.5 for every row: the best a line can do for XOR
# in cross-entropy is to stay undecided. With eight hidden units the network gets all
# four rows. The training curves tell the same story: one loss flattens at log 2 ≈ 0.69,
# the other keeps falling.

# %%
def curve(result, split="validation"):
    records = [record for record in result.history if record["split"] == split]
    return [record["epoch"] for record in records], [record["loss"] for record in records]


figure, axis = plt.subplots(figsize=(6, 3.5))
for result, label in ((single, "one perceptron"), (hidden, "8 hidden units")):
    axis.plot(*curve(result), label=label)
axis.axhline(np.log(2), color="gray", linestyle=":", label="log 2 (always 0.5)")
axis.set(xlabel="epoch", ylabel="validation loss (cross-entropy)", title="XOR")
axis.legend()
plt.show()
print("rows right:", single.report["rows_correct"], "of 4 (one perceptron),", hidden.report["rows_correct"], "of 4 (hidden layer)")

# %% [markdown]
# ## The decision boundary
#
# `zoo.load` gives back a trained model, and `zoo.predict` asks it about any points we
# like: here a grid over the square, coloured by P(1). The perceptron's boundary can
# only be a straight line (whatever its training did, it cannot put both 1s on one side
# and both 0s on the other); the hidden layer's boundary bends around the corners.

# %%
def probability_of_one(loaded, points):
    return np.array([prediction.probabilities[1] for prediction in zoo.predict(loaded, points)])


def draw_boundary(axis, loaded, low, high, points=None, labels=None, steps=80):
    grid_x, grid_y = np.meshgrid(np.linspace(low, high, steps), np.linspace(low, high, steps))
    probability = probability_of_one(loaded, np.c_[grid_x.ravel(), grid_y.ravel()]).reshape(grid_x.shape)
    shading = axis.contourf(grid_x, grid_y, probability, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.75)
    axis.contour(grid_x, grid_y, probability, levels=[0.5], colors="black", linewidths=1)
    if points is not None:
        axis.scatter(points[:, 0], points[:, 1], c=labels, cmap="RdBu", vmin=0, vmax=1, edgecolors="black", s=40)
    return shading


xor_targets = np.array([0, 1, 1, 0])
figure, axes = plt.subplots(1, 2, figsize=(10, 4))
for axis, name, title in ((axes[0], "xor_single", "one perceptron"), (axes[1], "xor_hidden", "8 hidden units")):
    shading = draw_boundary(axis, zoo.load("perceptron_gates", RUNS / name), -0.5, 1.5, inputs, xor_targets)
    axis.set_title(f"XOR, {title}")
figure.colorbar(shading, ax=axes, label="P(1): red 0, blue 1")
plt.show()

# %% [markdown]
# ## Deeper: the spiral of the TensorFlow Playground
#
# The same idea scales up. `playground_mlp` stacks three hidden layers of 16 tanh units
# and learns the Playground's two interleaved spirals. Its weights ship with the zoo, so
# `pretrained=True` loads them (checked against their sha256) instead of training.
# `zoo.evaluate` measures them on the test points, which training never saw.

# %%
spiral = zoo.load("playground_mlp", pretrained=True)
spiral_metrics = zoo.evaluate("playground_mlp", pretrained=True)
print(spiral)
print(spiral_metrics)

# %%
test_points, test_labels = (np.concatenate(part) for part in zip(*spiral.splits.test.batch(1024).as_numpy_iterator()))
figure, axis = plt.subplots(figsize=(5.5, 4.5))
(low, high), _ = spiral.info.extras["feature_range"]
shading = draw_boundary(axis, spiral, low, high, test_points, test_labels.reshape(-1), steps=100)
figure.colorbar(shading, ax=axis, label="P(class 1)")
axis.set_title(f"playground_mlp on the spiral: test accuracy {spiral_metrics['accuracy']:.3f}")
plt.show()

# %% [markdown]
# Each hidden layer re-draws the plane for the next one, so by the last layer the two
# arms of the spiral are something a single line can split: the black contour (P = 0.5)
# winds between the arms instead of cutting straight across. That is the whole reason
# for hidden layers: a stack of simple units draws boundaries no single unit can.
#
# To try it yourself: `zoo.train("playground_mlp", {"dataset": "circle", "noise": 0.2}, RUNS / "circle")`
# trains on another Playground set in a few seconds; `depth=1` shows how much one hidden layer can bend.

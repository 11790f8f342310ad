# %% [markdown]
# # Lecture 1: the perceptron, and how networks train
#
# Two parts, in the lecture's order: **Part 1**, the perceptron, the logic gates, XOR,
# hidden layers and the decision boundary; **Part 2**, losses, gradient descent and the
# learning rate, mini-batches, optimizers, dropout and early stopping.
# Everything trains in seconds on a CPU or loads the zoo's shipped weights.

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
from IPython.display import Image, display

# %% [markdown]
# ## Part 1. The perceptron: gates, XOR, hidden layers and the decision boundary
#
# Lecture 1 starts from one neuron. A perceptron multiplies each input by a weight, adds
# a bias, and passes the sum through a non-linearity: `y = g(x·w + b)`. Where `x·w + b = 0`
# is a straight line through the input plane, so one perceptron can only tell apart
# what a straight line can separate. This part shows that limit on the logic gates,
# then how one hidden layer removes it, and finally a deeper network that bends its
# boundary into a spiral.
#
# Everything here trains in seconds on a CPU or loads the zoo's shipped weights.

# %% [markdown]
# ### A perceptron by hand
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
# ### The decision boundary
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
# ### Deeper: the spiral of the TensorFlow Playground
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

# %% [markdown]
# ## Part 2. Training: losses, gradient descent, optimizers, mini-batches, dropout and early stopping
#
# A network is only as good as its training. Lecture 1 builds it up in steps: a loss says
# how wrong the network is; gradient descent walks its weights downhill on that loss;
# the learning rate sets the stride; mini-batches make each step cheap but noisy;
# optimizers adapt the stride per weight; dropout and early stopping keep the network
# from memorising its training set. Each step below is a small experiment: the first
# three in plain NumPy (the ideas need no framework), the rest with the zoo's trainer.

# %% [markdown]
# ### Losses
#
# For a yes/no answer the network outputs a probability p for "yes". Cross-entropy charges
# `-log p` when the answer was yes; squared error charges `(1 - p)²`. Both are zero for a
# confident right answer, but only cross-entropy grows without bound for a confident wrong
# one, which is why classifiers train on it. Squared error is the loss for predicting a
# number (the zoo's `regression_mlp`).

# %%
p = np.linspace(0.001, 1, 400)
figure, axis = plt.subplots(figsize=(6, 3.5))
axis.plot(p, -np.log(p), label="cross-entropy: -log p")
axis.plot(p, (1 - p) ** 2, label="squared error: (1 - p)²")
axis.set(xlabel="probability given to the right answer", ylabel="loss", ylim=(0, 5), title="The loss of one example whose answer is 'yes'")
axis.legend()
plt.show()
print(f"p = 0.01 for the right answer costs {-np.log(0.01):.2f} in cross-entropy and {(1 - 0.01) ** 2:.2f} in squared error")

# %% [markdown]
# ### Gradient descent and the learning rate
#
# Take the simplest loss there is, `L(w) = (w - 3)²`, whose slope is `2(w - 3)`. Gradient
# descent repeats `w ← w - η · slope`. Each step multiplies the distance to the minimum by
# `(1 - 2η)`: a small η creeps, η = 0.5 lands in one step, η between 0.5 and 1 overshoots
# back and forth but still arrives, and past η = 1 every step overshoots further: the
# loss explodes. Real losses have many weights and curvatures, but the same three regimes
# show up in every training run.

# %%
def descend(learning_rate, steps=25, start=-2.0):
    weight, losses = start, []
    for _ in range(steps):
        losses.append((weight - 3) ** 2)
        weight -= learning_rate * 2 * (weight - 3)
    return np.array(losses)


learning_rates = [0.02, 0.3, 0.9, 1.05]
figure, axis = plt.subplots(figsize=(6, 3.5))
for rate in learning_rates:
    axis.semilogy(descend(rate), marker=".", label=f"η = {rate}")
axis.set(xlabel="step", ylabel="loss (log scale)", title="Gradient descent on (w - 3)²")
axis.legend()
plt.show()
final_losses = {rate: descend(rate)[-1] for rate in learning_rates}
print({rate: f"{loss:.3g}" for rate, loss in final_losses.items()}, "(the loss starts at 25)")

# %% [markdown]
# ### Mini-batches
#
# The true gradient averages over every training example. A mini-batch estimates it from
# a few, so each step costs little but points slightly off. Here, for a line fitted to
# 10,000 noisy points, is how far the mini-batch gradient scatters around the full one:
# the spread shrinks like `1 / √(batch size)`, so a 4 times larger batch only halves the
# noise. That is why batches of 32 to 256 are the usual trade-off.

# %%
rng = np.random.default_rng(0)
x = rng.normal(size=10_000)
y = 2 * x + 1 + rng.normal(scale=1.0, size=x.size)
slope_now = 0.0  # Gradient of the mean squared error with respect to the slope, at slope 0, intercept 0.
full_gradient = np.mean(-2 * x * (y - slope_now * x))
batch_sizes = [1, 4, 16, 64, 256, 1024]
spread = []
for size in batch_sizes:
    batches = rng.integers(0, x.size, size=(2000, size))
    spread.append(np.std(np.mean(-2 * x[batches] * (y[batches] - slope_now * x[batches]), axis=1)))
figure, axis = plt.subplots(figsize=(6, 3.5))
axis.loglog(batch_sizes, spread, marker="o", label="measured spread")
axis.loglog(batch_sizes, spread[0] / np.sqrt(batch_sizes), linestyle=":", label="1 / √(batch size)")
axis.set(xlabel="batch size", ylabel="std of the gradient estimate", title=f"Full-batch gradient: {full_gradient:.2f}")
axis.legend()
plt.show()

# %% [markdown]
# ### Optimizers, side by side
#
# `zoo.compare` trains one recipe once per value of one key, with the same seed and data,
# and returns a table and a figure (validation loss, validation accuracy, and the gap
# between validation and training loss, per epoch). Here: optimizers on the Playground
# spiral, all at the recipe's learning rate of 0.01. Finished runs are reused, so
# running the cell again costs nothing.

# %%
optimizers = ["sgd", "adam"] if QUICK else ["sgd", "momentum", "rmsprop", "adam"]
by_optimizer = zoo.compare("playground_mlp", "optimizer", optimizers, fixed={"epochs": 15 if QUICK else 60},
                           workdir=RUNS / "optimizers")
display(by_optimizer)  # In a notebook a comparison shows as its table; it is also a dict (rows, png, ...).
display(Image(by_optimizer["png"]))
best_accuracy = {row["label"]: row["best_val_accuracy"] for row in by_optimizer["rows"]}

# %% [markdown]
# Plain SGD moves every weight by the same small multiple of its gradient, and on this
# problem, where some directions are steep and others nearly flat, it barely starts.
# Momentum remembers its recent steps and builds up speed in the consistent directions.
# RMSprop and Adam divide each weight's step by a running size of its own gradients, so
# flat directions get bigger steps; they learn the spiral at the same learning rate
# where SGD stalls.
#
# ### Overfitting, dropout and early stopping
#
# A wide network (three layers of 512 units) on the 1,300 training digits can memorise
# them. Below: the same network without dropout, and with dropout 0.5 (each hidden unit
# is switched off at random on half the training steps, so no unit can rely on another).
# Both train with early stopping (`patience=5`): training ends once the validation loss
# has not improved for 5 epochs, and the weights of the best epoch are kept.

# %%
wide = {"hidden_units": 256 if QUICK else 512, "depth": 3, "epochs": 40, "patience": 5}  # QUICK (the tests): 8.2 s for this cell instead of 15.3 s
runs = {dropout: zoo.train("digits_mlp", {**wide, "dropout": dropout}, RUNS / f"digits_dropout_{dropout}", verbose=False)
        for dropout in (0.0, 0.5)}

figure, axis = plt.subplots(figsize=(7, 4))
for index, (dropout, result) in enumerate(runs.items()):
    for split, style in (("train", ":"), ("validation", "-")):
        records = [record for record in result.history if record["split"] == split]
        axis.plot([r["epoch"] for r in records], [r["loss"] for r in records], style, color=f"C{index}",
                  label=f"dropout {dropout}, {split}")
    axis.axvline(result.best["epoch"], color=f"C{index}", alpha=0.4)
axis.set(xlabel="epoch", ylabel="loss", yscale="log", title=f"digits_mlp, 3×{wide['hidden_units']}: early stopping keeps the epoch at the line")
axis.legend(fontsize=8)
plt.show()
for dropout, result in runs.items():
    last_epoch = result.history[-1]["epoch"]
    print(f"dropout {dropout}: best validation loss {result.best['loss']:.4f} (accuracy {result.best['accuracy']:.3f}) "
          f"at epoch {result.best['epoch']}; stopped after epoch {last_epoch} of {wide['epochs']}")

# %% [markdown]
# Without dropout the training loss keeps falling while the validation loss turns back
# up: from there on the network learns its training digits, not digits. Early stopping
# sees the turn and ends the run a few epochs later, with the best epoch's weights.
# Dropout makes memorising harder: the training loss stays higher and the validation
# loss falls for longer.
#
# More, with the commands and measured tables: [docs/training_science.md](../docs/training_science.md)
# (learning rates, batch sizes, random against Bayesian search with `zoo.tune`).

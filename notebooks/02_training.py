# %% [markdown]
# # 2. Training: losses, gradient descent, optimizers, mini-batches, dropout and early stopping
#
# A network is only as good as its training. Lecture 1 builds it up in steps: a loss says
# how wrong the network is; gradient descent walks its weights downhill on that loss;
# the learning rate sets the stride; mini-batches make each step cheap but noisy;
# optimizers adapt the stride per weight; dropout and early stopping keep the network
# from memorising its training set. Each step below is a small experiment: the first
# three in plain NumPy (the ideas need no framework), the rest with the zoo's trainer.

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
from IPython.display import Image, Markdown, display

# %% [markdown]
# ## Losses
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
# ## Gradient descent and the learning rate
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
# ## Mini-batches
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
# ## Optimizers, side by side
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
display(Markdown(by_optimizer["table"]))
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
# ## Overfitting, dropout and early stopping
#
# A wide network (three layers of 512 units) on the 1,300 training digits can memorise
# them. Below: the same network without dropout, and with dropout 0.5 (each hidden unit
# is switched off at random on half the training steps, so no unit can rely on another).
# Both train with early stopping (`patience=5`): training ends once the validation loss
# has not improved for 5 epochs, and the weights of the best epoch are kept.

# %%
wide = {"hidden_units": 512, "depth": 3, "epochs": 40, "patience": 5}
runs = {dropout: zoo.train("digits_mlp", {**wide, "dropout": dropout}, RUNS / f"digits_dropout_{dropout}", verbose=False)
        for dropout in (0.0, 0.5)}

figure, axis = plt.subplots(figsize=(7, 4))
for dropout, result in runs.items():
    for split, style in (("train", ":"), ("validation", "-")):
        records = [record for record in result.history if record["split"] == split]
        axis.plot([r["epoch"] for r in records], [r["loss"] for r in records], style, label=f"dropout {dropout}, {split}")
    axis.axvline(result.best["epoch"], color=axis.lines[-1].get_color(), alpha=0.4)
axis.set(xlabel="epoch", ylabel="loss", yscale="log", title="digits_mlp, 3×512: early stopping keeps the epoch at the line")
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

# %% [markdown]
# # 3. Recurrent networks: BPTT, exploding gradients, LSTMs and music
#
# Lecture 2 turns to sequences. A recurrent cell reads one step at a time and carries a
# hidden state from step to step, `h_t = tanh(x_t·W_xh + h_(t-1)·W_hh + b)`, with the same
# weights at every step. Training unrolls the loop and backpropagates through every step
# (backpropagation through time, BPTT). This notebook measures what that does to the
# gradient, shows the two cures the lecture names (clipping, and the LSTM's gates), and
# ends with the lab's task: Irish folk tunes written by a character-level model, played
# and drawn inline.

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

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import Audio, display

import layers  # The zoo's from-scratch layers: layers.RNNCell is the cell the music_rnn recipe uses.

# %% [markdown]
# ## The exploding gradient, measured
#
# Backpropagating from the last step to the first multiplies the gradient by `W_hh` (and
# the activation's slope) once per step. Take a linear cell whose `W_hh` is 1.5 times the
# identity: the gradient of the last state with respect to the first input grows like
# 1.5 to the power of the sequence length. `layers.RNNCell(gradient_clip=c)` clips the
# gradient that flows back into `h_(t-1)` to `[-c, c]` at every step of BPTT; the forward
# pass is unchanged.

# %%
def first_input_gradient(steps, gradient_clip=None):
    """|dL/dx_1| for L = sum(h_T), a linear cell with W_hh = 1.5·I (same weights every call)."""
    keras.utils.set_random_seed(0)
    cell = layers.RNNCell(4, activation="linear", recurrent_initializer=keras.initializers.Identity(gain=1.5),
                          gradient_clip=gradient_clip)
    sequence = tf.constant(np.random.default_rng(1).normal(size=(2, steps, 3)), dtype="float32")  # (batch, time, features)
    with tf.GradientTape() as tape:
        tape.watch(sequence)
        loss = keras.ops.sum(keras.layers.RNN(cell)(sequence))
    return float(np.linalg.norm(tape.gradient(loss, sequence)[:, 0]))


lengths = [5, 10, 25, 50, 100]
unclipped = [first_input_gradient(steps) for steps in lengths]
clipped = [first_input_gradient(steps, gradient_clip=1.0) for steps in lengths]

figure, axis = plt.subplots(figsize=(6, 3.5))
axis.semilogy(lengths, unclipped, marker="o", label="no clipping")
axis.semilogy(lengths, clipped, marker="o", label="gradient_clip=1 at every step")
axis.set(xlabel="sequence length T", ylabel="|dL/dx_1| (log scale)", title="Gradient reaching the first step")
axis.legend()
plt.show()
for steps in (10, 100):
    index = lengths.index(steps)
    print(f"T = {steps:3d}: {unclipped[index]:.3g} without clipping, {clipped[index]:.3g} with it")

# %% [markdown]
# Over 100 steps the unclipped gradient is about 10^17 times larger than a single step's:
# one update with it would throw the weights anywhere. With the per-step clip the gradient
# arriving at step 1 has the same size whatever the length. (The recipes also clip the
# whole gradient's global norm before each update, `grad_clip_norm`, which bounds the step
# but not what happens inside BPTT.) A tanh cell's slope is below 1, so there the usual
# failure is the opposite one: the gradient vanishes and the cell cannot learn long-range
# structure.
#
# ## The LSTM
#
# An LSTM keeps a second state, the cell state, which changes only through gates: a
# forget gate scales it, an input gate decides what is written to it, an output gate what
# is read from it. Because the cell state is updated by addition rather than by a
# multiplication with `W_hh` at every step, gradients travel much further back. The zoo
# ships both models, trained on the same tunes with the same budget; each card gives
# bits per character on held-out tunes (lower is better).

# %%
rnn = zoo.load("music_rnn", pretrained=True)
lstm = zoo.load("music_lstm", pretrained=True)
print(rnn)
print(lstm)

# %% [markdown]
# ## Music from the shipped weights
#
# `zoo.generate` samples characters one at a time from the model's softmax; the
# `temperature` divides the logits first (below 1: safer, more repetitive; above 1:
# more adventurous, more mistakes). With `num_tunes=K` it draws K samples and keeps the
# first tune of each; `valid` says whether music21 reads it as music with notes.

# %%
music = zoo.generate(lstm, length=400, temperature=0.8, seed=0, num_tunes=2 if QUICK else 6)
print(music)
tune = next(tune for tune in music.tunes if tune.valid)
print(tune.abc)

# %% [markdown]
# The tune as sheet music (drawn by abcjs where `npm install` has put it in the zoo's
# checkout; otherwise its ABC text) and as sound (a sine-wave synthesis of its MIDI):

# %%
display(tune)
display(Audio(tune.audio()[: 20 * tune.sample_rate], rate=tune.sample_rate))

# %% [markdown]
# ## "No valid songs": temperature and the valid-song rate
#
# The MIT lab's most common complaint is a generator that writes no playable tune. Two
# usual causes are sampling too hot and a model that has not learned the format yet. The
# valid-song rate makes the first one visible: here for both shipped models, over a few
# temperatures.

# %%
temperatures = [0.5, 0.8, 1.1, 1.5]
draws = 3 if QUICK else 12
rates = {name: [zoo.generate(model, length=400, temperature=t, seed=1, num_tunes=draws).valid_song_rate for t in temperatures]
         for name, model in (("music_rnn", rnn), ("music_lstm", lstm))}
figure, axis = plt.subplots(figsize=(6, 3.5))
width = 0.35
for offset, (name, values) in zip((-width / 2, width / 2), rates.items()):
    axis.bar(np.arange(len(temperatures)) + offset, values, width, label=name)
axis.set(xticks=range(len(temperatures)), xticklabels=[f"T = {t}" for t in temperatures], ylim=(0, 1.05),
         ylabel=f"valid-song rate ({draws} tunes each)", title="Sampling temperature against valid tunes")
axis.legend()
plt.show()
print({name: [f"{rate:.2f}" for rate in values] for name, values in rates.items()})

# %% [markdown]
# At low temperature nearly every tune parses; as the temperature rises the sampler
# picks unlikely characters more often, and one misplaced bar line or header is enough
# to make a tune unreadable. With only a few tunes per bar these rates are rough; the
# zoo's measured rates over many tunes are in [docs/results_sequence.md](../docs/results_sequence.md).

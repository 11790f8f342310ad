# %% [markdown]
# # Lecture 2: recurrent networks, and attention
#
# **Part 3**: recurrence, backpropagation through time, the exploding gradient and
# clipping, the LSTM, and music from the shipped weights, drawn and played inline.
# **Part 4**: attention: positions, queries, keys and values, attention maps, translation,
# and the bottleneck attention removes.

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
# ## Part 3. Recurrent networks: BPTT, exploding gradients, LSTMs and music
#
# Lecture 2 turns to sequences. A recurrent cell reads one step at a time and carries a
# hidden state from step to step, `h_t = tanh(x_t·W_xh + h_(t-1)·W_hh + b)`, with the same
# weights at every step. Training unrolls the loop and backpropagates through every step
# (backpropagation through time, BPTT). This part measures what that does to the
# gradient, shows the two cures the lecture names (clipping, and the LSTM's gates), and
# ends with the lab's task: Irish folk tunes written by a character-level model, played
# and drawn inline.

# %% [markdown]
# ### The exploding gradient, measured
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
# ### The LSTM
#
# An LSTM keeps a second state, the cell state, which changes only through gates: a
# forget gate scales it, an input gate decides what is written to it, an output gate what
# is read from it. Because the cell state is updated by addition rather than by a
# multiplication with `W_hh` at every step, gradients travel much further back. The zoo
# ships both models, each trained for 6 epochs on the same tunes; each card gives bits
# per character on held-out tunes, mean ± std over three seeds (lower is better).

# %%
rnn = zoo.load("music_rnn", pretrained=True)
lstm = zoo.load("music_lstm", pretrained=True)
print(rnn)
print(lstm)

# %% [markdown]
# ### Music from the shipped weights
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
# ### "No valid songs": temperature and the valid-song rate
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
# As the temperature rises the sampler picks unlikely characters more often, and one
# misplaced bar line or header is enough to make a tune unreadable, so the rate falls;
# the LSTM, which models the format better, usually keeps more tunes valid than the RNN.
# With a few tunes per bar these rates are rough (the printed numbers are this run's);
# the zoo's measured rates at temperature 0.8 are in [docs/results_sequence.md](../docs/results_sequence.md).

# %% [markdown]
# ## Part 4. Attention: positions, queries, keys and values, and the bottleneck it removes
#
# The end of lecture 2: instead of squeezing a whole sequence through one hidden state,
# let every position look at every other and take what it needs. Each token emits a
# query ("what am I looking for?"), a key ("what do I hold?") and a value ("what I pass
# on"); a token's output is the average of all values, weighted by how well its query
# matches each key: `softmax(Q·Kᵀ / √d)·V`. This part builds that by hand, looks at
# the attention of the zoo's shipped models, and measures what attention buys a
# translator on long sentences.

# %% [markdown]
# ### Positions
#
# Attention itself has no notion of order: shuffle the tokens and each one receives the
# same weighted average. So position is added to each token's vector before attention.
# The original transformer adds sines and cosines of the position at many wavelengths
# (below); the zoo's `layers.PositionalEmbedding` offers that, and by default learns a
# vector per position instead, as `music_transformer` does.

# %%
def sinusoidal_positions(length, dimensions):
    position = np.arange(length)[:, None]  # (length, 1)
    frequency = 1.0 / 10_000 ** (np.arange(0, dimensions, 2) / dimensions)  # (dimensions / 2,)
    angles = position * frequency  # (length, dimensions / 2)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)  # (length, dimensions)


figure, axis = plt.subplots(figsize=(7, 3))
shown = axis.imshow(sinusoidal_positions(64, 64).T, aspect="auto", cmap="RdBu")
axis.set(xlabel="position", ylabel="dimension", title="Sinusoidal position vectors: fast waves on top, slow ones below")
figure.colorbar(shown, ax=axis)
plt.show()

# %% [markdown]
# ### Queries, keys and values by hand
#
# Four tokens with two-number keys. The query of the last token points the same way as
# the keys of tokens 0 and 2, so the softmax gives those two most of the weight and the
# output is mostly their values. Dividing by √d keeps the dot products, and so the
# softmax, from saturating as vectors get longer.

# %%
keys = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [-1.0, 0.0]])
values = np.array([[10.0, 0.0], [0.0, 10.0], [8.0, 2.0], [-10.0, 0.0]])
query = np.array([2.0, 0.0])
scores = keys @ query / np.sqrt(keys.shape[1])  # (4,)
weights = np.exp(scores) / np.exp(scores).sum()
print("weights:", weights.round(3), " output:", (weights @ values).round(2))

# %% [markdown]
# ### Attention in the shipped music transformer
#
# `zoo.attention` runs a model on a text and returns one transformer block's attention
# weights, one (query × key) map per head. `music_transformer` is causal (each character
# may look only at itself and earlier ones), so everything above the diagonal is zero.
# Heads specialise: some look one character back, some at the previous bar line or the
# same position in the previous bar.

# %%
text = "X:1\nK:D\n|:dAFA dAFA|dAFA d2fe|"
maps = zoo.attention("music_transformer", text, block=1)
print(maps)
labels = [{"\n": "\\n", " ": "␣"}.get(token, token) for token in maps.tokens]
figure, axes = plt.subplots(1, maps.weights.shape[0], figsize=(4 * maps.weights.shape[0], 4))
for head, axis in enumerate(np.atleast_1d(axes)):
    axis.imshow(maps.weights[head], cmap="viridis")
    axis.set(title=f"head {head + 1}", xticks=range(len(labels)), yticks=range(len(labels)))
    axis.set_xticklabels(labels, fontsize=6)
    axis.set_yticklabels(labels, fontsize=6)
    axis.set_xlabel("key (attended to)")
axes[0].set_ylabel("query (attending)")
plt.show()
print("each row sums to 1:", np.allclose(maps.weights.sum(axis=-1), 1, atol=1e-4))

# %% [markdown]
# ### Translation with attention
#
# `translate_lstm_attention` is lecture 2's sequence-to-sequence model with attention: an
# LSTM encoder reads the English, and at every Spanish word the decoder attends over all
# the encoder's states. `attention=True` returns those weights (target words × source
# words): the Spanish words line up with the English words they translate, including
# where the order differs.

# %%
sentence = "three hundred and forty-two thousand, one hundred and seven"
translated = zoo.translate("translate_lstm_attention", sentence, attention=True)
print(repr(translated))
figure, axis = plt.subplots(figsize=(7, 4.5))
axis.imshow(translated.attention, cmap="viridis")
axis.set(xticks=range(len(translated.source_tokens)), yticks=range(len(translated.target_tokens)),
         xlabel="English (source)", ylabel="Spanish (output)")
axis.set_xticklabels(translated.source_tokens, rotation=60, fontsize=8)
axis.set_yticklabels(translated.target_tokens, fontsize=8)
plt.show()

# %% [markdown]
# ### The bottleneck, by source length
#
# Without attention (`translate_lstm`), the decoder sees the source only through the
# encoder's final state: 256 numbers for the whole sentence, whatever its length. Both
# models were trained on the same generated English → Spanish numbers and dates. Below,
# whole-sentence exact match on held-out numbers, grouped by length in words.

# %%
plain = zoo.load("translate_lstm", pretrained=True)
attending = zoo.load("translate_lstm_attention", pretrained=True)
numbers = [(english, spanish) for kind, _, english, spanish in attending.info.extras["pairs"]["test"] if kind == "number"]
rng = np.random.default_rng(0)
sample = [numbers[index] for index in rng.choice(len(numbers), size=48 if QUICK else 400, replace=False)]
buckets = [(1, 8), (9, 12), (13, 16), (17, 30)]


def exact_match_by_length(model):
    right = {bucket: [] for bucket in buckets}
    for english, spanish in sample:
        words = len(english.split())
        bucket = next(b for b in buckets if b[0] <= words <= b[1])
        right[bucket].append(zoo.translate(model, english).text == spanish)
    return {bucket: np.mean(found) for bucket, found in right.items() if found}


exact = {"translate_lstm": exact_match_by_length(plain), "translate_lstm_attention": exact_match_by_length(attending)}
figure, axis = plt.subplots(figsize=(6, 3.5))
for name, by_bucket in exact.items():
    axis.plot([f"{low}-{high}" for low, high in by_bucket], list(by_bucket.values()), marker="o", label=name)
axis.set(xlabel="English words", ylabel="exact match", ylim=(0, 1.05), title=f"{len(sample)} held-out numbers")
axis.legend()
plt.show()
for name, by_bucket in exact.items():
    print(name, {f"{low}-{high} words": f"{value:.2f}" for (low, high), value in by_bucket.items()})

# %% [markdown]
# Short numbers fit through the LSTM's final state; long ones do not, and its exact match
# falls with length. With attention the decoder reads every encoder state when it needs
# it, and length stops mattering. The full table over all 1,834 test sentences, with the
# transformer too, is in [docs/translate/buckets.md](../docs/translate/buckets.md).

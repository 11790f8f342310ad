"""A transformer's attention weights over a text, and their heatmap.

    found = attention(loaded, "X:1\nK:D\n|:dAFA dAFA|", block=1)   # results.Attention
    plot_attention(found.tokens, found.weights, "map.png", title)

Row t of a head's map shows how much token t attends to each token (columns),
so each row sums to 1; a causal language model's upper triangle is empty.

A recipe can draw attention when it defines the hook

    def attention_maps(model, info, config, text: str, block: int) -> (tokens, weights)

returning the tokens (strings) and the weights, shape (heads, T, T). It raises
a one-line ValueError for empty text, tokens outside the vocabulary, more
tokens than the model's max_length, or a block number the model lacks.
"""

import pathlib

import numpy as np

from zoo import errors
from zoo.engine import registry
from zoo.inference import results

MAX_TICK_LABELS = 64  # Above this, label every k-th token so the labels stay readable.


def attention_hook(recipe):
    """The recipe's `attention_maps` hook; a UserError naming the recipes that have one if it has none."""
    return registry.require_hook(recipe, "attention_maps", "has no attention to draw")


def token_label(token: str) -> str:
    """A token as a readable tick label (newline, tab and space made visible)."""
    return {"\n": "\\n", "\t": "\\t", " ": "␣"}.get(token, token)


def plot_attention(tokens, weights, path, title: str) -> None:
    """Writes one heatmap per head (weights: (heads, T, T)) side by side into `path`."""
    import matplotlib.figure

    weights = np.asarray(weights, dtype=np.float32)
    heads, length = weights.shape[0], len(tokens)
    if weights.shape != (heads, length, length):
        raise ValueError(f"attention weights have shape {weights.shape}; expected (heads, {length}, {length}).")
    columns = min(heads, 2)  # Two panels a row: the token labels stay legible.
    rows = -(-heads // columns)
    size = min(7.5, max(4.0, 0.22 * length + 1.5))
    figure = matplotlib.figure.Figure(figsize=(size * columns, size * rows + 0.6))
    axes = figure.subplots(rows, columns, squeeze=False)
    labels = [token_label(token) for token in tokens]
    every = max(1, -(-length // MAX_TICK_LABELS))
    ticks = list(range(0, length, every))
    for head in range(rows * columns):
        axis = axes[head // columns][head % columns]
        if head >= heads:
            axis.axis("off")
            continue
        image = axis.imshow(weights[head], cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
        axis.set_title(f"head {head + 1}")
        axis.set_xticks(ticks)
        axis.set_xticklabels([labels[i] for i in ticks], rotation=90, fontsize=9, family="monospace")
        axis.set_yticks(ticks)
        axis.set_yticklabels([labels[i] for i in ticks], fontsize=9, family="monospace")
        axis.set_xlabel("attended token (key)")
        axis.set_ylabel("token (query)")
    figure.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="attention weight")
    figure.suptitle(title)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def check_request(text: str, block: int) -> None:
    """The checks that need no model (one line each)."""
    if not text.strip():
        raise errors.UserError("--text is empty; expected at least one token to draw attention over; pass e.g. --text 'X:1'.")
    if block < 1:
        raise errors.UserError(f"--block {block} is not valid; blocks count from 1; pass e.g. --block 1.")


def attention(loaded, text: str, *, block: int = 1) -> results.Attention:
    """Block `block`'s attention weights over `text`, per head, from `loaded` (what `loading.load` returns)."""
    check_request(text, block)
    hook = attention_hook(loaded.recipe)
    tokens, weights = hook(loaded.model, loaded.info, loaded.config, text, block)
    return results.Attention(tokens=tuple(tokens), weights=np.asarray(weights, dtype=np.float32), block=block)

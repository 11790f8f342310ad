"""`python -m zoo attention NAME --text TEXT`: draw a trained model's attention weights.

    python -m zoo attention music_transformer --text "X:1\\nK:D\\n|:dAFA dAFA|"
    python -m zoo attention music_transformer --pretrained --text "K:G\\nGABc" --block 2
    python -m zoo attention sentiment_transformer --text "K:D\\n|:dAFA dAFA|" --out map.png

Writes one PNG with one heatmap per head of block `--block` (default 1): row t
shows how much token t attends to each token (columns), so each row sums to 1;
a causal language model's upper triangle is empty. In `--text`, the two
characters backslash-n stand for a newline (ABC tunes are line based).

The PNG's folder gets `attention.json`, the list of the PNGs attention wrote
there: a rerun replaces its own PNG, and a file of the user's (or a symbolic
link) at `--out` is refused, never overwritten (zoo/outputs.py).

A recipe can draw attention when it defines the hook

    def attention_maps(model, info, config, text: str, block: int) -> (tokens, weights)

returning the tokens (strings) and the weights, shape (heads, T, T). It raises
a one-line ValueError for empty text, tokens outside the vocabulary, more
tokens than the model's max_length, or a block number the model lacks.
"""

import pathlib

import numpy as np

from zoo import errors
from zoo import outputs
from zoo.engine import registry

RECORD = "attention.json"  # The PNGs attention wrote into a folder: a rerun may replace these, and only these.
MAX_TICK_LABELS = 64  # Above this, label every k-th token so the labels stay readable.


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("attention", help="PNG heatmap of a transformer's attention weights, per head")
    parser.add_argument("name")
    parser.add_argument("--workdir", type=pathlib.Path, help="run to load (default: runs/NAME)")
    parser.add_argument("--pretrained", action="store_true", help="use the shipped weights instead of a run")
    parser.add_argument("--text", required=True, help="the input to attend over (\\n = newline)")
    parser.add_argument("--block", type=int, default=1, help="which transformer block, from 1 (default 1)")
    parser.add_argument("--out", type=pathlib.Path, help="PNG to write (default: WORKDIR/attention_block<N>.png)")
    parser.set_defaults(run=run_attention)


def attention_hook(recipe):
    """The recipe's `attention_maps` hook; a UserError naming the recipes that have one if it has none."""
    return registry.require_hook(recipe, "attention_maps", "has no attention to draw")


def token_label(token: str) -> str:
    """A token as a readable tick label (newline, tab and space made visible)."""
    return {"\n": "\\n", "\t": "\\t", " ": "␣"}.get(token, token)


def plot_attention(tokens, weights, path, title: str) -> None:
    """Writes one heatmap per head (weights: (heads, T, T)) side by side into `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = np.asarray(weights, dtype=np.float32)
    heads, length = weights.shape[0], len(tokens)
    if weights.shape != (heads, length, length):
        raise ValueError(f"attention weights have shape {weights.shape}; expected (heads, {length}, {length}).")
    columns = min(heads, 4)
    rows = -(-heads // columns)
    size = min(6.0, max(2.8, 0.16 * length + 1.2))
    figure, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + 0.6), squeeze=False)
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
        axis.set_xticklabels([labels[i] for i in ticks], rotation=90, fontsize=7)
        axis.set_yticks(ticks)
        axis.set_yticklabels([labels[i] for i in ticks], fontsize=7)
        axis.set_xlabel("attended token (key)")
        axis.set_ylabel("token (query)")
    figure.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="attention weight")
    figure.suptitle(title)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def run_attention(args) -> int:
    attention_hook(registry.describe(args.name))  # These mistakes are said before TensorFlow loads.
    text = args.text.replace("\\n", "\n")
    if not text.strip():
        raise errors.UserError("--text is empty; expected at least one token to draw attention over; pass e.g. --text 'X:1'.")
    if args.block < 1:
        raise errors.UserError(f"--block {args.block} is not valid; blocks count from 1; pass e.g. --block 1.")
    if args.out is not None and args.out.suffix.lower() != ".png":
        raise errors.UserError(f"--out {str(args.out)!r} is not a .png path; pass e.g. --out attention.png.")
    workdir = args.workdir or pathlib.Path("runs") / registry.locate(args.name)[0]
    out = args.out or workdir / f"attention_block{args.block}.png"
    folder = out.absolute().parent  # Its folder holds RECORD, which lists the PNGs attention wrote there.
    outputs.check(folder, [out.name], RECORD, "attention")
    from zoo.engine import runs

    recipe = registry.get_recipe(args.name)
    hook = attention_hook(recipe)
    loaded = runs.load(recipe, workdir, pretrained=args.pretrained)
    model, info, config = loaded.model, loaded.info, loaded.config
    tokens, weights = hook(model, info, config, text, args.block)
    title = f"{recipe.name}: block {args.block}, {len(tokens)} tokens, {np.shape(weights)[0]} heads"
    with outputs.Outputs(folder, RECORD, "attention", keeps_earlier=True) as outs:
        outs.claim([out.name])
        plot_attention(tokens, weights, outs.scratch / out.name, title)
        outs.place(out.name)
        outs.finish()
    print(f"{recipe.name}: attention of block {args.block} ({np.shape(weights)[0]} heads, {len(tokens)} tokens) written to {out}")
    return 0

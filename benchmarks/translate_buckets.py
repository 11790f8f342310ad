"""The bottleneck lesson as a table: exact match per source length, LSTM, LSTM + attention, transformer.

    .venv/bin/python benchmarks/translate_buckets.py

Loads the shipped checkpoints of translate_lstm, translate_lstm_attention and
translate_transformer (pretrained/, verified), translates the SAME test split with each (greedy
decoding), and counts whole-sentence exact matches per bucket of source
length (English tokens; a digit is one token). Writes
docs/translate/buckets.md (the tables, the command and the load average) and
docs/translate/buckets.png (exact match against source length), and prints the
tables. The LSTM's decoder sees the source only through the encoder's final
state, so its exact match falls as the source grows; translate_lstm_attention's
decoder attends over every encoder state and the transformer's cross-attention
reads every source token, so theirs should not.
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from datasets import translation  # noqa: E402
from recipes import _translation  # noqa: E402
from zoo.hub import pretrained  # noqa: E402

NAMES = ("translate_lstm", "translate_lstm_attention", "translate_transformer")
# Source lengths of the numbers, in English tokens (1 to 22). Dates, all 9-10 tokens
# long, get a row of their own: they test reordering, not length.
BUCKETS = ((1, 5), (6, 8), (9, 11), (12, 14), (15, 17), (18, 19), (20, 22))
COMMAND = ".venv/bin/python benchmarks/translate_buckets.py"


def bucket_table(pairs, correct_by_name) -> list:
    """Rows (label, sentences, {name: exact match}): numbers per length bucket, then dates, then all."""
    lengths = np.array([len(translation.tokenize(english)) for _, _, english, _ in pairs])
    is_number = np.array([kind == "number" for kind, _, _, _ in pairs])
    selections = [(f"numbers, {low}-{high} tokens", is_number & (lengths >= low) & (lengths <= high)) for low, high in BUCKETS]
    selections += [("dates, 9-10 tokens", ~is_number), ("all", np.ones_like(is_number))]
    return [
        (label, int(inside.sum()), {name: float(correct[inside].mean()) for name, correct in correct_by_name.items()})
        for label, inside in selections
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "docs" / "translate", help="folder for buckets.md and buckets.png")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    correct_by_name, overall, pairs, fingerprints = {}, {}, None, set()
    for name in NAMES:
        loaded = pretrained.load(name)
        fingerprints.add(loaded.info.fingerprint)
        _, hypotheses, references = _translation.translate_split(loaded.model, loaded.recipe.hook("decoder_steps"), loaded.info, "test")
        pairs = loaded.info.extras["pairs"]["test"]
        correct_by_name[name] = np.array([h == r for h, r in zip(hypotheses, references)])
        overall[name] = _translation.scores(hypotheses, references)
    assert len(fingerprints) == 1, "the checkpoints were trained on different data"
    rows = bucket_table(pairs, correct_by_name)
    load = os.getloadavg()
    load_text = f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} (1, 5, 15 min)"

    lines = [
        "# Translation: exact match by source length",
        "",
        f"Made by `{COMMAND}` from the shipped checkpoints ("
        + ", ".join(f"pretrained/{name}" for name in NAMES)
        + "): greedy decoding of the same test split "
        f"({len(pairs)} English -> Spanish pairs of datasets/translation.py, dataset fingerprint "
        f"`{fingerprints.pop()[:12]}`), whole-sentence exact match per bucket of source length in "
        "English tokens (a digit is one token). Numbers run from 1 to 22 tokens; the dates, all 9-10 "
        "tokens long, are a row of their own (they test reordering and copying digits, not length).",
        "",
        "| source | sentences | " + " | ".join(NAMES) + " |",
        "|---|---:|" + "---:|" * len(NAMES),
    ]
    for label, count, values in rows:
        lines.append(f"| {label} | {count} | " + " | ".join(f"{values[name]:.1%}" for name in NAMES) + " |")
    lines += [
        "",
        "Over the whole test split (sacrebleu corpus BLEU and chrF on the detokenized Spanish):",
        "",
        "| recipe | exact match | BLEU | chrF |",
        "|---|---:|---:|---:|",
    ]
    for name in NAMES:
        lines.append(f"| {name} | {overall[name]['greedy_exact_match']:.1%} | {overall[name]['bleu']:.1f} | {overall[name]['chrf']:.1f} |")
    lines += [
        "",
        f"Load average while it ran: {load_text}, on {os.cpu_count()} CPU cores; "
        f"{time.perf_counter() - started:.0f} s.",
        "",
        "![exact match by source length](buckets.png)",
        "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "buckets.md").write_text("\n".join(lines))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.6))
    number_rows = rows[: len(BUCKETS)]
    labels = [f"{low}-{high}" for low, high in BUCKETS]
    for name, marker in zip(NAMES, ("o", "^", "s")):
        axis.plot(labels, [values[name] for _, _, values in number_rows], marker=marker, label=name)
    axis.set_xlabel("length of the English number (tokens)")
    axis.set_ylabel("exact match (test)")
    axis.set_ylim(0, 1.02)
    axis.grid(alpha=0.3)
    axis.legend(loc="lower left")
    axis.set_title("Whole-sentence exact match by source length")
    figure.tight_layout()
    figure.savefig(args.out / "buckets.png", dpi=100)
    plt.close(figure)

    print("\n".join(lines[4:-3]))
    print(f"load average: {load_text}")
    print(f"wrote {args.out / 'buckets.md'} and {args.out / 'buckets.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

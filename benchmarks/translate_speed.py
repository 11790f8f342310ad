"""translate_transformer vs translate_lstm: greedy decoding speed, in one run.

    .venv/bin/python benchmarks/translate_speed.py [--rounds 5] [--sentences 100]

Loads the shipped checkpoints (zoo.load(name, pretrained=True), as a user
does), warms every path up, then measures in interleaved rounds (the order of
the models alternates from round to round, so on a shared machine both see
the same load), and prints one table per mode:

- one sentence at a time, public path: `zoo.translate(loaded, text)`
  (checking and encoding the text, greedy decoding in the plain-graph loop,
  detokenizing) over SENTENCES test sentences of every length;
- one sentence at a time, XLA: the same work with `greedy(..., compiled=True)`;
- batched: `recipes._translation.translate_split` on the whole test split
  (encoding, one greedy decode per 4096 sentences, decoding the strings),
  with the plain-graph loop (what `report` runs) and with the XLA loop.

Each cell is the median sentences/s over the rounds with its range, and the
ratio transformer / lstm is taken per round (the two models of a round ran
side by side), then summarised the same way.
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import zoo  # noqa: E402
from benchmarks._summary import spread  # noqa: E402
from datasets import translation  # noqa: E402
from recipes import _translation  # noqa: E402

NAMES = ("translate_lstm", "translate_transformer")
COMMAND = ".venv/bin/python benchmarks/translate_speed.py"


def one_at_a_time(loaded, texts) -> float:
    """Sentences/s of the public path, one sentence per call."""
    started = time.perf_counter()
    for text in texts:
        zoo.translate(loaded, text)
    return len(texts) / (time.perf_counter() - started)


def one_at_a_time_xla(loaded, texts) -> float:
    """Sentences/s of what `zoo.translate` does for one sentence, with the XLA loop."""
    info, decoder_steps = loaded.info, loaded.recipe.hook("decoder_steps")
    started = time.perf_counter()
    for text in texts:
        ids = _translation.greedy(
            loaded.model, decoder_steps, _translation.check_text(text, info)[None], info.extras["target_length"], compiled=True
        )
        translation.decode_target(ids[0], info.vocabulary)
    return len(texts) / (time.perf_counter() - started)


def batched(loaded, compiled) -> float:
    """Sentences/s of greedy decoding of the whole test split (strings in, strings out)."""
    started = time.perf_counter()
    sources, _, _ = _translation.translate_split(
        loaded.model, loaded.recipe.hook("decoder_steps"), loaded.info, "test", compiled=compiled
    )
    return len(sources) / (time.perf_counter() - started)


MODES = {
    "one sentence at a time, zoo.translate (plain-graph loop)": one_at_a_time,
    "one sentence at a time, XLA loop (compiled=True)": one_at_a_time_xla,
    "batched (test split), plain-graph loop": lambda loaded, texts: batched(loaded, compiled=False),
    "batched (test split), XLA loop": lambda loaded, texts: batched(loaded, compiled=True),
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sentences", type=int, default=100, help="test sentences translated one at a time per round")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    loaded = {name: zoo.load(name, pretrained=True) for name in NAMES}
    pairs = loaded[NAMES[0]].info.extras["pairs"]["test"]
    every = max(1, len(pairs) // args.sentences)
    texts = [english for _, _, english, _ in pairs[::every][: args.sentences]]  # Short and long numbers, and dates.

    for entry in loaded.values():  # Warm-up: trace (and compile) every path once.
        for measure in MODES.values():
            measure(entry, texts[:10])

    results = {mode: {name: [] for name in NAMES} for mode in MODES}
    for round_index in range(args.rounds):
        for name in NAMES if round_index % 2 == 0 else NAMES[::-1]:
            for mode, measure in MODES.items():
                results[mode][name].append(measure(loaded[name], texts))
    load_after = os.getloadavg()

    print(f"`{COMMAND} --rounds {args.rounds} --sentences {args.sentences}`: {os.cpu_count()} CPUs visible, "
          f"load average {' '.join(f'{load:.2f}' for load in load_before)} before, "
          f"{' '.join(f'{load:.2f}' for load in load_after)} after (1, 5, 15 min); "
          f"median (min-max) of {args.rounds} interleaved rounds\n")
    for mode, by_name in results.items():
        count = len(pairs) if mode.startswith("batched") else len(texts)
        ratios = [ours / theirs for ours, theirs in zip(by_name["translate_transformer"], by_name["translate_lstm"])]
        print(f"| {mode}, {count} sentences | sentences/s |")
        print("|---|---|")
        for name in NAMES:
            print(f"| {name} | {spread(by_name[name])} |")
        print(f"| transformer / lstm, per round | {spread(ratios, 2)} |\n")


if __name__ == "__main__":
    main()

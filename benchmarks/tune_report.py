"""The tune report of the three shipped music models at two temperatures: do they write tunes, do they copy?

    .venv/bin/python benchmarks/tune_report.py [--tunes 60] [--temperatures 0.8,1.0]

For each of music_rnn, music_lstm and music_transformer (shipped weights) and
each temperature, draws --tunes tunes the way `zoo generate --num-tunes` does
(seeds 0, 1, ..., length 600, the first tune of each sample, cut at 64 bars)
and measures them against the training file the recipes load
(zoo/inference/tune_report.py says what each column means). Prints one
markdown table, the training tunes' own row and the held-out real tunes'
novelty last. Asserts nothing.
"""

import argparse
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import zoo  # noqa: E402
from zoo.inference import tune_report  # noqa: E402

NAMES = ("music_rnn", "music_lstm", "music_transformer")
LENGTH = 600


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=60)
    parser.add_argument("--temperatures", default="0.8,1.0")
    args = parser.parse_args(argv)
    temperatures = [float(value) for value in args.temperatures.split(",")]
    lines = [f"| model | temperature | {tune_report.TABLE_COLUMNS} |", "|---|---|---|---|---|---|---|---|---|"]
    training = training_population = baseline = None
    for name in NAMES:
        loaded = zoo.load(name, pretrained=True)
        if training is None:
            training = tune_report.training_tunes(loaded.info)
            training_population = tune_report.describe_training(training)
            baseline = loaded.info.extras.get("validation_songs", ())
        for temperature in temperatures:
            generation = zoo.generate(loaded, length=LENGTH, temperature=temperature, seed=0, num_tunes=args.tunes)
            report = tune_report.compare([tune.abc for tune in generation.tunes], training, baseline, training_population)
            lines.append(tune_report.table_row(f"{name} | {temperature:g}", report["generated"],
                                               tune_report.novelty_cell(report["generated"]["novelty"])))
            print(lines[-1], flush=True)
    held_out = report["baseline_novelty"]
    lines.append(tune_report.table_row(f"training tunes ({training_population['tunes']}; {training_population['parsed']} parsed) | -",
                                       training_population, f"held-out real tunes: {tune_report.novelty_cell(held_out)}"))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

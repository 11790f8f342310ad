"""How long the command line takes to answer when nothing needs TensorFlow.

    .venv/bin/python benchmarks/cli_startup.py [--runs 5]

Each command is started as a fresh process (`python -m zoo ...`) `--runs` times,
the commands interleaved round by round; the table gives the median wall time
and whether the process imported TensorFlow (it should not: the registry reads
recipes without Keras, and the commands import TensorFlow only when they train
or load a model). The last row, a one-step training, is the reference for a
command that does load TensorFlow.
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

COMMANDS = [
    ["--help"],
    ["list"],
    ["train", "no_such_recipe"],
    ["train", "digits_mlp", "lr=0.1"],
    ["train", "music_transformer", "num_heads=3"],
    ["compare", "digits_mlp", "optimizer=sgd,nesterov"],
    ["evaluate", "digits_mlp", "--workdir", "/nonexistent/run"],
    ["translate", "translate_transformer", "--pretrained", "--text", " "],
    ["generate", "digits_mlp"],
    ["generate", "music_lstm", "--length", "0"],
]
PROBE = "import runpy, sys; sys.argv = ['zoo'] + sys.argv[1:]\ntry:\n    runpy.run_module('zoo', run_name='__main__')\nfinally:\n    print('TF' if 'tensorflow' in sys.modules else 'noTF', file=open(%r, 'w'))\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        commands = COMMANDS + [["train", "perceptron_gates", "max_steps=1", "--quiet", "--workdir", f"{scratch}/run"]]
        times = {index: [] for index in range(len(commands))}
        tensorflow = {}
        marker = pathlib.Path(scratch) / "loaded"
        for _ in range(args.runs):
            for index, command in enumerate(commands):
                if index == len(commands) - 1:
                    subprocess.run(["rm", "-rf", f"{scratch}/run"], check=True)
                started = time.perf_counter()
                subprocess.run([sys.executable, "-c", PROBE % str(marker), *command], cwd=ROOT, capture_output=True)
                times[index].append(time.perf_counter() - started)
                tensorflow[index] = marker.read_text().strip()
    print(f"load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}; median of {args.runs} fresh processes each\n")
    print("| command | median s | TensorFlow imported |")
    print("|---|---:|---|")
    for index, command in enumerate(commands):
        shown = " ".join(command).replace(tempfile.gettempdir(), "/tmp")
        print(f"| `zoo {shown}` | {statistics.median(times[index]):.2f} | {'yes' if tensorflow[index] == 'TF' else 'no'} |")


if __name__ == "__main__":
    main()

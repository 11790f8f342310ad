"""digits_cnn against its peers on the same fixed split: digits_mlp and scikit-learn's MLPClassifier.

    .venv/bin/python benchmarks/digits_peers.py [--seeds 0,1,2]

Every model trains on the digits' train split (1,257 images) with each seed
and is scored on the same test split (270 images). digits_cnn and digits_mlp
run the recipes' own defaults through the zoo's trainer (early stopping on the
validation split); MLPClassifier(hidden_layer_sizes=(256, 128),
early_stopping=True) holds out 10% of the train split for its own early
stopping, as scikit-learn does. Prints one markdown row per model: parameters,
test accuracy as mean ± sample std over the seeds, the per-seed values, and
the mean training time.
"""

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from datasets import digits  # noqa: E402
from zoo.engine import runs  # noqa: E402


def zoo_recipe(name: str, seed: int):
    recipe = zoo.get_recipe(name)
    config = zoo.make_config(recipe, {"seed": seed})
    with tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        result = zoo.train(recipe, config, workdir, verbose=False)
        seconds = time.perf_counter() - started
    test = runs.evaluate_model(recipe, result.model, result.splits, "test")
    return test["accuracy"], result.model.count_params(), seconds


def sklearn_mlp(seed: int):
    from sklearn.neural_network import MLPClassifier

    splits = digits.load()
    train_x, train_y = (np.concatenate(part) for part in zip(*splits.train.batch(4096).as_numpy_iterator()))
    test_x, test_y = (np.concatenate(part) for part in zip(*splits.test.batch(4096).as_numpy_iterator()))
    model = MLPClassifier(hidden_layer_sizes=(256, 128), early_stopping=True, random_state=seed, max_iter=500)
    started = time.perf_counter()
    model.fit(train_x, train_y)
    seconds = time.perf_counter() - started
    parameters = sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)
    return float(model.score(test_x, test_y)), parameters, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    seeds = [int(seed) for seed in args.seeds.split(",")]
    peers = {
        "digits_cnn (layers.Conv2D)": lambda seed: zoo_recipe("digits_cnn", seed),
        "digits_mlp": lambda seed: zoo_recipe("digits_mlp", seed),
        "scikit-learn MLPClassifier(256, 128)": sklearn_mlp,
    }
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| model | parameters | test accuracy (mean ± std) | per seed | train s (mean) |")
    print("|---|---|---|---|---|")
    for label, train in peers.items():
        outcomes = [train(seed) for seed in seeds]
        accuracies = [accuracy for accuracy, _, _ in outcomes]
        spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
        print(
            f"| {label} | {outcomes[0][1]:,} | {statistics.mean(accuracies):.3f} ± {spread:.3f} | "
            f"{', '.join(f'{a:.3f}' for a in accuracies)} | {statistics.mean(s for _, _, s in outcomes):.1f} |",
            flush=True,
        )
    print(f"\nseeds {args.seeds}; digits test split, 270 images. load average after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

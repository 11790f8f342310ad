"""music_rnn vs music_lstm vs music_transformer: training and generation speed, in one run.

    .venv/bin/python benchmarks/music_models.py [--workdir-root runs/cmp] [--rounds 3]

Prints one table. Every model uses its recipe's default config on the Irish
tunes. The measurements are interleaved (round 1 of every model, then round 2,
...) and the median round is reported, so on a shared machine all models see
the same load:

- train steps/s: a plain tf.function step (forward, the recipe's loss,
  gradients, Adam) on real batches of the recipe's batch size, after warm-up.
- generate tokens/s: the recipe's `generate` hook (600 tokens after "X:",
  temperature 0.8), after a warm-up call that traces it. For the transformer
  its XLA token loop (what a process uses once it has sampled 2000 tokens),
  its plain-graph loop (what shorter work uses), and `generate_naive`, which
  recomputes the whole context for every token instead of reading the
  key/value cache.
- a second table: cached vs recomputed sampling at windows 100 and 400
  (random weights), where the cache's advantage grows with the window.

Weights come from WORKDIR_ROOT/NAME/best.weights.h5 when that exists (speed
does not depend on them; the parameter count is printed either way).
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import datasets  # noqa: E402
from benchmarks._summary import spread  # noqa: E402
from recipes import _transformer  # noqa: E402
from zoo.engine import registry  # noqa: E402

NAMES = ("music_rnn", "music_lstm", "music_transformer")
TRAIN_STEPS = 10
GENERATE_LENGTH = 600
NAIVE_LENGTH = 150


def setup(name, workdir_root):
    recipe = registry.get_recipe(name)
    config = recipe.Config()
    splits = recipe.module.load_data(config)
    model = recipe.module.build_model(config, splits.info)
    batches = splits.train.batch(config.batch_size, drop_remainder=True).take(TRAIN_STEPS).cache()
    model(next(iter(batches))[0])
    weights = pathlib.Path(workdir_root) / name / "best.weights.h5"
    if weights.exists():
        model.load_weights(weights)
    optimizer = keras.optimizers.Adam(1e-4)

    @tf.function
    def train_step(features, targets):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(recipe.module.loss(targets, model(features, training=True)))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss

    return {"recipe": recipe, "config": config, "info": splits.info, "model": model,
            "batches": list(batches), "train_step": train_step, "weights": weights.exists()}


def time_training(entry) -> float:
    started = time.perf_counter()
    for features, targets in entry["batches"]:
        loss = entry["train_step"](features, targets)
    float(loss)
    return len(entry["batches"]) / (time.perf_counter() - started)


def time_generation(entry, naive=False, compiled=None) -> float:
    if naive:
        length = NAIVE_LENGTH
        started = time.perf_counter()
        _transformer.generate_naive(entry["model"], entry["info"].vocabulary, "X:", length, 0.8, 0)
    elif compiled is not None:  # The transformer's XLA or plain-graph token loop, chosen explicitly.
        length = GENERATE_LENGTH
        started = time.perf_counter()
        _transformer.generate(entry["model"], entry["info"].vocabulary, "X:", length, 0.8, 0, compiled=compiled)
    else:
        length = GENERATE_LENGTH
        started = time.perf_counter()
        entry["recipe"].module.generate(entry["model"], entry["info"], entry["config"], "X:", length, 0.8, 0)
    return length / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir-root", default="runs/cmp")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--windows-only", action="store_true", help="only the cached-vs-recompute window table")
    args = parser.parse_args()
    if args.windows_only:
        window_scaling()
        return
    entries = {name: setup(name, args.workdir_root) for name in NAMES}
    # Warm-up: trace every train step and sampler once.
    transformer = entries["music_transformer"]
    for entry in entries.values():
        time_training(entry)
        time_generation(entry)
    for compiled in (False, True):
        time_generation(transformer, compiled=compiled)  # Trace (and compile) both token loops.
    time_generation(transformer, naive=True)
    results = {name: {"train": [], "generate": [], "graph": [], "naive": []} for name in NAMES}
    for round_index in range(args.rounds):
        # Alternate the order, so no model always runs right after the same one.
        for name in NAMES if round_index % 2 == 0 else NAMES[::-1]:
            entry = entries[name]
            results[name]["train"].append(time_training(entry))
            if name == "music_transformer":
                results[name]["generate"].append(time_generation(entry, compiled=True))
                results[name]["graph"].append(time_generation(entry, compiled=False))
                results[name]["naive"].append(time_generation(entry, naive=True))
            else:
                results[name]["generate"].append(time_generation(entry))
    print(f"{os.cpu_count()} CPUs visible, load average {' '.join(f'{load:.1f}' for load in os.getloadavg())}; "
          f"median (min-max) of {args.rounds} interleaved rounds")

    print("| model | parameters | train steps/s (batch 64 x 100) | generate tokens/s (cached) | "
          "cached, plain graph | recompute context |")
    print("|---|---|---|---|---|---|")
    for name, entry in entries.items():
        graph, naive = results[name]["graph"], results[name]["naive"]
        print(
            f"| {name} | {entry['model'].count_params():,} | {spread(results[name]['train'], 2)} | "
            f"{spread(results[name]['generate'])}{' (XLA)' if graph else ''} | "
            f"{spread(graph) if graph else 'n/a'} | {spread(naive) if naive else 'n/a (a state, no context)'} |"
        )
    lstm = results["music_lstm"]["generate"]
    ratios = [ours / theirs for ours, theirs in zip(results["music_transformer"]["generate"], lstm)]
    print(f"\nmusic_transformer (XLA) / music_lstm tokens/s, per round: {spread(ratios, 2)}")
    print()
    window_scaling()


def window_scaling(windows=(100, 400)) -> None:
    """Cached vs recomputed sampling as the window grows (music_transformer sizes, random weights).

    The prompt fills half the window and window // 2 - 1 tokens are generated,
    so every token sees between window // 2 and window - 1 earlier tokens.
    """
    recipe = registry.get_recipe("music_transformer")
    vocabulary = tuple(chr(33 + index) for index in range(83))
    info = datasets.DatasetInfo(name="random", input_shape=(), num_examples={}, fingerprint="", vocabulary=vocabulary)
    print("| window | context per token | cached tokens/s | recompute tokens/s | cached / recompute |")
    print("|---|---|---|---|---|")
    for window in windows:
        model = recipe.module.build_model(recipe.Config(sequence_length=window), info)
        prompt = "a" * (window // 2)
        length = window // 2 - 1
        _transformer.generate(model, vocabulary, prompt, 4, 0.8, 0)  # Trace.
        _transformer.generate_naive(model, vocabulary, prompt, 4, 0.8, 0)
        started = time.perf_counter()
        _transformer.generate(model, vocabulary, prompt, length, 0.8, 0)
        cached = length / (time.perf_counter() - started)
        started = time.perf_counter()
        _transformer.generate_naive(model, vocabulary, prompt, length, 0.8, 0)
        naive = length / (time.perf_counter() - started)
        print(f"| {window} | {window // 2}..{window - 1} | {cached:.0f} | {naive:.0f} | {cached / naive:.1f}x |")


if __name__ == "__main__":
    main()

"""Our GradientTape trainer against keras `model.fit`: same model, data, optimizer and batch, one process.

    .venv/bin/python benchmarks/trainer_vs_fit.py [--rounds 3] [--recipes digits_mlp,music_rnn]
        [--fit-steps-per-execution 8,32]

For each recipe, each variant trains the recipe's own model from the same
seed, evaluating on the validation split after every epoch:

- fit, steps_per_execution=1 (keras's default) and each of the larger values;
  fit's `jit_compile` is left at "auto" (off on a CPU-only machine);
- ours at the recipe's defaults (steps_per_call, jit_compile=false), and ours
  with jit_compile=true.

Both sides compute the same things: fit is compiled with the recipe's own
metrics (ours sums them on every step) and, where the recipe clips gradients
(grad_clip_norm, the music recipes), with the same global-norm clipping
(`global_clipnorm`).

The variants run interleaved, round after round (each round in a rotated
order), and each cell is the median over the rounds with its range, so a
change in the machine's load hits every column alike. The ratios are taken
per round (the variants of a round ran side by side), then summarised the
same way. Speed is the steady state: optimizer
steps of epochs 2..E over the time from the end of epoch 1 to the end of epoch
E, so tracing and start-up are left out of every column. Ours also writes
metrics.jsonl, TensorBoard scalars and checkpoints as it always does; fit gets
a ModelCheckpoint(best weights) callback.

The recurrent recipes take minutes per epoch at their defaults, so they train
on the first TRUNCATED_BATCHES batches' worth of examples per epoch and
validate on as many (both loops see the same truncated data). The load
average is printed before and after. A benchmark prints; no test asserts a time.
"""

import argparse
import dataclasses
import os
import pathlib
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import datasets  # noqa: E402
import zoo  # noqa: E402
from benchmarks._summary import spread  # noqa: E402
from zoo.engine import batches, optimizers, runs, trainer  # noqa: E402

RECIPES = "digits_mlp:12,playground_mlp:12,binary_mlp:12,music_rnn:3,music_lstm:3"
TRUNCATED = ("music_rnn", "music_lstm")
TRUNCATED_BATCHES = 8


class EpochClock(keras.callbacks.Callback):
    """Records the wall-clock time at the end of each epoch (after validation)."""

    def on_train_begin(self, logs=None):
        self.ends = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


def truncated(splits, batch_size):
    """The same splits with TRUNCATED_BATCHES batches' worth of train and validation examples."""
    count = TRUNCATED_BATCHES * batch_size
    num_examples = {**splits.info.num_examples, "train": count, "validation": count}
    info = dataclasses.replace(splits.info, num_examples=num_examples)
    return datasets.Splits(splits.train.take(count), splits.validation.take(count), splits.test, info)


def steady_rate(steps_per_epoch, epoch_ends):
    """Steps per second from the end of epoch 1 to the end of the last epoch."""
    return steps_per_epoch * (len(epoch_ends) - 1) / (epoch_ends[-1] - epoch_ends[0])


def run_ours(recipe, config, splits, workdir):
    original = recipe.module.load_data
    recipe.module.load_data = lambda _config: splits
    try:
        result = zoo.train(recipe, config, workdir, verbose=False)
    finally:
        recipe.module.load_data = original
    ends = [record["wall_time"] for record in result.history if record["split"] == "validation"]
    return steady_rate(result.steps // config.epochs, ends)


def run_fit(recipe, config, splits, steps_per_execution, workdir):
    trainer.seed_everything(config.seed)
    sample = next(iter(splits.train.batch(2)))[0]
    model = runs.build_model(recipe, config, splits.info, sample)
    count = int(splits.info.num_examples["train"])
    steps_per_epoch = -(-count // config.batch_size)
    optimizer = optimizers.make_optimizer(config.optimizer, config.learning_rate, config.lr_schedule, steps_per_epoch * config.epochs)
    if config.grad_clip_norm > 0:
        optimizer.global_clipnorm = config.grad_clip_norm  # As ours clips: the global norm of all gradients.
    model.compile(
        optimizer=optimizer,
        loss=lambda targets, outputs: recipe.module.loss(targets, outputs),
        metrics=[keras.metrics.MeanMetricWrapper(metric, name=name) for name, metric in recipe.module.METRICS.items()],
        steps_per_execution=steps_per_execution,
    )
    train = (
        splits.train.cache()
        .shuffle(count, seed=batches.order_seed(config.seed, 0))
        .batch(config.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    validation = splits.validation.batch(runs.EVAL_BATCH_SIZE).prefetch(tf.data.AUTOTUNE)
    clock = EpochClock()
    best = keras.callbacks.ModelCheckpoint(
        str(pathlib.Path(workdir) / "fit_best.weights.h5"), save_best_only=True, save_weights_only=True
    )
    # shuffle=False: the dataset is shuffled above (fit ignores the flag for a tf.data input, and warns).
    model.fit(train, validation_data=validation, epochs=config.epochs, verbose=0, callbacks=[clock, best], shuffle=False)
    return steady_rate(steps_per_epoch, clock.ends)


def measure(name, epochs, rounds, fit_values):
    recipe = zoo.get_recipe(name)
    config = zoo.make_config(recipe, {"epochs": epochs, "patience": 0})
    splits = recipe.module.load_data(config)
    if name in TRUNCATED:
        splits = truncated(splits, config.batch_size)
    variants = {f"fit spe={k}": ("fit", k) for k in (1, *fit_values)}
    variants["ours"] = ("ours", config)
    variants["ours jit"] = ("ours", dataclasses.replace(config, jit_compile=True))
    rates = {label: [] for label in variants}
    labels = list(variants)
    for round_index in range(rounds):
        order = labels[round_index % len(labels):] + labels[: round_index % len(labels)]
        for label in order:
            kind, setting = variants[label]
            with tempfile.TemporaryDirectory() as workdir:
                if kind == "fit":
                    rates[label].append(run_fit(recipe, config, splits, setting, workdir))
                else:
                    rates[label].append(run_ours(recipe, setting, splits, pathlib.Path(workdir) / "ours"))
    steps_per_epoch = -(-int(splits.info.num_examples["train"]) // config.batch_size)
    return config, steps_per_epoch, rates


def per_round(numerator, denominator) -> list:
    return [a / b for a, b in zip(numerator, denominator)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--recipes", default=RECIPES, help="NAME:EPOCHS,...")
    parser.add_argument("--fit-steps-per-execution", default="8,32")
    args = parser.parse_args()
    fit_values = [int(value) for value in args.fit_steps_per_execution.split(",")]

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = ("recipe", "batch", "steps/epoch", "fit spe=1", "fit best spe", "ours", "ours jit",
              "ours / fit spe=1", "ours / fit best", "ours jit / ours")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for item in args.recipes.split(","):
        name, _, epochs = item.partition(":")
        config, steps_per_epoch, rates = measure(name, int(epochs or 12), args.rounds, fit_values)
        best_label = max((f"fit spe={k}" for k in fit_values), key=lambda label: statistics.median(rates[label]))
        fit_default, fit_best, ours, ours_jit = rates["fit spe=1"], rates[best_label], rates["ours"], rates["ours jit"]
        lines.append(
            f"| {name} | {config.batch_size} | {steps_per_epoch} | {spread(fit_default)} | "
            f"{spread(fit_best)} ({best_label.split('=')[1]}) | {spread(ours)} (k={config.steps_per_call}) | {spread(ours_jit)} | "
            f"{spread(per_round(ours, fit_default), 2)} | {spread(per_round(ours, fit_best), 2)} | "
            f"{spread(per_round(ours_jit, ours), 2)} |"
        )
        print(lines[-1], flush=True)
    print()
    print("\n".join(lines))
    print(
        f"\nSteps per second, steady state (epochs 2..E), median (range) of {args.rounds} interleaved rounds; "
        f"fit best spe = the faster of steps_per_execution {args.fit_steps_per_execution}; "
        f"{', '.join(TRUNCATED)} on {TRUNCATED_BATCHES} batches per epoch. "
        f"TF {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU cores."
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

"""Our GradientTape trainer against keras `model.fit`, same model and data, one run.

    .venv/bin/python benchmarks/trainer_vs_fit.py [--epochs 12] [--recipes digits_mlp,playground_mlp,music_rnn:3]

A recipe may carry its own epoch count after a colon (music_rnn:3).

For each recipe both loops train the recipe's own model (same seed, same
optimizer and learning rate, same batch size, the same cached/shuffled/batched
tf.data pipeline) and evaluate on the validation split after every epoch.
Steady-state speed is the optimizer steps of epochs 2..E divided by the time
between the end of epoch 1 and the end of epoch E, so tracing and start-up are
left out for both. Ours also writes a checkpoint, metrics.jsonl and TensorBoard
scalars every epoch; fit gets a ModelCheckpoint(best weights) callback. The
ratio is ours / fit in steps per second: above 1.0 means our loop is faster.
A benchmark prints; no test asserts a time.
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo import trainer  # noqa: E402


class EpochClock(keras.callbacks.Callback):
    """Records the wall-clock time at the end of each epoch (after validation)."""

    def on_train_begin(self, logs=None):
        self.ends = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


def ours(recipe, config, workdir):
    result = zoo.train(recipe, config, workdir, verbose=False)
    ends = [r["wall_time"] for r in result.history if r["split"] == "validation"]
    return result.steps, ends, result


def keras_fit(recipe, config, splits, steps_per_epoch, workdir):
    trainer.seed_everything(config.seed)
    sample = next(iter(splits.train.batch(2)))[0]
    model = trainer.build_model(recipe, config, splits.info, sample)
    optimizer = zoo_optimizer(config)
    model.compile(
        optimizer=optimizer,
        loss=lambda y, p: recipe.module.loss(y, p),
        metrics=[],
    )
    train = (
        splits.train.cache()
        .shuffle(int(splits.info.num_examples["train"]), seed=config.seed)
        .batch(config.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    validation = splits.validation.batch(trainer.EVAL_BATCH_SIZE).prefetch(tf.data.AUTOTUNE)
    clock = EpochClock()
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(pathlib.Path(workdir) / "fit_best.weights.h5"), save_best_only=True, save_weights_only=True
    )
    started = time.perf_counter()
    model.fit(train, validation_data=validation, epochs=config.epochs, verbose=0, callbacks=[clock, checkpoint])
    return steps_per_epoch * config.epochs, [t - started for t in clock.ends]


def zoo_optimizer(config):
    from zoo import optimizers

    return optimizers.make_optimizer(config.optimizer, config.learning_rate, config.lr_schedule)


def steady_rate(total_steps, epoch_ends, epochs):
    steps_per_epoch = total_steps / epochs
    return steps_per_epoch * (epochs - 1) / (epoch_ends[-1] - epoch_ends[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--recipes", default="digits_mlp,playground_mlp,music_rnn:3")
    args = parser.parse_args()

    rows = []
    for item in args.recipes.split(","):
        name, _, epochs = item.partition(":")
        epochs = int(epochs or args.epochs)
        recipe = zoo.get_recipe(name)
        config = zoo.make_config(recipe, {"epochs": epochs, "patience": 0})
        with tempfile.TemporaryDirectory() as workdir:
            steps, our_ends, result = ours(recipe, config, pathlib.Path(workdir) / "ours")
            spe = steps // epochs
            fit_steps, fit_ends = keras_fit(recipe, config, result.splits, spe, workdir)
        our_rate = steady_rate(steps, our_ends, epochs)
        fit_rate = steady_rate(fit_steps, fit_ends, epochs)
        rows.append((name, config.batch_size, spe, our_rate, fit_rate, our_rate / fit_rate, our_ends[-1], fit_ends[-1]))

    header = ("recipe", "batch", "steps/epoch", "ours steps/s", "fit steps/s", "ours/fit", "ours total s", "fit total s")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, batch, spe, ours_rate, fit_rate, ratio, our_total, fit_total in rows:
        print(
            f"| {name} | {batch} | {spe} | {ours_rate:.0f} | {fit_rate:.0f} | {ratio:.2f} | "
            f"{our_total:.1f} | {fit_total:.1f} |"
        )
    print(f"\n{args.epochs} epochs unless the recipe names its own; steady state = epochs 2..E. "
          f"TF {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU cores.")


if __name__ == "__main__":
    main()

"""Benchmark: the MIT 6.S191 lab 1 music model against the zoo's `music_lstm`, same time.

The lab's configuration, built with keras's own layers: Embedding(vocab, 256) ->
LSTM(1024, return_sequences) -> Dense(vocab), Adam(5e-3), batch 8, sequences
of 100 characters. (The lab's LSTM is `stateful=True` with a fixed batch size,
which Keras 3 no longer supports for this use; it trains on random windows, so
state carried between unrelated windows adds nothing, and here it is off.)

Both models train on the same split (datasets.irish.load_language_model: the
same train windows, each in its own seeded shuffled order). `music_lstm` runs
its default config (recipes/music_lstm.py: model, Adam with its schedule,
global-norm clipping, batch size, epochs) step for step as the trainer would;
the lab model gets exactly the same training time. The two are INTERLEAVED:
a slice of our steps, then lab steps until the lab's time catches up, and so
on, so both see the same machine load (this machine is shared). Only the
training steps are timed (not the one-off tracing, not the evaluation). At the
end both are evaluated on the validation windows and a table is printed.

Run from the repository root:

    .venv/bin/python benchmarks/mit_lab_music.py
    .venv/bin/python benchmarks/mit_lab_music.py --steps 100      # a quick look

It prints a table (also as JSON with --json PATH) and asserts nothing.
"""

import argparse
import json
import math
import os
import pathlib
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# A script, not a package: make `import zoo` find the repository's packages.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from datasets import irish  # noqa: E402
from zoo.engine import optimizers, registry  # noqa: E402

# MIT 6.S191 lab 1 (music generation) hyperparameters.
LAB = {"embedding_dim": 256, "units": 1024, "batch_size": 8, "sequence_length": 100, "learning_rate": 5e-3}


def lab_model(vocab_size: int) -> keras.Model:
    ids = keras.Input(shape=(None,), dtype="int32")
    vectors = keras.layers.Embedding(vocab_size, LAB["embedding_dim"])(ids)  # (batch, time, 256)
    hidden = keras.layers.LSTM(
        LAB["units"], return_sequences=True, recurrent_initializer="glorot_uniform", recurrent_activation="sigmoid"
    )(vectors)  # (batch, time, 1024)
    logits = keras.layers.Dense(vocab_size)(hidden)  # (batch, time, vocab)
    return keras.Model(ids, logits, name="mit_lab1_music")


def validation_loss(model, dataset) -> float:
    """Mean next-character cross-entropy (nats) over every validation character."""
    total, count = 0.0, 0
    for x, y in dataset.batch(256):
        nats = keras.losses.sparse_categorical_crossentropy(y, model(x, training=False), from_logits=True)
        total += float(tf.reduce_sum(nats))
        count += int(tf.size(nats))
    return total / count


class Contender:
    """A model, its optimizer and its own stream of shuffled training batches."""

    def __init__(self, label, model, optimizer, batch_size, clip_norm, splits, seed):
        self.label, self.model, self.optimizer = label, model, optimizer
        self.batch_size, self.splits, self.seed = batch_size, splits, seed
        self.steps, self.examples, self.seconds, self.traced = 0, 0, 0.0, False
        self.batches = self._batches()

        @tf.function(
            input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32)]
        )
        def step(x, y):
            with tf.GradientTape() as tape:
                logits = model(x, training=True)
                loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
            gradients = tape.gradient(loss, model.trainable_variables)
            gradients = [tf.convert_to_tensor(g) for g in gradients]
            if clip_norm:
                gradients, _ = tf.clip_by_global_norm(gradients, clip_norm)
            optimizer.apply(gradients, model.trainable_variables)
            return loss

        self._step = step

    def _batches(self):
        epoch = 0
        while True:
            order = self.splits.train.shuffle(self.splits.info.num_examples["train"], seed=self.seed + epoch)
            yield from order.batch(self.batch_size)
            epoch += 1

    def step(self) -> None:
        x, y = next(self.batches)
        started = time.perf_counter()
        self._step(x, y).numpy()
        if self.traced:  # The first call traces the function: not timed.
            self.seconds += time.perf_counter() - started
        self.traced = True
        self.steps += 1
        self.examples += int(x.shape[0])  # The last batch of an epoch may be smaller.

    def row(self, description) -> dict:
        loss = validation_loss(self.model, self.splits.validation)
        return {
            "model": description,
            "parameters": int(self.model.count_params()),
            "batch_size": self.batch_size,
            "steps": self.steps,
            "characters_seen": self.examples * self.splits.info.input_shape[0],
            "train_seconds": round(self.seconds, 1),
            "validation_loss": loss,
            "validation_bits_per_char": loss / math.log(2),
        }


def contenders(splits, seed: int, steps: int):
    recipe = registry.get_recipe("music_lstm")
    config = recipe.Config()
    keras.utils.set_random_seed(seed)
    ours_model = recipe.module.build_model(config, splits.info)
    total = steps or config.epochs * math.ceil(splits.info.num_examples["train"] / config.batch_size)
    ours = Contender(
        "music_lstm", ours_model,
        optimizers.make_optimizer(config.optimizer, config.learning_rate, config.lr_schedule, total),
        config.batch_size, config.grad_clip_norm, splits, seed,
    )
    keras.utils.set_random_seed(seed)
    lab = Contender(
        "mit_lab1", lab_model(splits.info.vocab_size), keras.optimizers.Adam(LAB["learning_rate"]),
        LAB["batch_size"], 0.0, splits, seed,
    )
    ours_description = (
        f"zoo music_lstm defaults (layers.LSTMCell {config.units}, embedding {config.embedding_dim}, "
        f"{config.optimizer} {config.learning_rate:g} {config.lr_schedule}, clip {config.grad_clip_norm:g})"
    )
    lab_description = "MIT lab 1 (keras Embedding 256, LSTM 1024, Adam 5e-3)"
    return ours, lab, total, ours_description, lab_description


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=0, help="music_lstm steps (default: its full default run)")
    parser.add_argument("--slice", type=int, default=10, help="music_lstm steps between lab catch-ups")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=pathlib.Path, help="also write the table here")
    args = parser.parse_args()

    splits = irish.load_language_model(sequence_length=LAB["sequence_length"])
    ours, lab, total, ours_description, lab_description = contenders(splits, args.seed, args.steps)
    print(f"music_lstm: {total} steps; the lab model trains for the same time, interleaved.", flush=True)
    started = time.perf_counter()
    while ours.steps < total:
        for _ in range(min(args.slice, total - ours.steps)):
            ours.step()
        while lab.seconds < ours.seconds or not lab.traced:
            lab.step()
        print(
            f"  music_lstm {ours.steps} steps {ours.seconds:.0f} s | lab {lab.steps} steps {lab.seconds:.0f} s",
            flush=True,
        )
    rows = [ours.row(ours_description), lab.row(lab_description)]
    elapsed = time.perf_counter() - started

    header = ("model", "params", "batch", "steps", "chars seen", "train s", "val loss (nats)", "val bits/char")
    table = [header] + [
        (
            row["model"], f"{row['parameters']:,}", str(row["batch_size"]), str(row["steps"]),
            f"{row['characters_seen']:,}", f"{row['train_seconds']:.0f}", f"{row['validation_loss']:.4f}",
            f"{row['validation_bits_per_char']:.4f}",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print(
        f"\nSame split, same training time, interleaved ({elapsed:.0f} s wall in all); "
        f"{platform.machine()}, {os.cpu_count()} CPU cores (shared), TF {tf.__version__}, Keras {keras.__version__}"
    )
    print("| " + " | ".join(cell.ljust(w) for cell, w in zip(table[0], widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in table[1:]:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |")
    if args.json:
        args.json.write_text(json.dumps({"elapsed_s": elapsed, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()

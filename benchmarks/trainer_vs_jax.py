"""Our trainer (TensorFlow) against Keras `model.fit` on the JAX backend: the model a user might pick instead.

    .venv/bin/python benchmarks/trainer_vs_jax.py [--rounds 5] [--recipe digits_mlp] [--epochs 12]

A Keras process has one backend, so each measurement is a process of its own,
and the two kinds alternate, round after round, in a rotated order (ours, jax;
jax, ours; ...): a change in the machine's load hits both alike. Both sides
train the recipe's own model (the zoo's layers are keras.ops only, so the same
code builds it on JAX) from the same seed, with the same optimizer, loss,
batch size and data, and evaluate on the validation split after every epoch:

- ours: `zoo.train` at the recipe's defaults (its compiled k-step call), which
  also writes metrics.jsonl, TensorBoard scalars and checkpoints;
- jax fit: `model.fit(..., steps_per_execution=32)` under KERAS_BACKEND=jax
  (jit-compiled, as Keras's JAX trainer always is), on the same arrays, with a
  ModelCheckpoint of the best weights.

Speed is the steady state: optimizer steps of epochs 2..E over the time from
the end of epoch 1 to the end of epoch E, so start-up and tracing are left out.
Prints one table with each side's median and range and the ratio per round,
and the load average before and after. A benchmark prints; no test asserts a time.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._summary import spread  # noqa: E402

SPE = 32


def child(kind: str, name: str, epochs: int) -> None:
    """Trains once and prints {"rate": steady steps/s, "steps_per_epoch": ...} as JSON."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(ROOT))
    import keras
    import numpy as np

    import zoo
    from zoo.engine import optimizers

    recipe = zoo.get_recipe(name)
    config = zoo.make_config(recipe, {"epochs": epochs, "patience": 0})
    with tempfile.TemporaryDirectory() as workdir:
        if kind == "ours":
            result = zoo.train(recipe, config, pathlib.Path(workdir) / "run", verbose=False)
            ends = [record["wall_time"] for record in result.history if record["split"] == "validation"]
            steps_per_epoch = result.steps // epochs
        else:
            assert keras.backend.backend() == "jax", keras.backend.backend()
            splits = recipe.module.load_data(config)

            def arrays(split):
                features, targets = zip(*split.as_numpy_iterator())
                return np.stack(features), np.stack(targets)

            (x_train, y_train), validation = arrays(splits.train), arrays(splits.validation)
            keras.utils.set_random_seed(config.seed)
            model = recipe.module.build_model(config, splits.info)
            steps_per_epoch = -(-len(x_train) // config.batch_size)
            model.compile(
                optimizer=optimizers.make_optimizer(config.optimizer, config.learning_rate, config.lr_schedule,
                                                    steps_per_epoch * epochs),
                loss=lambda targets, outputs: recipe.module.loss(targets, outputs),
                steps_per_execution=SPE,
            )
            clock = []
            ticks = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: clock.append(time.perf_counter()))
            best = keras.callbacks.ModelCheckpoint(str(pathlib.Path(workdir) / "best.weights.h5"), save_best_only=True,
                                                   save_weights_only=True)
            model.fit(x_train, y_train, batch_size=config.batch_size, epochs=epochs, validation_data=validation,
                      shuffle=True, verbose=0, callbacks=[ticks, best])
            ends = clock
    rate = steps_per_epoch * (len(ends) - 1) / (ends[-1] - ends[0])
    print(json.dumps({"rate": rate, "steps_per_epoch": steps_per_epoch, "batch_size": config.batch_size}))


def measure(kind: str, name: str, epochs: int) -> dict:
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu",
               KERAS_BACKEND="jax" if kind == "jax" else "tensorflow")
    completed = subprocess.run([sys.executable, __file__, "--child", kind, "--recipe", name, "--epochs", str(epochs)],
                               env=env, capture_output=True, text=True, cwd=ROOT)
    if completed.returncode != 0:
        sys.exit(f"{kind} run failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--recipe", default="digits_mlp")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--child", choices=["ours", "jax"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.recipe, args.epochs)
        return
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    rates, ratios, shape = {"ours": [], "jax": []}, [], None
    for round_index in range(args.rounds):
        order = ["ours", "jax"] if round_index % 2 == 0 else ["jax", "ours"]
        found = {}
        for kind in order:
            found[kind] = measure(kind, args.recipe, args.epochs)
            rates[kind].append(found[kind]["rate"])
        shape = found["ours"]
        ratios.append(found["ours"]["rate"] / found["jax"]["rate"])
        print(f"round {round_index + 1}: ours {found['ours']['rate']:.0f}, jax fit {found['jax']['rate']:.0f} steps/s, "
              f"ours / jax {ratios[-1]:.2f}", flush=True)

    print()
    print("| recipe | batch | steps/epoch | ours steps/s | Keras-JAX fit (spe=32) steps/s | ours / JAX fit |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.recipe} | {shape['batch_size']} | {shape['steps_per_epoch']} | {spread(rates['ours'])} | "
          f"{spread(rates['jax'])} | {spread(ratios, 2)} |")
    print(f"\nMedian (range) of {args.rounds} alternating rounds, one process per run; steady state, epochs 2..{args.epochs}. "
          f"{os.cpu_count()} CPU cores.")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

"""Golden losses: a short, fixed, CPU run of every recipe and the losses it must reach.

    python -m tests.record_golden                 # re-record every recipe (make golden)
    python -m tests.record_golden music_lstm      # re-record some recipes only

writes tests/golden_losses.json, which tests/test_recipes.py checks: each
recipe trains `max_steps` steps (seed 0, batch 8, small widths, see `overrides`)
and its final train and validation losses must match within GOLDEN_RTOL. A
change to a layer, a dataset, a recipe or the trainer that changes what
training computes then fails that test; re-record only when the change is meant
to change training, and say so in the commit.

A recipe whose data cannot be loaded here (a tfds set without internet) is
recorded as unavailable, with the reason, and its test is skipped while that
stays true.
"""

import dataclasses
import json
import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLDEN_PATH = ROOT / "tests" / "golden_losses.json"
RECORD_COMMAND = "python -m tests.record_golden"
GOLDEN_RTOL = 1e-4
STEPS = 3

# Common keys for every recipe, then small values for whichever of these keys a
# recipe's Config has (a new recipe with other keys runs at its own defaults for them).
COMMON = {"seed": 0, "epochs": STEPS, "max_steps": STEPS, "batch_size": 8, "checkpoint_every": 0, "patience": 0}
SMALL = {
    "hidden_units": 8,
    "units": 8,
    "embedding_dim": 8,
    "model_dim": 16,
    "num_heads": 2,
    "num_blocks": 1,
    "ff_dim": 16,
    "sequence_length": 32,
    "max_length": 64,
    "num_examples": 200,
    "repeats": 4,
}


def overrides(config_class) -> dict:
    """The golden run's overrides for a recipe's Config."""
    fields = {field.name for field in dataclasses.fields(config_class)}
    return {**COMMON, **{key: value for key, value in SMALL.items() if key in fields}}


def golden_run(name: str) -> dict:
    """Trains recipe `name` for the golden run; {"train_loss", "validation_loss", "overrides"}.

    Raises whatever loading the recipe's data raises when the data is unavailable.
    """
    import zoo

    recipe = zoo.get_recipe(name)
    values = overrides(recipe.Config)
    config = zoo.make_config(recipe, dict(values))
    with tempfile.TemporaryDirectory(prefix=f"golden-{name}-") as workdir:
        result = zoo.train(recipe, config, workdir, verbose=False)
    return {**losses(result), "overrides": values}


def losses(result) -> dict:
    """{"train_loss", "validation_loss"}: the last records of a golden run's history."""
    train = [record for record in result.history if record["split"] == "train"][-1]
    validation = [record for record in result.history if record["split"] == "validation"][-1]
    assert train["step"] == STEPS, train
    return {"train_loss": train["loss"], "validation_loss": validation["loss"]}


def is_unavailable_data(error: Exception) -> bool:
    """True for a dataset that needs a download this machine cannot make."""
    text = str(error).lower()
    return isinstance(error, (ValueError, FileNotFoundError, OSError)) and any(
        word in text for word in ("internet", "download", "not prepared", "tensorflow-datasets", "tfds")
    )


def read() -> dict:
    if not GOLDEN_PATH.exists():
        return {}
    return json.loads(GOLDEN_PATH.read_text())["recipes"]


def main(argv) -> int:
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # Golden values are CPU values.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import zoo

    names = argv or zoo.list_recipes()
    unknown = sorted(set(names) - set(zoo.list_recipes()))
    if unknown:
        print(f"error: unknown recipes {unknown}; known: {zoo.list_recipes()}", file=sys.stderr)
        return 2
    golden = read()
    failed = []
    for name in names:
        try:
            golden[name] = golden_run(name)
            print(f"{name}: train_loss={golden[name]['train_loss']:.8g} validation_loss={golden[name]['validation_loss']:.8g}")
        except Exception as error:  # noqa: BLE001
            reason = " ".join(str(error).split())
            if not is_unavailable_data(error):
                print(f"error: {name}: the golden run failed ({type(error).__name__}: {reason}); not recorded", file=sys.stderr)
                failed.append(name)
                continue
            golden[name] = {"unavailable": reason}
            print(f"{name}: data unavailable here ({reason[:120]}...); recorded as unavailable")
    golden = {name: golden[name] for name in sorted(golden) if name in zoo.list_recipes()}
    import keras
    import tensorflow as tf

    record = {
        "about": f"Golden losses of {STEPS}-step CPU runs; regenerate with `{RECORD_COMMAND}` (make golden). "
        "See tests/record_golden.py.",
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "rtol": GOLDEN_RTOL,
        "recipes": golden,
    }
    GOLDEN_PATH.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {GOLDEN_PATH.relative_to(ROOT)} ({len(golden)} recipes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))

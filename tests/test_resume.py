"""Exact resume: a run killed with SIGKILL and rerun ends bit-identical to one never killed.

Each kill runs the zoo's `train` command in a process of its own through tests/kill_at.py,
so the process SIGKILLs itself at a known point: mid-epoch between two
checkpoints ("step:N"), inside an
end-of-epoch evaluation ("eval:N") or inside a checkpoint save ("save:N").
Each recipe's run is killed at all three points in turn (each rerun resuming
from what the previous kill left), then rerun without the hook to the end; its
final and best weights and its metrics.jsonl must equal those of an
uninterrupted run with the same seed, bit for bit. The uninterrupted run and the
last rerun go through the same command line in this process (`cli.main`): only a
kill needs a process of its own. Those are forked from one that has imported
TensorFlow already (tests/forks.py), which saves each of them 9-13 s of start-up.

The MLP has dropout, so its RNG state must be in the checkpoint; the sequence
recipe (an LSTM language model with gradient clipping and a cosine schedule)
checks optimizer slots, the schedule's step and the data position with
multi-step windows.
"""

import json
import os
import pathlib
import signal

import h5py
import numpy as np
import pytest
import tensorflow as tf

from tests import forks
from zoo.commands import cli

pytestmark = pytest.mark.slow  # Six processes.

# digits: 1257 training rows, batch 128 -> 10 steps per epoch; checkpoints at
# steps 4, 8, 10 (end of epoch 1), 12, 16, 20, ...
MLP = ["digits_mlp", "epochs=3", "checkpoint_seconds=0", "learning_rate=0.001", "hidden_units=8", "depth=2", "dropout=0.3", "batch_size=128",
       "checkpoint_every=4", "patience=0", "seed=5"]
# irish tunes, 100-character windows: 9 steps of 16 windows, checkpoints at 3, 6, 9.
SEQUENCE = ["music_lstm", "epochs=1", "checkpoint_seconds=0", "max_steps=9", "learning_rate=0.003", "grad_clip_norm=1.0", "units=8", "embedding_dim=4", "batch_size=16",
            "checkpoint_every=3", "seed=2"]


def killed_train(workdir, arguments, kill_at):
    """`train` in a process of its own that SIGKILLs itself at `kill_at`."""
    env = dict(os.environ, **forks.SERVER_ENV)
    return forks.run("tests.kill_at", [kill_at, "train", *arguments, "--workdir", str(workdir), "--quiet"], env=env, timeout=600)


def train(workdir, arguments):
    """The same `train` command, run to its end in this process."""
    assert cli.main(["train", *arguments, "--workdir", str(workdir), "--quiet"]) == 0


def h5_arrays(path) -> dict:
    arrays = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda name, item: arrays.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    assert arrays, f"{path} holds no arrays"
    return arrays


def metrics(workdir) -> list:
    records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    for record in records:
        record.pop("wall_time")
    return records


def checkpoint_list(workdir) -> list:
    state = tf.train.get_checkpoint_state(str(workdir / "checkpoints"))
    return [pathlib.Path(path).name for path in state.all_model_checkpoint_paths] if state else []


def assert_same_run(reference, resumed):
    for name in ("final.weights.h5", "best.weights.h5"):
        expected, actual = h5_arrays(reference / name), h5_arrays(resumed / name)
        assert expected.keys() == actual.keys()
        for key in expected:
            np.testing.assert_array_equal(actual[key], expected[key], err_msg=f"{name}:{key}")
    assert metrics(resumed) == metrics(reference)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """One uninterrupted run per recipe."""
    runs = {}
    for arguments in (MLP, SEQUENCE):
        workdir = tmp_path_factory.mktemp(f"reference_{arguments[0]}")
        train(workdir, arguments)
        runs[arguments[0]] = workdir
    return runs


# Each recipe's run is killed three times in a row, at a different point each
# time, each rerun resuming from what the kill before it left; then one last
# rerun finishes it. Per kill: (the hook, the checkpoints listed right after it,
# the checkpoint whose files a killed save left behind unlisted, or None).
KILL_CHAINS = {
    "digits_mlp": [
        ("step:7", ["ckpt-4"], None),  # Mid-epoch, between the checkpoints of steps 4 and 8.
        # Resumed at 4: evaluations at steps 10 and 20; killed inside the second,
        # after the checkpoint_every save of step 20 and the epoch's train record.
        ("eval:2", ["ckpt-12", "ckpt-16", "ckpt-20"], None),
        # Resumed at 20 with the evaluation still to do: saves at 20, 24, then 28 is killed.
        ("save:3", ["ckpt-16", "ckpt-20", "ckpt-24"], "ckpt-28"),
    ],
    "music_lstm": [
        ("step:5", ["ckpt-3"], None),
        ("save:1", ["ckpt-3"], "ckpt-6"),  # Resumed at 3; its first save (step 6) is killed.
        ("eval:1", ["ckpt-3", "ckpt-6", "ckpt-9"], None),  # The last step's evaluation is killed.
    ],
}
ARGUMENTS = {"digits_mlp": MLP, "music_lstm": SEQUENCE}


@pytest.mark.parametrize("recipe", sorted(KILL_CHAINS))
def test_killed_runs_resume_bit_identically(tmp_path, references, recipe):
    arguments = ARGUMENTS[recipe]
    for kill_at, listed, orphan in KILL_CHAINS[recipe]:
        killed = killed_train(tmp_path, arguments, kill_at)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        assert checkpoint_list(tmp_path) == listed, kill_at
        if orphan:
            assert (tmp_path / "checkpoints" / f"{orphan}.index").exists(), kill_at
        assert not (tmp_path / "final.weights.h5").exists()

    train(tmp_path, arguments)
    assert_same_run(references[recipe], tmp_path)


def test_checkpoint_holds_dropout_rng_state_and_optimizer_slots(references):
    names = [name for name, _ in tf.train.list_variables(str(references["digits_mlp"] / "checkpoints"))]
    # Two dropout layers, two SeedGenerator states.
    assert sum(name.startswith("random_states/") for name in names) == 2, names
    for key in ("step/", "epoch/", "records/", "evaluated_step/", "best_loss/", "bad_epochs/", "epoch_sums/loss/", "optimizer/_iterations/"):
        assert any(name.startswith(key) for name in names), key
    # Adam: two slots per weight (2 hidden layers + logits, kernel and bias each).
    assert sum(name.startswith("optimizer/_variables/") for name in names) >= 2 * 6

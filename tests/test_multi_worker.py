"""Several machines, tested with real local worker processes on localhost.

- A worker SIGKILLed mid-run makes the other stop within its timeout with one
  line naming the lost task.
- Rerunning both (MultiWorkerMirroredStrategy, `python -m zoo launch`) resumes,
  and the two workers end with the losses and weights of one uninterrupted
  process, to 1e-5, leaving the run directory exactly as one process does. (One
  killed-and-resumed run serves both checks.)
- A distributed search (one keras-tuner chief, two workers) runs 4 distinct
  trials, each by a worker, into one results table.

Every process here is forked from one that has imported TensorFlow already
(tests/forks.py): the launcher runs as `python -m zoo launch` does, and its
`subprocess.Popen` of each worker forks it instead of starting an interpreter.
Each is a real process with its own pid, pipes and exit code; only TensorFlow's
start-up (9-13 s of CPU each) is shared.
"""

import json
import os
import signal

import h5py
import numpy as np
import pytest

import zoo
from tests import forks
from zoo.commands import launch

pytestmark = pytest.mark.slow  # Each case starts two or three TensorFlow processes.

# 1257 training rows in batches of 64: 20 steps per epoch; checkpoints every 10 steps, and (with
# several workers, whatever checkpoint_seconds says) at every epoch end.
MLP = ["digits_mlp", "max_steps=40", "epochs=2", "dropout=0", "checkpoint_every=10", "checkpoint_seconds=0.5", "--quiet"]


def environment(**extra):
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG" and not key.startswith("KERASTUNER_")}
    env.update(CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3", **extra)
    return env


def zoo_launch(*arguments, timeout=300):
    """`python -m zoo launch --workers 2 ...`: the launcher and its workers forked (tests/forks.py)."""
    return forks.run("zoo", ["launch", "--workers", "2", *arguments], env=environment(), timeout=timeout, fork_workers=True)


def h5_arrays(path) -> dict:
    arrays = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda name, item: arrays.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    return arrays


def losses(workdir) -> list:
    return [json.loads(line)["loss"] for line in (workdir / "metrics.jsonl").read_text().splitlines()]


def listing(workdir) -> set:
    return {str(path.relative_to(workdir)) for path in workdir.rglob("*") if "tensorboard" not in path.parts}


@pytest.fixture(scope="module")
def lost_and_resumed(tmp_path_factory):
    """A two-worker run of MLP whose worker 1 is SIGKILLed after step 25: (chief's exit code, its stderr,
    worker 1's exit code, the run directory after `launch` reran both to the end)."""
    workdir = tmp_path_factory.mktemp("lost_worker") / "run"
    addresses = [f"127.0.0.1:{port}" for port in launch.free_ports(2)]
    processes = []  # Forked from a process that has imported TensorFlow already (tests/forks.py).
    for index, (module, *kill_at) in enumerate((["zoo"], ["tests.kill_at", "step:25"])):
        config = json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}})
        processes.append(forks.start(module, [*kill_at, "train", *MLP, "--workdir", str(workdir)], env=environment(TF_CONFIG=config)))
    try:
        _, chief_err = processes[0].communicate(timeout=240)
        processes[1].communicate(timeout=60)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    resumed = zoo_launch("train", *MLP, "--workdir", str(workdir))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    return processes[0].returncode, chief_err, processes[1].returncode, workdir


def test_a_lost_worker_stops_the_other_with_one_line(lost_and_resumed):
    chief_code, chief_err, worker_code, _ = lost_and_resumed
    assert worker_code == -signal.SIGKILL
    assert chief_code == 1, chief_err[-2000:]
    lines = chief_err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: a worker of the cluster was lost (/job:worker/replica:0/task:1)"), chief_err[-2000:]


def test_two_resumed_workers_end_as_one_process_and_leave_the_same_run_directory(lost_and_resumed, tmp_path):
    two_workers = lost_and_resumed[-1]
    recipe = zoo.get_recipe("digits_mlp")
    overrides = [item for item in MLP[1:] if "=" in item]
    one = zoo.train(recipe, zoo.make_config(recipe, overrides), tmp_path / "one", verbose=False)
    assert len(losses(two_workers)) == len(one.history)
    for actual, expected in zip(losses(two_workers), [record["loss"] for record in one.history]):
        assert actual == pytest.approx(expected, rel=1e-5, abs=1e-6)
    expected_weights, actual_weights = h5_arrays(tmp_path / "one" / "final.weights.h5"), h5_arrays(two_workers / "final.weights.h5")
    for name in expected_weights:
        np.testing.assert_allclose(actual_weights[name], expected_weights[name], rtol=1e-5, atol=1e-6)
    assert listing(two_workers) == listing(tmp_path / "one")  # Only the chief wrote; the workers left nothing.


def test_a_distributed_search_splits_four_trials_over_two_workers(tmp_path):
    done = zoo_launch("tune", "digits_mlp", "--trials", "4", "--workdir", str(tmp_path), "--quiet", "max_steps=2", "epochs=1")
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "random" / "results.json").read_text())
    assert results["completed"] == 4 and [trial["status"] for trial in results["trials"]] == ["ok"] * 4
    assert len({json.dumps(trial["values"], sort_keys=True) for trial in results["trials"]}) == 4
    records = [json.loads(path.read_text()) for path in (tmp_path / "random").glob("trial_*/zoo_trial.json")]
    assert len(records) == 4 and {record["trial_id"] for record in records} == {t["trial_id"] for t in results["trials"]}
    assert {record["tuner"] for record in records} <= {"tuner0", "tuner1"}  # Workers ran them, not the oracle's chief.
    best = min(results["trials"], key=lambda trial: trial["metrics"]["val_loss"])
    assert results["best_trial"] == best["trial_id"]
    assert "4/4 trials completed" in done.stdout

"""Saved work is never lost: unreadable checkpoints, failed reruns, NaN stops, a full disk.

In-process runs of perceptron_gates (16 rows, batch 6: 3 steps per epoch, a
checkpoint at the end of each epoch, so the manager keeps ckpt-6, -9, -12 of a
4-epoch run). SIGKILL at fixed points is tested in tests/test_resume.py.
"""

import json
import pathlib
import shutil

import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.engine import rundir
from zoo.engine import trainer

GATES = ["repeats=4", "batch_size=6", "hidden_units=4", "checkpoint_seconds=0"]


def train_gates(workdir, *overrides):
    """A perceptron_gates run; 4 epochs unless an override says otherwise."""
    recipe = zoo.get_recipe("perceptron_gates")
    epochs = [] if any(o.startswith("epochs=") for o in overrides) else ["epochs=4"]
    return zoo.train(recipe, zoo.make_config(recipe, [*GATES, *epochs, *overrides]), workdir, verbose=False)


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]


def records_without_time(workdir):
    records = rundir.RunDir(workdir).read_metrics()
    return [{k: v for k, v in record.items() if k != "wall_time"} for record in records]


def snapshot(workdir) -> dict:
    """Every file under `workdir` (but config.json, which records the git state) and its bytes."""
    return {
        str(path.relative_to(workdir)): path.read_bytes()
        for path in sorted(pathlib.Path(workdir).rglob("*"))
        if path.is_file() and path.name != "config.json"
    }


def assert_nothing_lost(before: dict, workdir):
    after = snapshot(workdir)
    for name, data in before.items():
        assert name in after, f"{name} was deleted"
        if not name.startswith("tensorboard"):  # An event file may still get its last flush.
            assert after[name] == data, f"{name} was changed"


def checkpoint_files(workdir, number):
    return sorted((pathlib.Path(workdir) / "checkpoints").glob(f"ckpt-{number}.*"))


def data_file(workdir, number):
    return next((pathlib.Path(workdir) / "checkpoints").glob(f"ckpt-{number}.data-*"))


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_bytes(path):
    data = bytearray(path.read_bytes())
    for index in range(len(data) // 3, len(data) // 3 + 8):
        data[index] ^= 0xFF
    path.write_bytes(bytes(data))


def delete_index(workdir, number):
    (pathlib.Path(workdir) / "checkpoints" / f"ckpt-{number}.index").unlink()


DAMAGES = {
    "truncated_data": lambda workdir: truncate(data_file(workdir, 12)),
    "corrupted_data": lambda workdir: flip_bytes(data_file(workdir, 12)),
    "truncated_index": lambda workdir: truncate(pathlib.Path(workdir) / "checkpoints" / "ckpt-12.index"),
    "missing_index": lambda workdir: delete_index(workdir, 12),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("reference")
    result = train_gates(workdir)
    return workdir, weights_of(result.model), records_without_time(workdir)


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_latest_checkpoint_is_reported_and_the_previous_one_resumes(
    tmp_path, reference, damage, caplog
):
    reference_dir, reference_weights, reference_records = reference
    train_gates(tmp_path)
    DAMAGES[damage](tmp_path)
    caplog.clear()

    resumed = train_gates(tmp_path)
    error = caplog.text  # The warnings go through absl.logging.
    assert "checkpoint" in error and "ckpt-12 is unreadable" in error, error
    assert "resuming from" in error and "ckpt-9" in error, error
    # It redid steps 10-12 from ckpt-9 and got the same weights and metrics.
    assert resumed.resumed_from_step == 9
    assert resumed.steps == 12
    for a, b in zip(reference_weights, weights_of(resumed.model)):
        np.testing.assert_array_equal(a, b)
    assert records_without_time(tmp_path) == reference_records
    # The rerun wrote a good ckpt-12 over the damaged one.
    names = [name for name, _ in tf.train.list_variables(str(tmp_path / "checkpoints" / "ckpt-12"))]
    assert "step/.ATTRIBUTES/VARIABLE_VALUE" in names


def test_when_no_checkpoint_is_readable_the_run_is_refused_and_nothing_is_deleted(tmp_path):
    train_gates(tmp_path)
    for number in (6, 9, 12):
        truncate(data_file(tmp_path, number))
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match=r"None of the 3 checkpoints .* can be read \(newest: .*ckpt-12\)"):
        train_gates(tmp_path)
    assert_nothing_lost(before, tmp_path)


def test_a_rerun_that_fails_before_training_deletes_nothing(tmp_path, monkeypatch):
    train_gates(tmp_path)
    before = snapshot(tmp_path)
    recipe = zoo.get_recipe("perceptron_gates")

    def missing_data(config):
        raise FileNotFoundError("the data file went away")

    monkeypatch.setattr(recipe.module, "load_data", missing_data)
    with pytest.raises(FileNotFoundError, match="went away"):
        train_gates(tmp_path)
    assert_nothing_lost(before, tmp_path)


POISON = tf.Variable(1.0, trainable=False)


@pytest.fixture
def poisonable_loss(monkeypatch):
    """The recipe's loss times POISON (1.0, or NaN once a test sets it)."""
    recipe = zoo.get_recipe("perceptron_gates")
    original = recipe.module.loss
    POISON.assign(1.0)
    monkeypatch.setattr(recipe.module, "loss", lambda targets, outputs: original(targets, outputs) * POISON)
    yield
    POISON.assign(1.0)


def test_nan_stops_naming_the_step_and_the_last_good_checkpoint_which_is_kept(tmp_path, monkeypatch, poisonable_loss):
    original = trainer.Trainer._end_of_epoch

    def poison_after_second_epoch(self, epoch, finished, started):
        stop = original(self, epoch, finished, started)
        if epoch == 1:
            POISON.assign(float("nan"))
        return stop

    monkeypatch.setattr(trainer.Trainer, "_end_of_epoch", poison_after_second_epoch)
    with pytest.raises(FloatingPointError) as caught:
        train_gates(tmp_path)
    message = str(caught.value)
    assert "step 7" in message and "skip_nonfinite=true" in message
    latest = str(tmp_path / "checkpoints" / "ckpt-6")
    assert f"Last good checkpoint: {latest}." in message
    # The named checkpoint is on disk, listed, readable, and holds the good state.
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")) == latest
    values = dict(
        (name, tf.train.load_variable(latest, name)) for name, _ in tf.train.list_variables(latest)
    )
    assert values["step/.ATTRIBUTES/VARIABLE_VALUE"] == 6
    assert all(np.all(np.isfinite(v)) for v in values.values() if np.issubdtype(np.asarray(v).dtype, np.floating))
    assert [r["step"] for r in rundir.RunDir(tmp_path).read_metrics()] == [3, 3, 6, 6]
    assert (tmp_path / "best.weights.h5").exists()

    # A failing rerun (still NaN) loses nothing either.
    before = snapshot(tmp_path)
    monkeypatch.setattr(trainer.Trainer, "_end_of_epoch", original)
    with pytest.raises(FloatingPointError, match="at step 7.*ckpt-6"):
        train_gates(tmp_path)
    assert_nothing_lost(before, tmp_path)

    # Once the cause is gone, the same command resumes from ckpt-6.
    POISON.assign(1.0)
    assert train_gates(tmp_path).resumed_from_step == 6


def test_skip_nonfinite_skips_counts_and_writes_the_count_to_metrics(tmp_path, poisonable_loss):
    POISON.assign(float("nan"))
    result = train_gates(tmp_path, "epochs=2", "skip_nonfinite=true")
    assert result.steps == 6 and result.nonfinite_steps == 6
    train_records = [r for r in rundir.RunDir(tmp_path).read_metrics() if r["split"] == "train"]
    assert [r["nonfinite_steps"] for r in train_records] == [3, 6]
    # No skipped step was applied: the weights are still the initial ones.
    recipe = zoo.get_recipe("perceptron_gates")
    config = zoo.make_config(recipe, [*GATES, "epochs=2", "skip_nonfinite=true"])
    fresh = trainer.Trainer(recipe, config, tmp_path / "fresh", verbose=False)
    trainer.seed_everything(config.seed)
    fresh._setup()
    for a, b in zip(weights_of(fresh.model), weights_of(result.model)):
        np.testing.assert_array_equal(a, b)


def test_finite_runs_record_zero_nonfinite_steps(tmp_path):
    train_gates(tmp_path, "epochs=1")
    assert [r.get("nonfinite_steps") for r in rundir.RunDir(tmp_path).read_metrics()] == [0, None]


# ------------------------------------------------------- before training starts


def test_a_nearly_full_disk_is_refused_before_any_data_is_loaded(tmp_path, monkeypatch):
    recipe = zoo.get_recipe("perceptron_gates")

    def must_not_load(config):
        raise AssertionError("data was loaded although the disk is full")

    monkeypatch.setattr(recipe.module, "load_data", must_not_load)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(rundir.shutil, "disk_usage", lambda path: usage._replace(free=10 * 2**20))
    with pytest.raises(ValueError, match=r"Only 10 MiB free .* at least 64 MiB"):
        train_gates(tmp_path / "run")
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_an_unwritable_workdir_is_refused_before_any_data_is_loaded(tmp_path, monkeypatch):
    recipe = zoo.get_recipe("perceptron_gates")
    monkeypatch.setattr(recipe.module, "load_data", lambda config: pytest.fail("data was loaded"))
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(ValueError, match=r"cannot be written .* pass --workdir with a writable directory"):
        train_gates(blocker / "run")


def test_a_workdir_with_enough_space_is_accepted(tmp_path, monkeypatch):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(rundir.shutil, "disk_usage", lambda path: usage._replace(free=rundir.MIN_FREE_BYTES))
    rundir.RunDir(tmp_path / "run").prepare()
    assert (tmp_path / "run").is_dir()
    assert not list((tmp_path / "run").iterdir()), "the write test must leave nothing behind"


def test_a_metrics_line_cut_by_a_kill_is_dropped_on_resume(tmp_path):
    train_gates(tmp_path, "epochs=2")
    metrics_path = tmp_path / "metrics.jsonl"
    complete = metrics_path.read_text()
    metrics_path.write_text(complete + '{"step": 7, "split": "tra')
    run = rundir.RunDir(tmp_path)
    assert len(run.read_metrics()) == 4
    run.truncate_metrics(6, keep=4)
    assert metrics_path.read_text() == complete
    assert json.loads(complete.splitlines()[-1])["step"] == 6


def test_rerunning_an_early_stopped_run_does_not_train_further(tmp_path):
    stopping = ["epochs=30", "patience=2", "learning_rate=3.0", "optimizer=sgd"]
    first = train_gates(tmp_path, *stopping)
    assert first.steps < 30 * 3, "the run should have stopped early"
    records = records_without_time(tmp_path)
    again = train_gates(tmp_path, *stopping)
    assert again.resumed_from_step == first.steps
    assert again.steps == first.steps
    assert records_without_time(tmp_path) == records
    for a, b in zip(weights_of(first.model), weights_of(again.model)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("damage", ["corrupted", "deleted"])
def test_a_damaged_checkpoint_list_still_resumes_from_the_files(tmp_path, reference, damage, caplog):
    reference_dir, reference_weights, reference_records = reference
    train_gates(tmp_path, "checkpoint_every=2")
    state = tmp_path / "checkpoints" / "checkpoint"
    if damage == "corrupted":
        state.write_text('model_checkpoint_path: "ckpt-12"\nall_model_chec')
    else:
        state.unlink()
    # Saves every 2 steps and at each epoch's end leave ckpt-9, -10 and -12 on disk;
    # ckpt-12 is damaged too, so the newest good one is ckpt-10.
    assert [number for number in (8, 9, 10, 11, 12) if checkpoint_files(tmp_path, number)] == [9, 10, 12]
    truncate(data_file(tmp_path, 12))
    caplog.clear()

    resumed = train_gates(tmp_path, "checkpoint_every=2")
    error = caplog.text  # The warnings go through absl.logging.
    assert "is missing or unreadable; trying the" in error, error
    assert "ckpt-12 is unreadable" in error and "ckpt-10" in error, error
    assert resumed.resumed_from_step == 10 and resumed.steps == 12
    for a, b in zip(reference_weights, weights_of(resumed.model)):
        np.testing.assert_array_equal(a, b)

"""The trainer: one trace, reproducible, distributed, resumable, and its outputs."""

import json
import logging

import numpy as np
import pytest
import tensorflow as tf
from absl import flags

import zoo
from zoo.engine import batches, runs, steps, trainer

# 16 training rows with batch_size 6: batches of 6, 6 and a ragged 4.
# checkpoint_seconds=0: a checkpoint at every epoch end, which these tests count on.
GATES = ["repeats=4", "batch_size=6", "hidden_units=4", "checkpoint_seconds=0"]


def train_gates(workdir, *overrides, strategy=None):
    recipe = zoo.get_recipe("perceptron_gates")
    config = zoo.make_config(recipe, [*GATES, *overrides])
    return zoo.train(recipe, config, workdir, strategy=strategy, verbose=False)


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]


@pytest.fixture(params=["in_memory", "streaming"])
def input_path(request, monkeypatch):
    """Runs a test on both input paths: the split held in memory, and streamed."""
    if request.param == "streaming":
        monkeypatch.setattr(batches, "IN_MEMORY_MAX_BYTES", 0)
    return request.param


def test_the_call_is_traced_once_for_every_chunk_length_and_a_ragged_batch(tmp_path, input_path):
    recipe = zoo.get_recipe("perceptron_gates")
    # 3 steps per epoch (6, 6, then a ragged 4) in calls of 2 and 1 steps.
    config = zoo.make_config(recipe, [*GATES, "epochs=3", "steps_per_call=2"])
    run = trainer.Trainer(recipe, config, tmp_path, verbose=False)
    result = run.fit()
    assert result.steps == 9
    assert run.batches.streaming == (input_path == "streaming")
    assert run.steps.call.experimental_get_tracing_count() == 1


def test_both_input_paths_give_the_same_batches_in_the_same_order():
    recipe = zoo.get_recipe("digits_mlp")
    splits = recipe.module.load_data(zoo.make_config(recipe))
    count = splits.info.num_examples["train"]
    strategy = tf.distribute.get_strategy()
    in_memory = batches.InMemory(splits.train, count, 100, seed=7)
    streaming = batches.Streaming(splits.train, count, 100, seed=7, strategy=strategy)
    assert batches.fits_in_memory(splits.train, count)
    for epoch in (0, 3):
        order = in_memory.epoch_order(epoch)
        for skip in (0, 5):
            streamed = list(streaming.epoch_iterator(epoch, skip))
            assert len(streamed) == 13 - skip  # 1257 rows: 12 batches of 100 and one of 57.
            for step, (features, targets) in enumerate(streamed, start=skip):
                gathered_features, gathered_targets = in_memory.batch(order, step)
                np.testing.assert_array_equal(gathered_features, features)
                np.testing.assert_array_equal(gathered_targets, targets)
    assert not np.array_equal(in_memory.epoch_order(0), in_memory.epoch_order(1))


def test_the_compiled_epoch_order_is_tf_datas_shuffle_under_every_global_seed():
    """epoch_order draws in a tf.function; it must give the eagerly built pipeline's order,
    under every global seed, also after it changes (a compiled function keeps nothing of it)."""
    in_memory = batches.InMemory(tf.data.Dataset.range(50).map(lambda i: (i, i)), 50, 8, seed=3)

    def eager_order(epoch):
        shuffled = tf.data.Dataset.range(50).shuffle(50, seed=batches.order_seed(3, epoch), reshuffle_each_iteration=False)
        return shuffled.batch(50).get_single_element().numpy()

    try:
        for global_seed in (None, 0, 11, 0):
            if global_seed is not None:
                tf.random.set_seed(global_seed)
            for epoch in (0, 1, 5):
                np.testing.assert_array_equal(in_memory.epoch_order(epoch).numpy(), eager_order(epoch))
    finally:
        tf.random.set_seed(None)


def test_both_input_paths_train_bit_identically(tmp_path, monkeypatch):
    in_memory = train_gates(tmp_path / "memory", "epochs=3", "steps_per_call=2", "learning_rate=0.1")
    monkeypatch.setattr(batches, "IN_MEMORY_MAX_BYTES", 0)
    streamed = train_gates(tmp_path / "stream", "epochs=3", "steps_per_call=2", "learning_rate=0.1")
    for a, b in zip(weights_of(in_memory.model), weights_of(streamed.model)):
        np.testing.assert_array_equal(a, b)
    without_time = lambda history: [{k: v for k, v in r.items() if k != "wall_time"} for r in history]  # noqa: E731
    assert without_time(in_memory.history) == without_time(streamed.history)


@pytest.fixture(scope="module")
def one_step_per_call(tmp_path_factory):
    """The reference of the steps_per_call cases: one optimizer step per compiled call."""
    return train_gates(tmp_path_factory.mktemp("one_step_per_call"), "epochs=3", "checkpoint_every=2", "steps_per_call=1")


# Epochs of 3 steps, checkpoints every 2: a call of up to 4 or 32 steps is cut at each of those
# boundaries. (Two runs with the same steps_per_call are the same-seed test below.)
@pytest.mark.parametrize("steps_per_call", [4, 32])
def test_steps_per_call_changes_nothing_but_the_speed(tmp_path, one_step_per_call, steps_per_call):
    reference = one_step_per_call
    chunked = train_gates(tmp_path / "many", "epochs=3", "checkpoint_every=2", f"steps_per_call={steps_per_call}")
    for a, b in zip(weights_of(reference.model), weights_of(chunked.model)):
        np.testing.assert_array_equal(a, b)
    assert [r["loss"] for r in reference.history] == [r["loss"] for r in chunked.history]


def test_a_resume_may_change_steps_per_call_but_not_what_training_computes(tmp_path):
    train_gates(tmp_path, "epochs=1", "steps_per_call=1")
    resumed = train_gates(tmp_path, "epochs=1", "steps_per_call=8")
    assert resumed.resumed_from_step == 3
    with pytest.raises(ValueError, match=r"different config \(learning_rate"):
        train_gates(tmp_path, "epochs=1", "learning_rate=0.5")


def test_same_seed_gives_bit_identical_weights_and_other_seed_differs(tmp_path):
    first = train_gates(tmp_path / "a", "epochs=3", "seed=3")
    second = train_gates(tmp_path / "b", "epochs=3", "seed=3")
    other = train_gates(tmp_path / "c", "epochs=3", "seed=4")
    for a, b in zip(weights_of(first.model), weights_of(second.model)):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(weights_of(first.model), weights_of(other.model)))


def test_mirrored_strategy_on_two_cpus_matches_one_device(tmp_path, input_path):
    single = train_gates(tmp_path / "one", "epochs=2", "grad_clip_norm=0.5")
    mirrored_strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored_strategy.num_replicas_in_sync == 2
    mirrored = train_gates(tmp_path / "two", "epochs=2", "grad_clip_norm=0.5", strategy=mirrored_strategy)
    for a, b in zip(single.history, mirrored.history):
        assert a["split"] == b["split"]
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5, abs=1e-6)
        assert a.get("grad_norm", 0) == pytest.approx(b.get("grad_norm", 0), rel=1e-5, abs=1e-6)
    for a, b in zip(weights_of(single.model), weights_of(mirrored.model)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_interrupted_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    reference = train_gates(tmp_path / "reference", "epochs=4")

    original = trainer.Trainer._end_of_epoch

    def crash_after_second_epoch(self, epoch, finished, started):
        stop = original(self, epoch, finished, started)
        if epoch == 1:
            raise KeyboardInterrupt("simulated kill after epoch 2's checkpoint")
        return stop

    monkeypatch.setattr(trainer.Trainer, "_end_of_epoch", crash_after_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        train_gates(tmp_path / "resumed", "epochs=4")
    monkeypatch.setattr(trainer.Trainer, "_end_of_epoch", original)

    resumed = train_gates(tmp_path / "resumed", "epochs=4")
    assert resumed.resumed_from_step == 6
    assert resumed.steps == reference.steps == 12
    for a, b in zip(weights_of(reference.model), weights_of(resumed.model)):
        np.testing.assert_array_equal(a, b)
    steps = [(r["step"], r["split"]) for r in resumed.history]
    assert steps == [(s, split) for s in (3, 6, 9, 12) for split in ("train", "validation")]


def test_a_workdir_with_another_config_is_refused(tmp_path):
    train_gates(tmp_path, "epochs=1")
    with pytest.raises(ValueError, match=r"different config \(epochs: 1 -> 2\)"):
        train_gates(tmp_path, "epochs=2")
    # Nothing that was saved is lost.
    assert (tmp_path / "final.weights.h5").exists() and (tmp_path / "checkpoints").is_dir()


def test_run_directory_outputs(tmp_path):
    result = train_gates(tmp_path, "epochs=2")
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["recipe"] == "perceptron_gates"
    assert saved["config"]["epochs"] == 2
    assert saved["versions"]["tensorflow"] == tf.__version__
    assert "git_commit" in saved
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["split"] for r in records] == ["train", "validation"] * 2
    for record in records:
        assert {"step", "epoch", "split", "loss", "accuracy"} <= set(record)
    assert records == result.history
    for name in ("final.weights.h5", "best.weights.h5", "curves.png", "truth_table.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((tmp_path / "tensorboard" / "train").glob("events.out.tfevents.*"))
    assert list((tmp_path / "tensorboard" / "validation").glob("events.out.tfevents.*"))


def test_gradient_clipping_logs_norms_before_and_after(tmp_path):
    result = train_gates(tmp_path, "epochs=2", "grad_clip_norm=0.01", "learning_rate=0.5")
    train_records = [r for r in result.history if r["split"] == "train"]
    for record in train_records:
        assert record["grad_norm"] > 0.01
        assert record["clipped_grad_norm"] == pytest.approx(0.01, rel=1e-5)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adagrad", "adadelta", "rmsprop"])
def test_every_optimizer_trains(tmp_path, optimizer):
    result = train_gates(tmp_path, "epochs=1", f"optimizer={optimizer}", "lr_schedule=cosine")
    assert result.steps == 3 and np.isfinite(result.best["loss"])


def test_max_steps_stops_mid_epoch(tmp_path):
    result = train_gates(tmp_path, "epochs=5", "max_steps=4")
    assert result.steps == 4
    assert result.history[-1]["step"] == 4


def test_early_stopping_restores_the_best_weights(tmp_path):
    # A learning rate this large makes the validation loss bounce around.
    result = train_gates(tmp_path, "epochs=30", "patience=2", "learning_rate=3.0", "optimizer=sgd")
    validation = [r for r in result.history if r["split"] == "validation"]
    assert len(validation) < 30, "early stopping should have cut the run short"
    best = min(validation, key=lambda r: r["loss"])
    assert best["epoch"] <= len(validation) - 2
    restored = runs.evaluate_model(zoo.get_recipe("perceptron_gates"), result.model, result.splits, "validation")
    assert restored["loss"] == pytest.approx(best["loss"], rel=1e-6)


def test_nonfinite_loss_stops_with_step_and_checkpoint_or_is_skipped(tmp_path):
    recipe = zoo.get_recipe("perceptron_gates")
    config = zoo.make_config(recipe, [*GATES, "epochs=2"])
    original_loss = recipe.module.loss

    def poisoned(targets, outputs):
        return original_loss(targets, outputs) * tf.constant(float("nan"))

    recipe.module.loss = poisoned
    try:
        with pytest.raises(FloatingPointError, match="Non-finite loss or gradient at step 1"):
            zoo.train(recipe, config, tmp_path / "stop", verbose=False)
        skipping = zoo.make_config(recipe, [*GATES, "epochs=2", "skip_nonfinite=true"])
        result = zoo.train(recipe, skipping, tmp_path / "skip", verbose=False)
    finally:
        recipe.module.loss = original_loss
    assert result.nonfinite_steps == 6 and result.steps == 6


def test_evaluate_reports_test_metrics_of_best_weights(tmp_path):
    result = train_gates(tmp_path, "epochs=2")
    metrics = zoo.evaluate(zoo.get_recipe("perceptron_gates"), tmp_path, split="validation")
    assert metrics["loss"] == pytest.approx(result.best["loss"], rel=1e-6)
    with pytest.raises(FileNotFoundError, match="no config.json"):
        zoo.evaluate(zoo.get_recipe("perceptron_gates"), tmp_path / "missing")


def test_mixed_bfloat16_policy_trains_and_is_restored(tmp_path):
    import keras

    result = train_gates(tmp_path, "epochs=1", "precision=mixed_bfloat16")
    assert np.isfinite(result.best["loss"])
    assert keras.mixed_precision.dtype_policy().name == "float32"


@pytest.mark.parametrize("seconds, expected", [(0.0, [3, 6, 9]), (3600.0, [9])])
def test_epoch_end_checkpoints_follow_checkpoint_seconds(tmp_path, seconds, expected):
    recipe = zoo.get_recipe("perceptron_gates")
    config = zoo.make_config(recipe, [*GATES[:-1], "epochs=3", f"checkpoint_seconds={seconds}"])
    run = trainer.Trainer(recipe, config, tmp_path, verbose=False)
    run.fit()
    saved = sorted(int(path.rsplit("-", 1)[1]) for path in run.checkpoints.manager.checkpoints)
    assert saved == expected  # The last epoch is always checkpointed.


def test_skipped_steps_leave_the_mean_gradient_norms_of_the_applied_steps(tmp_path, monkeypatch):
    """With skip_nonfinite, an epoch's grad_norm is the mean over the steps that were applied."""
    gradients = steps.TrainSteps.replica_gradients

    def second_step_of_each_epoch_is_nan(self, features, targets, global_count):
        loss, sums, grads = gradients(self, features, targets, global_count)
        bad = tf.equal(self.state.step % 3, 1)  # 3 steps per epoch; the step counter is 0-based here.
        return loss, sums, [tf.where(bad, tf.fill(tf.shape(g), float("nan")), g) for g in grads]

    per_step = []
    after_call = trainer.Trainer._after_call

    def record(self, step, outputs):
        per_step.append((step, bool(outputs["finite"]), float(outputs["grad_norm"])))
        after_call(self, step, outputs)

    monkeypatch.setattr(steps.TrainSteps, "replica_gradients", second_step_of_each_epoch_is_nan)
    monkeypatch.setattr(trainer.Trainer, "_after_call", record)
    result = train_gates(tmp_path, "epochs=2", "skip_nonfinite=true", "steps_per_call=1")
    assert result.nonfinite_steps == 2
    assert [finite for _, finite, _ in per_step] == [True, False, True] * 2
    for epoch, record in enumerate(r for r in result.history if r["split"] == "train"):
        applied = [norm for step, finite, norm in per_step[3 * epoch : 3 * epoch + 3] if finite]
        assert record["grad_norm"] == pytest.approx(sum(applied) / 2, rel=1e-6)


@pytest.fixture
def absl_flags_parsed(request):
    """absl's flags parsed (as under the CLI) or not (a notebook); restored after the test."""
    was_parsed = flags.FLAGS.is_parsed()
    if request.param:
        flags.FLAGS.mark_as_parsed()
    else:
        flags.FLAGS.unparse_flags()
    yield request.param
    flags.FLAGS.unparse_flags()
    if was_parsed:
        flags.FLAGS.mark_as_parsed()


@pytest.mark.parametrize("absl_flags_parsed", [False], indirect=True)
def test_outside_an_absl_program_the_lines_are_printed(tmp_path, capsys, absl_flags_parsed):
    recipe = zoo.get_recipe("perceptron_gates")
    zoo.train(recipe, zoo.make_config(recipe, [*GATES, "epochs=2"]), tmp_path, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("epoch ")] == ["epoch 1/2 step 3", "epoch 2/2 step 6"]


@pytest.mark.parametrize("absl_flags_parsed", [True], indirect=True)
def test_a_log_file_gets_plain_lines_not_progress_bar_redraws(tmp_path, capsys, caplog, monkeypatch, absl_flags_parsed):
    """stdout is not a terminal under pytest, as in CI, nohup or tee: no progress bar, and through
    absl.logging one line per epoch, and a progress line within a long epoch, with no escape codes
    or carriage returns."""
    monkeypatch.setattr(trainer, "PROGRESS_SECONDS", 0.0)  # Every call of a long epoch gets its line.
    caplog.set_level(logging.INFO, logger="absl")
    recipe = zoo.get_recipe("perceptron_gates")
    config = zoo.make_config(recipe, [*GATES, "epochs=2", "steps_per_call=1"])
    zoo.train(recipe, config, tmp_path, verbose=True)
    out = capsys.readouterr().out
    lines = [record.getMessage() for record in caplog.records if record.name == "absl"]
    assert "\x1b[" not in out + "".join(lines) and "\r" not in out + "".join(lines)
    assert sum(line.startswith("epoch 1/2 step 3:") for line in lines) == 1
    assert any(line.startswith("epoch 2/2 step 5 (2/3): loss=") and line.endswith("steps/s") for line in lines)

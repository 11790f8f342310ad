"""Generated from the registry: every recipe's short fixed run reaches its golden losses,
reloads exactly and (if it can) generates.

A new file in recipes/ is picked up here with no test written for it.

One run per recipe serves both tests: the golden run of tests/record_golden.py (seed 0,
3 steps of batch 8 at small widths), trained once by the module-scoped `short_run`
fixture. Its losses must match tests/golden_losses.json to GOLDEN_RTOL. A recipe whose
values are not recorded yet (a fresh copy of a recipe, say) is skipped with the command
that records them (`python -m tests.record_golden NAME`); a shipped recipe (one in
pretrained/manifest.json) without them fails. Values are CPU values.
"""

import contextlib
import dataclasses

import numpy as np
import pytest
import tensorflow_datasets as tfds

import record_golden
import zoo
from zoo.engine import runs
from zoo.hub import pretrained

GOLDEN = record_golden.read()
SHIPPED = pretrained.read_manifest()["models"]


@dataclasses.dataclass
class ShortRun:
    name: str
    recipe: object
    config: object
    workdir: object
    result: object
    mocked: bool  # Trained on tfds mock data: its default dataset needs a download.


@pytest.fixture(scope="module", params=zoo.list_recipes())
def short_run(request, tmp_path_factory):
    """The golden run of recipe `request.param`, in a workdir of its own; real data where
    it is available offline, tfds mock data for a recipe whose default dataset needs a
    download (kept active while the tests use the run)."""
    name = request.param
    recipe = zoo.get_recipe(name)
    config = zoo.make_config(recipe, record_golden.overrides(recipe.Config))
    try:
        recipe.module.load_data(config)
        mocked, data = False, contextlib.nullcontext()
    except FileNotFoundError:
        mocked, data = True, tfds.testing.mock_data(num_examples=24)
    with data:
        workdir = tmp_path_factory.mktemp(name)
        result = zoo.train(recipe, config, workdir, verbose=False)
        yield ShortRun(name, recipe, config, workdir, result, mocked)


def test_short_run_reaches_the_golden_losses(short_run):
    name = short_run.name
    if name not in GOLDEN:
        message = (
            f"recipe {name!r} has no golden losses in tests/golden_losses.json yet; record them with "
            f"`{record_golden.RECORD_COMMAND} {name}` and commit the file."
        )
        if name in SHIPPED:
            pytest.fail(f"{message} It ships a checkpoint, so its losses must be recorded.")
        pytest.skip(f"not recorded yet: {message}")
    expected = GOLDEN[name]
    if "unavailable" in expected or short_run.mocked:
        if short_run.mocked:
            pytest.skip(f"{name}: its data cannot be loaded here, so it trained on mock data")
        pytest.fail(f"{name}: its data loads now; record its golden losses with `{record_golden.RECORD_COMMAND} {name}`.")

    assert expected["overrides"] == record_golden.overrides(short_run.recipe.Config), (
        f"{name}: the golden run's overrides changed; re-record with `{record_golden.RECORD_COMMAND} {name}`."
    )
    actual = record_golden.losses(short_run.result)
    message = (
        f"{name}: training changed. If that is intended, re-record with "
        f"`{record_golden.RECORD_COMMAND} {name}` and say why in the commit."
    )
    assert actual["train_loss"] == pytest.approx(expected["train_loss"], rel=record_golden.GOLDEN_RTOL), message
    assert actual["validation_loss"] == pytest.approx(expected["validation_loss"], rel=record_golden.GOLDEN_RTOL), message


def test_recipe_trains_and_its_checkpoint_reloads_identically(short_run):
    recipe, config, workdir, result = short_run.recipe, short_run.config, short_run.workdir, short_run.result

    assert result.steps == record_golden.STEPS
    records = [r for r in result.history if r["split"] == "validation"]
    assert records and all(np.isfinite(r["loss"]) for r in records)
    assert np.isfinite(result.history[0]["loss"])

    features, _ = next(iter(result.splits.validation.batch(8)))
    expected = np.asarray(result.model(features, training=False))

    # Rerunning the same command restores the checkpoint and trains no further.
    again = zoo.train(recipe, config, workdir, verbose=False)
    assert again.resumed_from_step == record_golden.STEPS and again.steps == record_golden.STEPS
    np.testing.assert_array_equal(np.asarray(again.model(features, training=False)), expected)

    # The run reloaded from its files (config.json and the best weights) is the same model,
    # rebuilt from the recipe's code.
    run = runs.load_run(recipe, workdir)
    assert run.config == config and run.weights == workdir / "best.weights.h5"
    np.testing.assert_array_equal(np.asarray(run.model(features, training=False)), expected)

    # A recipe that generates does so from the reloaded run, deterministically.
    generate = recipe.hook("generate")
    if generate is not None:
        prompt = run.info.vocabulary[-1]
        text = generate(run.model, run.info, run.config, prompt, 5, 1.0, 0)
        assert text.startswith(prompt) and len(text) == len(prompt) + 5
        assert generate(run.model, run.info, run.config, prompt, 5, 1.0, 0) == text


def test_golden_runs_are_bit_reproducible_in_one_process():
    """The premise of a tight tolerance: the same run twice gives the very same losses."""
    first = record_golden.golden_run("digits_mlp")
    second = record_golden.golden_run("digits_mlp")
    assert first == second

"""Generated from the registry: every recipe trains a few steps, reloads exactly and (if it can) generates.

A new file in recipes/ is picked up here with no test written for it.
"""

import contextlib

import numpy as np
import pytest
import tensorflow_datasets as tfds

import zoo
from zoo.engine import runs

# Small enough for every recipe's default data and model to take a few seconds.
SMOKE = {"max_steps": 2, "epochs": 1, "batch_size": 8}


def first_batch(splits, size=8):
    features, _ = next(iter(splits.validation.batch(size)))
    return features


def data_source(recipe, config):
    """Real data where it is available offline; tfds mock data for a recipe whose
    default dataset needs a download."""
    try:
        recipe.module.load_data(config)
    except FileNotFoundError:
        return tfds.testing.mock_data(num_examples=24)
    return contextlib.nullcontext()


@pytest.mark.parametrize("name", zoo.list_recipes())
def test_recipe_trains_and_its_checkpoint_reloads_identically(name, tmp_path):
    recipe = zoo.get_recipe(name)
    config = zoo.make_config(recipe, SMOKE)
    with data_source(recipe, config):
        _train_and_reload(recipe, config, tmp_path)


def _train_and_reload(recipe, config, tmp_path):
    result = zoo.train(recipe, config, tmp_path, verbose=False)

    assert result.steps == 2
    records = [r for r in result.history if r["split"] == "validation"]
    assert records and all(np.isfinite(r["loss"]) for r in records)
    assert np.isfinite(result.history[0]["loss"])

    features = first_batch(result.splits)
    expected = np.asarray(result.model(features, training=False))

    # Rerunning the same command restores the checkpoint and trains no further.
    again = zoo.train(recipe, config, tmp_path, verbose=False)
    assert again.resumed_from_step == 2 and again.steps == 2
    np.testing.assert_array_equal(np.asarray(again.model(features, training=False)), expected)

    # The saved weights file rebuilds the same model from the recipe's code.
    rebuilt, _ = runs.load_model(recipe, config, tmp_path / "best.weights.h5")
    np.testing.assert_array_equal(np.asarray(rebuilt(features, training=False)), expected)

    # A recipe that generates does so from the reloaded run, deterministically.
    generate = recipe.hook("generate")
    if generate is not None:
        run = runs.load_run(recipe, tmp_path)
        prompt = run.info.vocabulary[-1]
        text = generate(run.model, run.info, run.config, prompt, 5, 1.0, 0)
        assert text.startswith(prompt) and len(text) == len(prompt) + 5
        assert generate(run.model, run.info, run.config, prompt, 5, 1.0, 0) == text

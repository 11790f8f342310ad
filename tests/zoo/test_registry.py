"""The registry finds recipes by file name; copying a file makes a new recipe."""

import os
import shutil

import numpy as np
import pytest

import zoo
from zoo import registry


def test_lists_the_shipped_recipes_and_skips_helpers():
    names = zoo.list_recipes()
    for expected in ("perceptron_gates", "digits_mlp", "binary_mlp", "regression_mlp", "playground_mlp"):
        assert expected in names
    assert "_common" not in names and names == sorted(names)


def test_unknown_recipe_lists_known_names():
    with pytest.raises(ValueError) as error:
        zoo.get_recipe("not_a_recipe")
    assert "Unknown recipe 'not_a_recipe'" in str(error.value)
    assert "digits_mlp" in str(error.value)


def test_every_recipe_honours_the_contract():
    for name in zoo.list_recipes():
        recipe = zoo.get_recipe(name)
        fields = recipe.Config.__dataclass_fields__
        assert set(registry.COMMON_KEYS) <= set(fields), name
        assert recipe.module.__doc__ and "make train MODEL=" + name in recipe.module.__doc__, name
        assert recipe.headline in {"loss", *recipe.module.METRICS}


def test_copying_a_recipe_file_gives_a_new_trainable_recipe(tmp_path):
    name = f"copied_recipe_{os.getpid()}"
    target = registry.recipes_dir() / f"{name}.py"
    shutil.copy(registry.recipes_dir() / "perceptron_gates.py", target)
    try:
        assert name in zoo.list_recipes()
        recipe = zoo.get_recipe(name)
        config = zoo.make_config(recipe, ["epochs=1", "repeats=2"])
        result = zoo.train(recipe, config, tmp_path / "run", verbose=False)
        assert result.steps == 1
        assert np.isfinite(result.history[-1]["loss"])
    finally:
        target.unlink()
        registry._load.cache_clear()

"""The zoo: named recipes, one trainer, checkpoints and pretrained weights.

    import zoo
    zoo.list_recipes()                       # ['binary_mlp', 'digits_mlp', ...]
    recipe = zoo.get_recipe("digits_mlp")
    config = zoo.make_config(recipe, {"epochs": 3})
    result = zoo.train(recipe, config, "runs/digits_mlp")

The command line (`python -m zoo ...`, see zoo/commands/cli.py) wraps the same calls.
The names below are imported on first use, so `python -m zoo` can set up its
stderr before TensorFlow loads.
"""

import importlib
import importlib.util

_EXPORTS = {
    "Recipe": "zoo.engine.registry",
    "get_recipe": "zoo.engine.registry",
    "list_recipes": "zoo.engine.registry",
    "TrainResult": "zoo.engine.trainer",
    "train": "zoo.engine.trainer",
    "evaluate": "zoo.engine.runs",
    "load_model": "zoo.engine.runs",
    "load_run": "zoo.engine.runs",
    "load_pretrained": "zoo.hub.pretrained",
}

__all__ = sorted([*_EXPORTS, "make_config"])


def make_config(recipe, overrides=None):
    """The recipe's Config with `overrides` (a dict or ["key=value", ...]) applied."""
    from zoo.engine import config, registry

    if isinstance(recipe, str):
        recipe = registry.get_recipe(recipe)
    return config.make_config(recipe.Config, overrides)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if importlib.util.find_spec(f"zoo.{name}") is not None:  # zoo.hub.pretrained, zoo.engine.runs, ...
        return importlib.import_module(f"zoo.{name}")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")

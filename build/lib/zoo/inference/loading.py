"""The one way to get a trained model: a run directory's weights, or the shipped checkpoint.

    loaded = load("digits_mlp", pretrained=True)    # verified shipped weights
    loaded = load("digits_mlp", "runs/digits_mlp")  # a run's best weights
    loaded.model, loaded.config, loaded.info, loaded.recipe

Every inference function (predict, generate, translate, forecast, features,
attention, export) takes such an object, or a recipe's name, which `resolve`
turns into its shipped checkpoint once per process: load once, ask many times.
"""

import functools

from zoo import errors
from zoo.engine import registry, rundir


def load(recipe, workdir=None, *, pretrained: bool = False, weights: str = "best"):
    """A trained model of `recipe`, with its config, dataset info and splits.

    Args:
        recipe: a recipe's name, a recipe file's path, or a `Recipe`.
        workdir: the run directory (default runs/NAME); not with `pretrained`.
        pretrained: the zoo's shipped, hash-checked checkpoint instead of a run.
        weights: a run's "best" (lowest validation loss) or "final" weights.

    Returns:
        An object with `model`, `config`, `info`, `splits` and `recipe`: an
        `engine.runs.LoadedRun`, or a `hub.pretrained.Pretrained`.

    Raises:
        errors.UserError: both `workdir` and `pretrained`, `pretrained` for a
            recipe file, no such run or checkpoint, or a file that fails its check.
    """
    if pretrained and workdir is not None:
        raise errors.UserError("Give either a workdir or pretrained=True (--workdir or --pretrained), not both.")
    if isinstance(recipe, str):
        recipe = registry.get_recipe(recipe)
    if pretrained:
        from zoo.hub import pretrained as hub

        if recipe.path is not None and recipe.path.parent != registry.recipes_dir():
            raise errors.UserError(
                f"--pretrained loads the zoo's shipped {recipe.name} weights into the zoo's own recipe, not into "
                f"{recipe.path}; train your file first and pass --workdir instead."
            )
        return hub.load(recipe.name)
    from zoo.engine import runs

    return runs.load_run(recipe, workdir or rundir.default_workdir(recipe.name), weights)


def resolve(model):
    """`model` if it is already loaded; a recipe's name means its shipped checkpoint (loaded once)."""
    if isinstance(model, str):
        return _shipped(model)
    if not all(hasattr(model, attribute) for attribute in ("model", "config", "info", "recipe")):
        raise TypeError(
            f"expected what zoo.load returns, or a recipe's name; got {type(model).__name__}. "
            "Load one with zoo.load(name, pretrained=True) or zoo.load(name, workdir)."
        )
    return model


@functools.lru_cache(maxsize=8)
def _shipped(name: str):
    return load(name, pretrained=True)

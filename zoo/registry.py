"""Finds recipes by module path: `recipes/NAME.py` is the recipe NAME.

There is no decorator and no list to edit. Copying a recipe file under a new
name makes a new recipe. Files whose names start with `_` are helpers.

A recipe module must define:

    Config          frozen dataclass subclassing recipes._common.TrainConfig
    load_data       (config) -> datasets.Splits
    build_model     (config, info) -> keras.Model
    loss            (targets, outputs) -> per-example loss
    METRICS         {name: (targets, outputs) -> per-example value}
    HEADLINE        the METRICS name (or "loss") that summarises a run
    TASK            a short word for `zoo list`: classification, regression, ...

and may define `report(model, splits, config, workdir) -> dict` (run after
training, e.g. to draw a decision boundary), `generate` and `predict`.
"""

import dataclasses
import functools
import importlib
import pathlib

import recipes

from zoo import errors

REQUIRED = ("Config", "load_data", "build_model", "loss", "METRICS", "HEADLINE", "TASK")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A loaded recipe module plus the few facts the zoo reads from it."""

    name: str
    module: object

    @property
    def Config(self):  # noqa: N802 (mirrors the module attribute)
        return self.module.Config

    @property
    def summary(self) -> str:
        doc = (self.module.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    @property
    def task(self) -> str:
        return self.module.TASK

    @property
    def headline(self) -> str:
        return self.module.HEADLINE

    def hook(self, name: str):
        """An optional module function (`report`, `generate`, ...) or None."""
        return getattr(self.module, name, None)


def recipes_dir() -> pathlib.Path:
    return pathlib.Path(recipes.__file__).parent


def list_recipes() -> list:
    """Names of all recipes, sorted: the `*.py` files in recipes/ not starting with `_`."""
    return sorted(
        path.stem
        for path in recipes_dir().glob("*.py")
        if not path.stem.startswith("_") and path.stem.isidentifier()
    )


def get_recipe(name: str) -> Recipe:
    """Imports and checks recipe `name`.

    Raises:
        ValueError: the name is unknown (the message lists the known names), or
            the module breaks the recipe contract.
    """
    known = list_recipes()
    if name not in known:
        raise errors.UserError(f"Unknown recipe {name!r}. Known recipes: {', '.join(known)}.")
    return _load(name)


@functools.lru_cache(maxsize=None)
def _load(name: str) -> Recipe:
    module = importlib.import_module(f"recipes.{name}")
    missing = [attribute for attribute in REQUIRED if not hasattr(module, attribute)]
    if missing:
        raise ValueError(
            f"Recipe {name!r} (recipes/{name}.py) is missing {', '.join(missing)}; "
            "see the recipe contract in zoo/registry.py."
        )
    from recipes import _common

    if not (isinstance(module.Config, type) and issubclass(module.Config, _common.TrainConfig)):
        raise ValueError(
            f"Recipe {name!r}: its Config does not subclass recipes._common.TrainConfig, which "
            "gives it the keys the trainer reads (seed, epochs, batch_size, ...)."
        )
    headline_names = set(module.METRICS) | {"loss"}
    if module.HEADLINE not in headline_names:
        raise ValueError(
            f"Recipe {name!r}: HEADLINE {module.HEADLINE!r} is not one of "
            f"{sorted(headline_names)}."
        )
    return Recipe(name=name, module=module)

"""Finds recipes: `recipes/NAME.py` is the recipe NAME, and so is any `path/to/NAME.py`.

There is no decorator and no list to edit. Copying a recipe file under a new
name makes a new recipe, in recipes/ or in a folder of your own
(`python -m zoo train path/to/my_recipe.py`). Files whose names start with `_`
are helpers.

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

Two ways in. `describe(name)` reads what `zoo list` shows and the recipe's
Config without importing Keras: the docstring, TASK and HEADLINE are read from
the file's syntax tree, and the Config class is run on its own, with only the
standard library and recipes._common (which loads Keras on first use). So a
user's typo is reported before TensorFlow loads. `get_recipe(name)` imports the
whole module, for training and inference.
"""

import ast
import builtins
import dataclasses
import functools
import hashlib
import importlib
import importlib.util
import pathlib
import sys

import recipes

from zoo import errors, files

REQUIRED = ("Config", "load_data", "build_model", "loss", "METRICS", "HEADLINE", "TASK")


def recipes_dir() -> pathlib.Path:
    """The folder of the zoo's own recipes (inside the installed package or the checkout)."""
    return pathlib.Path(recipes.__file__).resolve().parent


def list_recipes() -> list:
    """Names of the zoo's recipes, sorted: the `*.py` files in recipes/ not starting with `_`."""
    return sorted(
        path.stem
        for path in recipes_dir().glob("*.py")
        if not path.stem.startswith("_") and path.stem.isidentifier()
    )


def is_path(name: str) -> bool:
    """Whether `name` names a recipe file (`my_recipe.py`, `dir/my_recipe`) rather than a zoo recipe."""
    return name.endswith(".py") or "/" in name or "\\" in name


def locate(name: str):
    """(recipe name, file) for a zoo recipe's name or a recipe file's path.

    A path is resolved once, here, and the file returned is the one that both
    `describe` (which checks the overrides against its Config) and `get_recipe`
    (which runs it) read. A symbolic link (or a path through linked folders)
    works when it keeps the file's name: `mine/digits_mlp.py` linked to
    recipes/digits_mlp.py is the zoo's digits_mlp, one linked to a file
    elsewhere is that file. A link whose name differs from its target's is
    refused: the recipe's name is its file's name, and a link `binary_mlp.py`
    to recipes/digits_mlp.py would give one file two names (and the name of
    another of the zoo's recipes).

    Raises:
        errors.UserError: an unknown name (the message lists the known ones), a
            path that is not a `.py` file whose stem is a Python identifier, or a
            link whose name is not its target's.
        errors.MissingFileError: the path does not exist.
    """
    name = str(name)
    if not is_path(name):
        known = list_recipes()
        if name not in known:
            raise errors.UserError(
                f"Unknown recipe {name!r}. Known recipes: {', '.join(known)}; or pass a recipe file's path "
                "(path/to/my_recipe.py)."
            )
        return name, recipes_dir() / f"{name}.py"
    path = pathlib.Path(name).expanduser()
    if path.suffix != ".py":
        raise errors.UserError(f"recipe file {path} must be a Python file ending in .py.")
    if not path.is_file():
        raise errors.MissingFileError(f"recipe file {path} does not exist; pass the path of a recipe's .py file.")
    if not path.stem.isidentifier() or path.stem.startswith("_"):
        raise errors.UserError(
            f"recipe file {path}: its name {path.stem!r} must be a Python identifier not starting with '_' "
            "(it becomes the recipe's name)."
        )
    resolved = path.resolve()  # Resolved once: every later step reads this file, and no other.
    if resolved.stem != path.stem:
        raise errors.UserError(
            f"recipe file {path} is a symbolic link to {resolved}, whose name {resolved.stem!r} is not "
            f"{path.stem!r}; a recipe's name is its file's name, so a link must keep it. Link it as "
            f"{path.with_name(resolved.name)}, or replace the link with a copy of the file to make a recipe "
            f"{path.stem!r} of its own."
        )
    return path.stem, resolved


@dataclasses.dataclass(frozen=True)
class Description:
    """What the zoo knows of a recipe without importing its model code."""

    name: str
    path: pathlib.Path
    summary: str  # The docstring's first line.
    task: str
    headline: str
    Config: type  # noqa: N815 (mirrors the module attribute)
    hooks: frozenset = frozenset()  # The module's top-level function names.

    @property
    def dataset(self) -> str:
        return self.Config().dataset

    def hook(self, name: str):
        """Like Recipe.hook, but only whether it exists: the name if the module defines it, else None."""
        return name if name in self.hooks else None


def recipes_with(hook: str) -> list:
    """The zoo's recipes that define the function `hook` (`generate`, `translate`, ...), read without importing them."""
    return [name for name in list_recipes() if describe(name).hook(hook)]


def require_hook(recipe, hook: str, lacking: str):
    """`recipe.hook(hook)` (a Recipe's function, or a Description's name), or a UserError naming the
    recipes that have it; `lacking` says what the recipe cannot do, e.g. "cannot generate"."""
    found = recipe.hook(hook)
    if found is None:
        able = recipes_with(hook)
        raise errors.UserError(
            f"recipe {recipe.name!r} {lacking} (it has no `{hook}` hook); recipes that have one: {', '.join(able) or 'none'}."
        )
    return found


def describe(name: str) -> Description:
    """The recipe's list row and Config, read without importing Keras (see the module docstring)."""
    name, path = locate(name)
    return _describe(name, path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=None)
def _describe(name, path, mtime):
    source = path.read_text()
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError:
        tree = None
    constants = _constants(tree) if tree is not None else {}
    config = _config_alone(tree, path) if tree is not None else None
    if config is None or not all(isinstance(constants.get(key), str) for key in ("TASK", "HEADLINE")):
        # Not the simple shape (a Config that needs the module's other imports,
        # or TASK/HEADLINE computed): import the module, which is always right.
        recipe = get_recipe(name if path.parent == recipes_dir() else str(path))
        hooks = frozenset(key for key, value in vars(recipe.module).items() if callable(value) and not isinstance(value, type))
        return Description(name, path, recipe.summary, recipe.task, recipe.headline, recipe.Config, hooks)
    doc = (ast.get_docstring(tree) or "").strip()
    summary = doc.splitlines()[0] if doc else ""
    hooks = frozenset(node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return Description(name, path, summary, constants["TASK"], constants["HEADLINE"], config, hooks)


def _constants(tree) -> dict:
    """Module-level `NAME = "literal"` assignments."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if isinstance(node.value, ast.Constant):
                found[node.targets[0].id] = node.value.value
    return found


# What a Config class may use when it is run on its own.
_LIGHT_MODULES = frozenset({"recipes", "recipes._common"})


def _config_alone(tree, path):
    """The module's Config class, run with only its light imports; None if it needs more."""
    kept = []
    for node in tree.body:
        if isinstance(node, ast.Import) and all(_is_light(alias.name) for alias in node.names):
            kept.append(node)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_light(node.module):
            if node.module == "recipes":  # `from recipes import _common, _sequence`: only _common.
                light = ast.ImportFrom("recipes", [alias for alias in node.names if alias.name == "_common"], 0)
                node = ast.copy_location(light, node)
            if node.names:
                kept.append(node)
        elif isinstance(node, ast.ClassDef) and node.name == "Config":
            kept.append(node)
    classes = [node for node in kept if isinstance(node, ast.ClassDef)]
    if not classes or _free_names(classes[0]) - _imported_names(kept):
        return None  # Its methods use a helper or constant of the module.
    module_name = f"_zoo_config_of_{path.stem}"
    if path.parent != recipes_dir():  # Two recipe files of one name must not share a module.
        module_name += "_" + hashlib.sha256(str(path).encode()).hexdigest()[:8]
    module = type(sys)(module_name)
    module.__file__ = str(path)
    # Registered for good: dataclasses and typing.get_type_hints look the module up.
    sys.modules[module_name] = module
    try:
        code = compile(ast.fix_missing_locations(ast.Module(body=kept, type_ignores=[])), str(path), "exec")
        exec(code, module.__dict__)
        config = module.__dict__.get("Config")
        from recipes import _common

        if not (isinstance(config, type) and issubclass(config, _common.TrainConfig)):
            return None
        config()  # The defaults must build, as `zoo list` builds them.
    except Exception:  # noqa: BLE001 (any failure means: import the whole module instead)
        sys.modules.pop(module_name, None)
        return None
    return config


def _free_names(node) -> set:
    """Names that `node`'s code reads but does not bind itself: the module's names it needs.

    A name bound anywhere inside counts as bound everywhere inside (a simple,
    conservative reading: a Config that still fails is imported whole).
    """
    bound, loaded = set(dir(builtins)), set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            (loaded if isinstance(child.ctx, ast.Load) else bound).add(child.id)
        elif isinstance(child, ast.arg):
            bound.add(child.arg)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(child.name)
    return loaded - bound


def _imported_names(nodes) -> set:
    names = set()
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
    return names


def _is_light(module_name) -> bool:
    if not module_name:
        return False
    return module_name in _LIGHT_MODULES or module_name.split(".")[0] in sys.stdlib_module_names


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A loaded recipe module plus the few facts the zoo reads from it."""

    name: str
    module: object
    path: pathlib.Path = None  # The recipe's file.

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

    @property
    def source(self) -> dict:
        """The recipe file's path and sha256, as a run directory records them."""
        if self.path is None:
            return {}
        return {"path": str(self.path), "sha256": files.sha256_file(self.path)}

    def hook(self, name: str):
        """An optional module function (`report`, `generate`, ...) or None."""
        return getattr(self.module, name, None)


def get_recipe(name: str) -> Recipe:
    """Imports and checks the recipe `name` (a zoo recipe's name or a recipe file's path).

    Raises:
        errors.UserError: the name is unknown (the message lists the known
            names), or the path is not a recipe file.
        ValueError: the module breaks the recipe contract (a bug in the recipe).
    """
    name, path = locate(name)
    if path.parent == recipes_dir():
        return _load(name, None)
    return _load(name, path)


@functools.lru_cache(maxsize=None)
def _load(name: str, path) -> Recipe:
    if path is None:
        module = importlib.import_module(f"recipes.{name}")
        path = pathlib.Path(module.__file__).resolve()
        where = f"recipes/{name}.py"
    else:
        module = _import_file(path)
        where = str(path)
    missing = [attribute for attribute in REQUIRED if not hasattr(module, attribute)]
    if missing:
        raise ValueError(
            f"Recipe {name!r} ({where}) is missing {', '.join(missing)}; "
            "see the recipe contract in zoo/engine/registry.py."
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
    return Recipe(name=name, module=module, path=path)


def _import_file(path: pathlib.Path):
    """Imports a recipe file from outside recipes/ under a module name of its own."""
    module_name = f"zoo_recipe_file_{path.stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module

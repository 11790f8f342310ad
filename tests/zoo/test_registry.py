"""The registry finds recipes by file name (copying one is tested in tests/test_template.py)."""

import pytest

import zoo
from zoo.engine import registry


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
    from recipes import _common
    from zoo.hub import pretrained

    shipped = pretrained.read_manifest()["models"]
    for name in zoo.list_recipes():
        recipe = zoo.get_recipe(name)
        assert issubclass(recipe.Config, _common.TrainConfig), name
        assert recipe.module.__doc__ and "make train MODEL=" in recipe.module.__doc__, name
        if name in shipped:  # A shipped recipe's docstring gives its own command; a fresh copy may not yet.
            assert "make train MODEL=" + name in recipe.module.__doc__, name
        assert recipe.headline in {"loss", *recipe.module.METRICS}


def test_a_config_that_does_not_subclass_train_config_is_refused(monkeypatch):
    import dataclasses

    recipe = zoo.get_recipe("perceptron_gates")

    @dataclasses.dataclass(frozen=True)
    class Config:
        seed: int = 0

    monkeypatch.setattr(recipe.module, "Config", Config)
    registry._load.cache_clear()
    try:
        with pytest.raises(ValueError, match="does not subclass recipes._common.TrainConfig"):
            zoo.get_recipe("perceptron_gates")
    finally:
        monkeypatch.undo()
        registry._load.cache_clear()


def test_submodules_are_reachable_after_a_plain_import_zoo():
    """`zoo.hub.pretrained.load(...)`, as pretrained/README.md writes it, works after `import zoo`."""
    import subprocess
    import sys

    code = "import zoo; assert callable(zoo.hub.pretrained.load); zoo.no_such_thing"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=registry.recipes_dir().parent)
    assert "AttributeError: module 'zoo' has no attribute 'no_such_thing'" in completed.stderr, completed.stderr


@pytest.mark.parametrize("name", zoo.list_recipes())
def test_describe_reads_what_the_module_says_without_importing_it(name):
    """`zoo list` and the override checks use describe(); it must agree with the imported module,
    and each shipped recipe's Config must run on its own (else `list` would import Keras)."""
    import dataclasses

    described, recipe = registry.describe(name), zoo.get_recipe(name)
    assert described.Config.__module__ == f"_zoo_config_of_{name}", "the Config needs more than recipes._common"
    assert (described.summary, described.task, described.headline) == (recipe.summary, recipe.task, recipe.headline)
    fields = lambda config: [(field.name, getattr(config(), field.name)) for field in dataclasses.fields(config)]  # noqa: E731
    assert fields(described.Config) == fields(recipe.Config)


def test_a_config_that_needs_the_module_falls_back_to_importing_it(tmp_path):
    source = (registry.recipes_dir() / "digits_mlp.py").read_text()
    source = source.replace("    hidden_units: int = 128", "    hidden_units: int = digits.DEFAULT_UNITS if hasattr(digits, 'DEFAULT_UNITS') else 64")
    assert "digits.DEFAULT_UNITS" in source
    path = tmp_path / "odd_mlp.py"
    path.write_text(source)
    described = registry.describe(str(path))
    assert described.Config.__module__.startswith("zoo_recipe_file_odd_mlp") and described.Config().hidden_units == 64


def test_a_config_whose_methods_use_a_module_helper_is_imported_whole(tmp_path, capsys):
    """The class body alone would build, but __post_init__ needs `_limit`: describe must not take
    the Keras-free path, or a valid override would end in a NameError."""
    from zoo.commands import cli

    source = (registry.recipes_dir() / "perceptron_gates.py").read_text()
    header = "@dataclasses.dataclass(frozen=True)\nclass Config(_common.TrainConfig):"
    source = source.replace(header, "def _limit():\n    return 10**6\n\n\n" + header, 1)
    source = source.replace("        super().__post_init__()\n", "        super().__post_init__()\n        _common.require(self, 'epochs', self.epochs <= _limit(), 'must be <= 10**6')\n", 1)
    assert "_limit()" in source
    path = tmp_path / "helper_gates.py"
    path.write_text(source)
    assert registry.describe(str(path)).Config.__module__.startswith("zoo_recipe_file_helper_gates")
    cli.check_overrides(str(path), ["epochs=3"])  # No NameError.
    assert cli.main(["train", str(path), "epochs=0"]) == 2
    assert "epochs must be >= 1" in capsys.readouterr().err

"""`pip install .` gives importable zoo, layers, recipes and datasets, the shipped checkpoints and a `zoo` command.

Installed with --no-deps into a temporary folder (the project venv already has the
dependencies), from a copy of the packaged files, and run from another folder, so
nothing of the checkout is on the path.
"""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from zoo.engine import registry

ROOT = registry.recipes_dir().parent
PACKAGED = ("zoo", "layers", "recipes", "datasets", "pretrained", "pyproject.toml", "README.md")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("install")
    source, target = base / "source", base / "site"
    source.mkdir()
    for name in PACKAGED:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__", ".*")} if (ROOT / name).is_dir() else {}))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(source)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    return target, elsewhere, env


def test_the_zoo_command_lists_every_recipe_from_another_folder(installed):
    target, elsewhere, env = installed
    completed = subprocess.run([str(target / "bin" / "zoo"), "list"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    rows = completed.stdout.splitlines()[1:]
    assert [row.split()[0] for row in rows] == registry.list_recipes()
    assert "yes (accuracy" in completed.stdout  # The shipped checkpoints' manifest was found too.
    unknown = subprocess.run([str(target / "bin" / "zoo"), "train", "nope"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: Unknown recipe 'nope'"), unknown.stderr


def test_the_packages_and_checkpoints_come_from_the_install_not_the_checkout(installed):
    target, elsewhere, env = installed
    code = (
        "import json, datasets, layers, recipes, zoo\n"
        "from zoo.engine import registry\nfrom zoo.hub import pretrained\n"
        "print(json.dumps({'files': [m.__file__ for m in (zoo, layers, recipes, datasets)],"
        " 'recipes': str(registry.recipes_dir()), 'manifest': str(pretrained.MANIFEST)}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    found = json.loads(completed.stdout)
    for path in [*found["files"], found["recipes"], found["manifest"]]:
        assert path.startswith(str(target)), path
    manifest = json.loads((target / "pretrained" / "manifest.json").read_text())
    for entry in manifest["models"].values():
        for record in entry["files"].values():
            if "path" in record:
                data = (target / record["path"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == record["sha256"], record["path"]


def declared_distributions() -> list:
    """The distributions pyproject.toml's dependencies need: its list and everything they require, recursively."""
    import importlib.metadata
    import tomllib

    from packaging.requirements import Requirement

    wanted = [Requirement(text).name for text in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    found, seen = [], set()
    while wanted:
        name = wanted.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        distribution = importlib.metadata.distribution(name)
        found.append(distribution)
        for text in distribution.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(requirement.name)
    return found


def link_only(distributions, farm) -> None:
    """A folder that holds exactly these distributions' files (as links), and nothing else of the venv."""
    for distribution in distributions:
        for file in distribution.files or []:
            parts = file.parts
            if parts[0] in ("..", "bin") or len(parts) < 1:
                continue
            # Link the top entry, or one level down inside a namespace folder that several share.
            depth = 2 if len(parts) > 2 and not (distribution.locate_file(parts[0]) / "__init__.py").exists() and not parts[0].endswith(".dist-info") else 1
            link = farm.joinpath(*parts[:depth])
            if link.exists() or link.is_symlink():
                continue
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(distribution.locate_file(pathlib.PurePath(*parts[:depth])))


def test_the_installed_package_trains_with_only_its_declared_dependencies(installed, tmp_path):
    """`pip install .` then `zoo train my_recipe.py` from another folder, with nothing on the path but the
    install and the distributions pyproject.toml asks for: a dependency it forgot (TensorBoard was one)
    fails here, not in a user's fresh venv."""
    target, elsewhere, env = installed
    farm = tmp_path / "declared"
    link_only(declared_distributions(), farm)
    recipe = elsewhere / "my_mlp.py"
    shutil.copy(ROOT / "recipes" / "digits_mlp.py", recipe)
    code = (
        "import sys; sys.path[:0] = [sys.argv.pop(1), sys.argv.pop(1)]\n"
        "from zoo import __main__\n"
        "sys.argv[0] = 'zoo'; __main__.run()\n"
    )
    completed = subprocess.run(
        [sys.executable, "-S", "-c", code, str(target), str(farm), "train", str(recipe), "max_steps=2", "--quiet",
         "--workdir", str(tmp_path / "run")],
        cwd=elsewhere, env={**env, "PYTHONPATH": ""}, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "my_mlp: 2 steps" in completed.stdout
    assert (tmp_path / "run" / "best.weights.h5").exists()

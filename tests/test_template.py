"""Copying a recipe is the whole change: a copy, with zero edits, passes the tests the registry generates.

The README promises that `cp recipes/digits_mlp.py recipes/my_digits.py` gives a
new recipe. This test makes such copies of a dense, a recurrent and a
transformer recipe in a copy of the tree (never in the real recipes/), then
runs there the tests that are generated from the registry: the contract, the
golden losses (a copy has none recorded yet, so its case is a skip that says how
to record them) and the smoke test (train a few steps, resume, reload, and
generate for the sequence recipes).
"""

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
COPIES = {"my_digits": "digits_mlp", "my_tunes": "music_lstm", "my_transformer": "music_transformer"}
GENERATED_TESTS = [
    "tests/zoo/test_registry.py::test_every_recipe_honours_the_contract",
    "tests/test_golden_losses.py::test_short_run_reaches_the_golden_losses",
    "tests/test_recipes.py",
]


@pytest.mark.slow
def test_copied_recipes_pass_the_generated_tests_with_zero_edits(tmp_path):
    tree = tmp_path / "checkout"
    for folder in ("zoo", "recipes", "layers", "datasets", "pretrained", "tests"):
        shutil.copytree(ROOT / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree)
    for copy, original in COPIES.items():
        shutil.copy(tree / "recipes" / f"{original}.py", tree / "recipes" / f"{copy}.py")

    selection = " or ".join([*COPIES, "contract"])
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *GENERATED_TESTS, "-k", selection],
        cwd=tree, capture_output=True, text=True, timeout=600,
    )
    report = completed.stdout[-4000:]
    assert completed.returncode == 0, report
    assert "4 passed, 3 skipped" in report, report  # The contract and 3 smoke tests; 3 golden skips.
    for copy in COPIES:
        assert f"not recorded yet: recipe {copy!r} has no golden losses" in report, report
        assert f"python -m tests.record_golden {copy}" in report, report
    assert not [copy for copy in COPIES if (ROOT / "recipes" / f"{copy}.py").exists()]

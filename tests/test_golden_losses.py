"""Golden losses: every recipe's short fixed run still reaches its recorded losses.

Parametrized over the registry, so a new recipe is covered at once. A recipe
whose values are not recorded yet (a fresh copy of a recipe, say) is skipped,
with the command that records them (`python -m tests.record_golden NAME`); a
shipped recipe (one in pretrained/manifest.json) without them fails. Values are
CPU values, checked to GOLDEN_RTOL.
"""

import pytest

import record_golden
import zoo
from zoo.hub import pretrained

GOLDEN = record_golden.read()
SHIPPED = pretrained.read_manifest()["models"]


@pytest.mark.parametrize("name", zoo.list_recipes())
def test_short_run_reaches_the_golden_losses(name):
    if name not in GOLDEN:
        message = (
            f"recipe {name!r} has no golden losses in tests/golden_losses.json yet; record them with "
            f"`{record_golden.RECORD_COMMAND} {name}` and commit the file."
        )
        if name in SHIPPED:
            pytest.fail(f"{message} It ships a checkpoint, so its losses must be recorded.")
        pytest.skip(f"not recorded yet: {message}")
    expected = GOLDEN[name]
    recipe = zoo.get_recipe(name)
    if "unavailable" in expected:
        try:
            recipe.module.load_data(zoo.make_config(recipe, record_golden.overrides(recipe.Config)))
        except Exception as error:  # noqa: BLE001
            if record_golden.is_unavailable_data(error):
                pytest.skip(f"{name}: its data cannot be loaded here ({str(error)[:100]}...)")
            raise
        pytest.fail(f"{name}: its data loads now; record its golden losses with `{record_golden.RECORD_COMMAND} {name}`.")

    assert expected["overrides"] == record_golden.overrides(recipe.Config), (
        f"{name}: the golden run's overrides changed; re-record with `{record_golden.RECORD_COMMAND} {name}`."
    )
    actual = record_golden.golden_run(name)
    message = (
        f"{name}: training changed. If that is intended, re-record with "
        f"`{record_golden.RECORD_COMMAND} {name}` and say why in the commit."
    )
    assert actual["train_loss"] == pytest.approx(expected["train_loss"], rel=record_golden.GOLDEN_RTOL), message
    assert actual["validation_loss"] == pytest.approx(expected["validation_loss"], rel=record_golden.GOLDEN_RTOL), message


def test_golden_runs_are_bit_reproducible_in_one_process():
    """The premise of a tight tolerance: the same run twice gives the very same losses."""
    first = record_golden.golden_run("digits_mlp")
    second = record_golden.golden_run("digits_mlp")
    assert first == second

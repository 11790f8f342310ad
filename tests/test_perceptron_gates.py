"""The lecture-1 lesson, asserted: a line splits AND and OR but not XOR."""

import pytest

import zoo


def rows_correct(tmp_path, *overrides):
    recipe = zoo.get_recipe("perceptron_gates")
    result = zoo.train(recipe, zoo.make_config(recipe, list(overrides)), tmp_path, verbose=False)
    return result.report["rows_correct"]


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_a_single_perceptron_learns_linearly_separable_gates(tmp_path, gate):
    assert rows_correct(tmp_path, f"gate={gate}", "hidden_units=0") == 4


def test_a_single_perceptron_cannot_learn_xor_but_one_hidden_layer_can(tmp_path):
    # No line separates XOR's classes, so at most 3 of the 4 rows (75%).
    assert rows_correct(tmp_path / "line", "gate=xor", "hidden_units=0") <= 3
    assert rows_correct(tmp_path / "hidden", "gate=xor", "hidden_units=8") == 4

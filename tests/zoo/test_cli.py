"""The CLI: one row per recipe, and one stderr line with exit code 2 for mistakes."""

import json

import pytest

from zoo import cli


def test_list_prints_one_row_per_recipe(capsys):
    import zoo

    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["recipe", "dataset", "task", "metric", "pretrained"]
    assert [line.split()[0] for line in lines[1:]] == zoo.list_recipes()


def test_train_then_evaluate(tmp_path, capsys):
    workdir = tmp_path / "run"
    args = ["train", "perceptron_gates", "epochs=2", "repeats=2", "--workdir", str(workdir), "--quiet"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "perceptron_gates: test loss=" in out and "2 steps" in out
    assert cli.main(["evaluate", "perceptron_gates", "--workdir", str(workdir)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "test" and 0.0 <= report["accuracy"] <= 1.0


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "no_such_recipe"], "Unknown recipe 'no_such_recipe'. Known recipes:"),
        (["train", "digits_mlp", "lr=0.1"], "Unknown key 'lr'"),
        (["train", "digits_mlp", "epochs=many"], "epochs='many' is not an int"),
        (["train", "digits_mlp", "learning_rate=-0.1"], "learning_rate must be a finite number > 0"),
        (["train", "digits_mlp", "batch_size=0"], "batch_size must be >= 1"),
        (["train", "digits_mlp", "dataset=cifar"], "dataset='cifar' is not one of"),
        (["train", "digits_mlp", "--workdir", "/proc/cannot/write/here"], "cannot be written"),
        (["evaluate", "digits_mlp", "--workdir", "/nonexistent/run"], "no config.json"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(argv, fragment, capsys):
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert fragment in captured.err
    assert "Traceback" not in captured.err


def test_options_may_come_before_or_after_overrides(tmp_path, capsys):
    workdir = tmp_path / "run"
    argv = ["train", "perceptron_gates", "--quiet", "--workdir", str(workdir), "epochs=1", "repeats=2"]
    assert cli.main(argv) == 0
    assert json.loads((workdir / "config.json").read_text())["config"]["epochs"] == 1

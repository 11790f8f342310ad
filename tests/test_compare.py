"""`python -m zoo compare` at toy scale: the table, the PNG, the JSON, resuming, divergence, errors."""

import json

import pytest

from zoo.commands import cli
from zoo.lab import compare
from zoo.engine import registry
from zoo.engine import trainer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def train_calls(monkeypatch):
    """Counts zoo.engine.trainer.train calls (the configs it was given) without changing them."""
    calls = []
    real_train = trainer.train

    def counting_train(recipe, config, workdir, *args, **kwargs):
        calls.append(config)
        return real_train(recipe, config, workdir, *args, **kwargs)

    monkeypatch.setattr(trainer, "train", counting_train)
    return calls


def table_rows(text: str) -> list:
    """The cells of each markdown table row printed in `text` (header first, rule skipped)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| "):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def without_wall_time(rows: list) -> list:
    column = rows[0].index("wall s")
    return [row[:column] + row[column + 1:] for row in rows]


def snapshot(directory) -> dict:
    """Path -> (size, mtime in ns) of every file below `directory`."""
    return {
        str(path.relative_to(directory)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_compare_prints_table_writes_png_and_json_then_reruns_without_training(tmp_path, capsys, train_calls):
    argv = ["compare", "perceptron_gates", "learning_rate=0.05,0.5", "max_steps=3", "epochs=1",
            "--workdir", str(tmp_path)]
    assert cli.main(argv) == 0
    first_output = capsys.readouterr().out
    assert [config.learning_rate for config in train_calls] == [0.05, 0.5]
    # Same seed and data: the two configs differ in the compared key only.
    first, second = (dataclass_dict(config) for config in train_calls)
    assert {key for key in first if first[key] != second[key]} == {"learning_rate"}

    header, *rows = table_rows(first_output)
    assert header[:3] == ["learning_rate", "final val accuracy", "val accuracy @best"]
    assert "best epoch" in header and "steps" in header and "wall s" in header
    assert [row[0] for row in rows] == ["0.05", "0.5"]
    steps = header.index("steps")
    assert [row[steps] for row in rows] == ["3", "3"]
    assert [row[-1] for row in rows] == ["ok", "ok"]

    png = tmp_path / "comparison.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    saved = json.loads((tmp_path / "comparison.json").read_text())
    assert saved["key"] == "learning_rate"
    assert saved["fixed"] == {"max_steps": "3", "epochs": "1"}
    assert [row["label"] for row in saved["rows"]] == ["0.05", "0.5"]
    assert [row["steps"] for row in saved["rows"]] == [3, 3]
    assert all(0.0 <= row["best_val_accuracy"] <= 1.0 for row in saved["rows"])
    assert saved["configs"]["0.5"]["learning_rate"] == 0.5
    for label in ("0.05", "0.5"):
        assert (tmp_path / f"learning_rate={label}" / "metrics.jsonl").exists()

    runs_before = snapshot(tmp_path / "learning_rate=0.05") | snapshot(tmp_path / "learning_rate=0.5")
    assert cli.main(argv) == 0
    second_output = capsys.readouterr().out
    assert len(train_calls) == 2, "a finished comparison must not train again"
    assert table_rows(second_output) == table_rows(first_output)
    runs_after = snapshot(tmp_path / "learning_rate=0.05") | snapshot(tmp_path / "learning_rate=0.5")
    assert runs_after == runs_before

    # The Python API returns the same comparison (reusing the runs), one line as its repr
    # and its table in a notebook.
    import zoo

    result = zoo.compare("perceptron_gates", "learning_rate", ["0.05", "0.5"], fixed={"max_steps": 3, "epochs": 1}, workdir=tmp_path)
    assert len(train_calls) == 2 and isinstance(result, dict)
    assert repr(result) == f"Comparison(perceptron_gates: learning_rate = 0.05, 0.5; keys {', '.join(result)})"
    assert result._repr_markdown_() == result["table"] and "| 0.05 " in result["table"]

    # As if the second run had been killed before it finished: only it is trained again
    # (the trainer resumes it from its checkpoint), the finished one is skipped.
    (tmp_path / "learning_rate=0.5" / compare.RUN_RECORD).unlink()
    assert cli.main(argv) == 0
    assert [config.learning_rate for config in train_calls] == [0.05, 0.5, 0.5]
    assert without_wall_time(table_rows(capsys.readouterr().out)) == without_wall_time(table_rows(first_output))


def dataclass_dict(config) -> dict:
    import dataclasses

    return dataclasses.asdict(config)


def test_a_diverging_value_is_reported_and_does_not_stop_the_others(tmp_path, train_calls):
    fixed = {"optimizer": "sgd", "max_steps": "3", "epochs": "1"}
    result = compare.compare("regression_mlp", "learning_rate", ["1e12", "0.01"], fixed, workdir=tmp_path, log=None)
    diverged, fine = result["rows"]
    assert diverged["status"] == "diverged" and "Non-finite" in diverged["message"]
    assert fine["status"] == "ok" and fine["steps"] == 3
    assert "diverged at step" in result["table"]
    saved = json.loads((tmp_path / "comparison.json").read_text())
    assert [row["status"] for row in saved["rows"]] == ["diverged", "ok"]
    assert (tmp_path / "comparison.png").read_bytes()[:8] == PNG_SIGNATURE
    # The divergence is remembered: a rerun trains neither value again.
    compare.compare("regression_mlp", "learning_rate", ["1e12", "0.01"], fixed, workdir=tmp_path, log=None)
    assert len(train_calls) == 2


def test_batch_size_full_is_the_whole_training_split():
    recipe = registry.get_recipe("perceptron_gates")
    resolved = compare.resolve_configs(recipe, "batch_size", ["1", "full"], {"repeats": "3"})
    (one_label, one), (full_label, full) = resolved
    assert (one_label, one.batch_size) == ("1", 1)
    expected = recipe.module.load_data(full).info.num_examples["train"]
    assert full_label == "full" and full.batch_size == expected and expected > 1
    assert full.repeats == 3


def test_default_workdir_separates_fixed_overrides():
    plain = compare.default_workdir("digits_mlp", "dropout", {})
    fixed = compare.default_workdir("digits_mlp", "dropout", {"patience": "0", "depth": "3"})
    assert str(plain) == "runs/compare/digits_mlp/dropout"
    assert str(fixed) == "runs/compare/digits_mlp/dropout--depth=3-patience=0"


@pytest.mark.parametrize(
    "arguments, expected",
    [
        (["perceptron_gates", "learning_rate=0.05,abc"], "is not a float"),
        (["perceptron_gates", "learning_rate=0.05"], "at least two values"),
        (["perceptron_gates", "learning_rate=0.05,,0.1"], "empty value"),
        (["perceptron_gates", "learning_rate=1e-3,0.001"], "same value"),
        (["perceptron_gates", "no_such_key=1,2"], "Unknown key 'no_such_key'"),
        (["perceptron_gates", "learning_rate=0.1,0.2", "epochs=1,2"], "Only the first key"),
        (["perceptron_gates", "optimizer=sgd,adam", "epochs=0"], "epochs=0 is out of range"),
        (["perceptron_gates", "batch_size=full,2", "epochs=x"], "is not an int"),
        (["perceptron_gates"], "needs the key to compare"),
        (["no_such_recipe", "learning_rate=1,2"], "Unknown recipe"),
    ],
)
def test_mistakes_exit_2_with_one_line_and_train_nothing(arguments, expected, tmp_path, capsys, train_calls):
    assert cli.main(["compare", *arguments, "--workdir", str(tmp_path / "runs")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert expected in lines[0]
    assert train_calls == []
    assert not (tmp_path / "runs").exists()

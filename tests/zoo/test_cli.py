"""The CLI: one row per recipe, and one stderr line with exit code 2 for mistakes."""

import json

import pytest
from absl import flags
from absl.testing import flagsaver

from zoo.commands import cli
from zoo.engine import rundir


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


def epoch_lines(caplog):
    return [record.getMessage() for record in caplog.records if record.getMessage().startswith("epoch ")]


@flagsaver.flagsaver  # cli.main sets absl's --verbosity; the other tests get theirs back.
def test_absl_verbosity_shows_or_hides_the_epoch_lines(tmp_path, caplog):
    """Progress goes through absl.logging: INFO by default (as absl.app.run sets it), --verbosity=-1
    leaves warnings only; a --flagfile gives flags the same way; the results on stdout stay."""
    args = ["train", "perceptron_gates", "epochs=2", "repeats=2", "--quiet"]
    assert cli.main([*args, "--workdir", str(tmp_path / "a")]) == 0
    assert epoch_lines(caplog) == []  # --quiet: no progress.
    caplog.clear()
    assert cli.main(["train", "perceptron_gates", "epochs=2", "repeats=2", "--workdir", str(tmp_path / "b")]) == 0
    assert [line.split(":")[0] for line in epoch_lines(caplog)] == ["epoch 1/2 step 1", "epoch 2/2 step 2"]
    caplog.clear()
    flagfile = tmp_path / "flags.txt"
    flagfile.write_text("--verbosity=-1\n--logtostderr\n")
    workdir = tmp_path / "c"
    assert cli.main(["--flagfile", str(flagfile), "train", "perceptron_gates", "epochs=2", "repeats=2", "--workdir", str(workdir)]) == 0
    assert epoch_lines(caplog) == []
    assert (workdir / "best.weights.h5").exists()


COLD_START = """
import sys, time
from zoo.commands import cli
from zoo.engine import rundir
for argv in {argvs!r}:
    try:
        code = cli.main(argv)
    except SystemExit as stop:  # --help
        code = stop.code
    print("CODE", code, flush=True)
print("LOADED", sorted(name for name in ("tensorflow", "keras", "sklearn") if name in sys.modules))
"""


def test_list_help_and_user_mistakes_do_not_load_tensorflow(tmp_path):
    """They answer at once: the registry reads names, list rows and Configs without importing Keras."""
    import subprocess
    import sys

    from zoo.engine import registry

    argvs = [
        ["list"],
        ["--help"],
        ["train", "--help"],
        ["train", "no_such_recipe"],
        ["train", "digits_mlp", "lr=0.1"],
        ["train", "music_transformer", "num_heads=3"],  # A value only the recipe's own Config checks.
        ["train", str(tmp_path / "missing.py")],
        ["evaluate", "digits_mlp", "--workdir", str(tmp_path / "no_run")],
        ["compare", "digits_mlp", "optimizer=sgd,nesterov"],
        ["translate", "translate_transformer", "--pretrained", "--text", " "],
        ["translate", "digits_mlp", "--text", "one"],  # A recipe without the hook the command needs.
        ["generate", "digits_mlp"],
        ["generate", "music_lstm", "--length", "0"],
        ["attention", "digits_mlp", "--text", "x"],
        ["--verbosity=loud", "list"],
        ["train", "digits_mlp", "--workdir", str(registry.recipes_dir() / "digits_mlp.py")],  # A file, not a folder.
        ["train", "digits_mlp", "--workdir", str(registry.recipes_dir())],  # Not empty, and no run.
        ["tune", "digits_mlp", "--trials", "0", "--workdir", str(tmp_path / "never_made")],
    ]
    completed = subprocess.run(
        [sys.executable, "-c", COLD_START.format(argvs=argvs)],
        capture_output=True, text=True, cwd=registry.recipes_dir().parent, timeout=120,
    )
    codes = [int(line.split()[1]) for line in completed.stdout.splitlines() if line.startswith("CODE")]
    assert codes == [0, 0, 0] + [2] * (len(argvs) - 3), completed.stdout + completed.stderr
    # Each mistake is one line on stderr, and nothing else is there (no traceback, no warning).
    assert completed.stderr.splitlines() == [line for line in completed.stderr.splitlines() if line.startswith("error: ")]
    assert len(completed.stderr.splitlines()) == len(argvs) - 3, completed.stderr
    assert "LOADED []" in completed.stdout, completed.stdout
    assert not (tmp_path / "never_made").exists()


def test_a_recipe_file_outside_recipes_trains_evaluates_and_is_recorded(tmp_path, capsys):
    """`zoo train path/to/my_recipe.py`: the name is the file's stem; config.json keeps its path and sha256."""
    import hashlib
    import shutil

    from zoo.engine import registry

    mine = tmp_path / "experiments" / "my_gates.py"
    mine.parent.mkdir()
    shutil.copy(registry.recipes_dir() / "perceptron_gates.py", mine)
    workdir = tmp_path / "run"
    assert cli.main(["train", str(mine), "epochs=2", "repeats=2", "--quiet", "--workdir", str(workdir)]) == 0
    assert "my_gates: test loss=" in capsys.readouterr().out
    saved = json.loads((workdir / "config.json").read_text())
    assert saved["recipe"] == "my_gates"
    assert saved["recipe_file"] == {"path": str(mine.resolve()), "sha256": hashlib.sha256(mine.read_bytes()).hexdigest()}
    assert cli.main(["evaluate", str(mine), "--workdir", str(workdir)]) == 0
    assert json.loads(capsys.readouterr().out)["recipe"] == "my_gates"
    # The zoo's own perceptron_gates is another recipe: its name does not match this run.
    assert cli.main(["evaluate", "perceptron_gates", "--workdir", str(workdir)]) == 2
    assert "holds a run of recipe 'my_gates'" in capsys.readouterr().err
    # Without a workdir, the run goes to runs/my_gates in the current folder.
    assert rundir.default_workdir(registry.locate(str(mine))[0]) == rundir.default_workdir("my_gates")


@flagsaver.flagsaver
@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--verbosity=loud", "list"], "flag --verbosity=loud"),
        (["--flagfile", "/nonexistent/flags.txt", "list"], "/nonexistent/flags.txt"),
    ],
)
def test_a_bad_absl_flag_is_one_line_and_exit_2(argv, fragment, capsys):
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and fragment in error and error.count("\n") == 1, error


@flagsaver.flagsaver
def test_log_dir_writes_the_progress_to_absl_log_files(tmp_path):
    logs = tmp_path / "logs"
    argv = ["--log_dir", str(logs), "train", "perceptron_gates", "epochs=2", "repeats=2", "--workdir", str(tmp_path / "run")]
    try:
        assert cli.main(argv) == 0
    finally:
        flags.FLAGS["log_dir"].unparse()
        cli.setup_logging()  # Closes the log file; the next tests log to stderr again.
    written = "".join(path.read_text() for path in logs.iterdir() if path.is_file() and not path.is_symlink())
    assert "epoch 2/2 step 2" in written


def test_a_recipe_file_compares_and_refuses_pretrained(tmp_path, capsys):
    import shutil

    from zoo.engine import registry

    mine = tmp_path / "my_gates.py"
    shutil.copy(registry.recipes_dir() / "perceptron_gates.py", mine)
    assert cli.main(["compare", str(mine), "hidden_units=2,4", "epochs=1", "repeats=1", "--workdir", str(tmp_path / "cmp")]) == 0
    assert "hidden_units" in capsys.readouterr().out and (tmp_path / "cmp" / "comparison.json").exists()
    assert cli.main(["evaluate", str(mine), "--pretrained"]) == 2
    assert "--pretrained is for the zoo's own recipes" in capsys.readouterr().err


def test_a_run_of_one_recipe_file_is_not_resumed_or_read_by_another_of_the_same_name(tmp_path, capsys):
    import shutil

    from zoo.engine import registry

    first, second = tmp_path / "a" / "gates_copy.py", tmp_path / "b" / "gates_copy.py"
    for path in (first, second):
        path.parent.mkdir()
        shutil.copy(registry.recipes_dir() / "perceptron_gates.py", path)
    workdir = tmp_path / "run"
    args = ["epochs=1", "repeats=1", "--quiet", "--workdir", str(workdir)]
    assert cli.main(["train", str(first), *args]) == 0
    capsys.readouterr()
    assert cli.main(["train", str(second), *args]) == 2
    assert f"holds a run of {first.resolve()}" in capsys.readouterr().err
    assert cli.main(["evaluate", str(second), "--workdir", str(workdir)]) == 2
    assert f"holds a run of {first.resolve()}" in capsys.readouterr().err


def test_a_reader_that_stops_early_is_not_a_fault():
    """`zoo list | head -1`: the closed pipe ends the command quietly (141, as for SIGPIPE), not with an error line."""
    import subprocess
    import sys

    listing = subprocess.Popen([sys.executable, "-m", "zoo", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    listing.stdout.close()  # The reader stops before the first line: every write meets a closed pipe.
    stderr = listing.stderr.read().decode()
    assert listing.wait(timeout=60) in (0, 141), stderr
    assert "error" not in stderr.lower() and "Traceback" not in stderr, stderr

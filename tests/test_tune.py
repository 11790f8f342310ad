"""`python -m zoo tune` at toy scale: our trainer runs the trials, results, resuming, errors."""

import json
import os
import re
import shutil
import socket
import time
import types

import keras
import pytest

from tests import forks
from zoo.commands import cli
from zoo.engine import config as config_lib
from zoo.engine import registry
from zoo.engine import trainer
from zoo.lab import tune

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Small enough for a few seconds a trial; every trial is cut at 2 steps.
FIXED = ["max_steps=2", "epochs=1"]


@pytest.fixture
def train_calls(monkeypatch):
    """Counts zoo.engine.trainer.train calls and forbids model.fit: trials must use our trainer."""
    calls = []
    real_train = trainer.train

    def counting_train(recipe, config, workdir, *args, **kwargs):
        calls.append(config)
        return real_train(recipe, config, workdir, *args, **kwargs)

    def no_fit(*args, **kwargs):
        raise AssertionError("a trial called model.fit instead of zoo.engine.trainer.train")

    monkeypatch.setattr(trainer, "train", counting_train)
    monkeypatch.setattr(keras.Model, "fit", no_fit)
    return calls


def run_tune(tmp_path, *extra):
    # Options before and key=value overrides after them, as the docs write it.
    return cli.main(["tune", "digits_mlp", "--workdir", str(tmp_path), "--quiet", *extra, *FIXED])


def test_random_search_trains_each_trial_with_our_trainer_and_resumes(tmp_path, capsys, train_calls):
    assert run_tune(tmp_path, "--search", "random", "--trials", "2") == 0
    output = capsys.readouterr().out
    assert len(train_calls) == 2
    space = registry.get_recipe("digits_mlp").module.SEARCH_SPACE
    for config in train_calls:
        assert config.max_steps == 2 and config.epochs == 1
        assert space["hidden_units"][1] <= config.hidden_units <= space["hidden_units"][2]
        assert config.batch_size in space["batch_size"][1]
    assert train_calls[0] != train_calls[1], "two random trials proposed the same values"

    results = json.loads((tmp_path / "random" / "results.json").read_text())
    assert [trial["status"] for trial in results["trials"]] == ["ok", "ok"]
    assert results["completed"] == 2
    losses = [trial["metrics"]["val_loss"] for trial in results["trials"]]
    assert results["best_metrics"]["val_loss"] == min(losses)
    assert results["trials"][1]["best_so_far"] == min(losses)
    assert results["trials_to_best_val_accuracy"] in (1, 2)
    for trial in results["trials"]:
        run = tmp_path / "random" / f"trial_{trial['trial_id']}" / "run"
        saved = json.loads((run / "config.json").read_text())["config"]
        assert {key: saved[key] for key in trial["values"]} == trial["values"]
        assert (run / "metrics.jsonl").exists()
    assert (tmp_path / "search_progress.png").read_bytes()[:8] == PNG_SIGNATURE

    # The printed table has one row per trial, and the printed command trains the best trial.
    rows = [line for line in output.splitlines() if re.match(r"\| \d+ ", line)]
    assert len(rows) == 2
    command = re.search(r'train it: make train MODEL=digits_mlp ARGS="([^"]*)"', output)
    assert command is not None
    recipe = registry.get_recipe("digits_mlp")
    best_config = config_lib.make_config(recipe.Config, command.group(1).split())
    best_index = [t["trial_id"] for t in results["trials"]].index(results["best_trial"])
    assert best_config == train_calls[best_index]

    # Rerunning the finished search trains nothing and reports the same best trial.
    assert run_tune(tmp_path, "--search", "random", "--trials", "2") == 0
    assert len(train_calls) == 2
    assert command.group(0) in capsys.readouterr().out

    # A larger --trials extends it by the missing trials only.
    assert run_tune(tmp_path, "--search", "random", "--trials", "3") == 0
    assert len(train_calls) == 3
    results = json.loads((tmp_path / "random" / "results.json").read_text())
    assert len(results["trials"]) == 3

    # Other fixed settings in the same directory are refused, not mixed in.
    assert cli.main(["tune", "digits_mlp", "--workdir", str(tmp_path), "--trials", "3", "max_steps=5"]) == 2
    assert "other settings" in capsys.readouterr().err
    assert len(train_calls) == 3


def test_bayesian_search_and_a_diverged_trial(tmp_path, capsys, monkeypatch, train_calls):
    counting_train = trainer.train

    def first_trial_diverges(recipe, config, workdir, *args, **kwargs):
        if not train_calls:
            train_calls.append(config)
            raise FloatingPointError("Non-finite loss or gradient at step 1; stopped without applying it.")
        return counting_train(recipe, config, workdir, *args, **kwargs)

    monkeypatch.setattr(trainer, "train", first_trial_diverges)
    assert run_tune(tmp_path, "--search", "bayesian", "--trials", "3", "--initial-points", "1") == 0
    assert len(train_calls) == 3
    results = json.loads((tmp_path / "bayesian" / "results.json").read_text())
    assert [trial["status"] for trial in results["trials"]] == ["diverged", "ok", "ok"]
    assert results["completed"] == 2
    assert results["best_trial"] != results["trials"][0]["trial_id"]
    assert "diverged" in capsys.readouterr().out


def test_grid_search_steps_leave_three_points_per_range():
    import keras_tuner

    hyperparameters = keras_tuner.HyperParameters()
    tune.declare(hyperparameters, {"a": ("log", 1e-4, 1e-2), "b": ("int", 32, 256), "c": ("float", 0.0, 0.5)}, grid=True)
    by_name = {hp.name: hp for hp in hyperparameters.space}
    assert by_name["a"].step == pytest.approx(10.0) and by_name["a"].sampling == "log"
    assert by_name["b"].step == 112
    assert by_name["c"].step == pytest.approx(0.25)
    plain = keras_tuner.HyperParameters()
    tune.declare(plain, {"a": ("log", 1e-4, 1e-2), "b": ("int", 32, 256)}, grid=False)
    assert {hp.name: hp.step for hp in plain.space} == {"a": None, "b": 1}


@pytest.mark.parametrize(
    "space, expected",
    [
        ({"nope": ("int", 1, 2)}, "names no Config key"),
        ({"depth": ("ints", 1, 2)}, "must be a tuple starting with"),
        ({"depth": ("int", 3, 1)}, "low < high"),
        ({"learning_rate": ("log", 0.0, 1.0)}, "low > 0"),
        ({"depth": ("int", 1.0, 3)}, "integer ends"),
        ({"batch_size": ("choice", ())}, '("choice", (value, ...))'),
        ({}, "declares no SEARCH_SPACE"),
    ],
)
def test_a_malformed_search_space_is_a_clear_error(space, expected):
    digits = registry.get_recipe("digits_mlp")
    fake = registry.Recipe(name="fake", module=types.SimpleNamespace(Config=digits.Config, SEARCH_SPACE=space))
    with pytest.raises(ValueError, match=re.escape(expected)):
        tune.search_space(fake)


@pytest.mark.parametrize(
    "arguments, expected",
    [
        (["perceptron_gates", "--trials", "2"], "declares no SEARCH_SPACE"),
        (["digits_mlp", "--search", "annealing"], "invalid choice: 'annealing'"),
        (["digits_mlp", "--trials", "0"], "at least 1 trial"),
        (["digits_mlp", "--trials", "2", "dropout=0.1"], "dropout is searched"),
        (["digits_mlp", "--trials", "2", "epochs=many"], "epochs='many' is not an int"),
        (["digits_mlp", "--trials", "2", "no_such_key=1"], "Unknown key 'no_such_key'"),
        (["digits_mlp", "--trials", "2", "--initial-points", "0"], "--initial-points 0"),
    ],
)
def test_mistakes_exit_2_with_one_line_and_train_nothing(arguments, expected, tmp_path, capsys, train_calls):
    assert cli.main(["tune", *arguments, "--workdir", str(tmp_path / "search")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert expected in lines[0]
    assert train_calls == []


def test_a_search_killed_inside_a_state_write_resumes(tmp_path, capsys, monkeypatch, train_calls):
    """keras-tuner's oracle.json and trial.json writes are atomic: a kill inside one leaves the old file."""
    import pathlib

    real_write_text = pathlib.Path.write_text
    writes = []

    def killed_halfway_through_the_third_oracle_write(self, text, *args, **kwargs):
        if self.name.startswith(".oracle.json"):  # The oracle's state, on its way to oracle.json.
            writes.append(self)
            if len(writes) == 3:
                real_write_text(self, text[: len(text) // 2], *args, **kwargs)
                raise KeyboardInterrupt("killed inside the oracle's write")
        return real_write_text(self, text, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", killed_halfway_through_the_third_oracle_write)
    assert run_tune(tmp_path, "--search", "random", "--trials", "3") == 130  # The CLI's exit for an interrupt.
    monkeypatch.setattr(pathlib.Path, "write_text", real_write_text)
    json.loads((tmp_path / "random" / "oracle.json").read_text())  # Still whole.
    capsys.readouterr()
    assert run_tune(tmp_path, "--search", "random", "--trials", "3") == 0
    results = json.loads((tmp_path / "random" / "results.json").read_text())
    assert results["completed"] == 3
    assert len({json.dumps(trial["values"], sort_keys=True) for trial in results["trials"]}) == 3


# ------------------------------------------------------- killed and resumed

class Killed(BaseException):
    """A SIGKILL, in this process: nothing catches it, nothing after it runs."""


KILLED_SEARCH = ["--search", "random", "--trials", "2"]
# One kill after another, each in the rerun of the one before (a process per kill
# costs seconds of start-up and retracing, so the runs are in-process and chained):
# (kill point of that run, counted from its start, and the file it is writing).
KILLS = [
    ("write:3", "random/oracle.json"),                # trial_0/trial.json written, the oracle.json that counts it not.
    ("write:5", "random/trial_0/trial.json"),         # trial 0 trained, our zoo_trial.json written, keras-tuner not told.
    ("write:8", "random/oracle.json"),                # trial 0 ended in oracle.json; the tuner's save (tuner0.json) not.
    ("write:2", "random/oracle.json"),                # trial_1/trial.json written, its oracle.json not.
    ("replace:3", "random/trial_1/run/config.json"),  # trial 1's run: its config.json written beside its target.
    ("step:2", None),                                 # Inside trial 1's training.
]


def search_outcome(workdir) -> list:
    results = json.loads((workdir / "random" / "results.json").read_text())
    return [(trial["trial_id"], trial["status"], trial["values"], trial["metrics"]) for trial in results["trials"]]


@pytest.fixture(scope="module")
def finished_search(tmp_path_factory):
    """(the folder, the outcome) of a search of KILLED_SEARCH never killed."""
    workdir = tmp_path_factory.mktemp("unkilled")
    assert run_tune(workdir, *KILLED_SEARCH) == 0
    return workdir, search_outcome(workdir)


def test_a_search_killed_at_one_write_after_another_resumes_exactly(finished_search, tmp_path, monkeypatch, capsys):
    """Killed inside keras-tuner's state writes, ours and the trainer's, each rerun resumes where the kill left
    it: an interrupted trial is rerun with its own values, no trial fails, and the search ends with the trials,
    values and scores of one never killed."""
    from tests import kill_at

    for point, writing in KILLS:
        where = []

        def kill(place=None):
            where.append(place)
            raise Killed()

        kind, _, number = point.partition(":")
        with monkeypatch.context() as patched:
            kill_at.install(kind, int(number), kill=kill, patch=patched.setattr)
            with pytest.raises(Killed):
                run_tune(tmp_path, *KILLED_SEARCH)
        assert writing is None or where[0].endswith(writing), (point, where)
        output = capsys.readouterr()
        assert "Traceback" not in output.out + output.err, point
    assert run_tune(tmp_path, *KILLED_SEARCH) == 0
    output = capsys.readouterr()
    assert "Traceback" not in output.out + output.err
    assert search_outcome(tmp_path) == finished_search[1]


@pytest.mark.parametrize("name", ["zoo_search.json", "oracle.json", "trial_1/trial.json"])
@pytest.mark.parametrize("damage", [
    b'{"recipe": "digits_m',         # Cut short.
    b"[" * 100_000 + b"]" * 100_000,  # Nested deeper than the parser's recursion limit.
    b'{"recipe": "\xff\xfe"}',       # Not UTF-8.
], ids=["cut-short", "nested-100000-deep", "not-utf8"])
def test_a_damaged_state_file_is_one_line_naming_it(name, damage, finished_search, tmp_path, capsys, train_calls):
    shutil.copytree(finished_search[0], tmp_path, dirs_exist_ok=True)
    path = tmp_path / "random" / name
    path.write_bytes(damage)
    assert run_tune(tmp_path, *KILLED_SEARCH, "--trials", "3") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0], lines
    assert train_calls == []


def serving(port: int) -> bool:
    with socket.socket() as stream:
        return stream.connect_ex(("127.0.0.1", port)) == 0


def test_a_distributed_search_holds_its_folder(tmp_path, capsys, monkeypatch):
    """The chief holds the folder for the whole search: a plain search and another chief are refused, naming
    the folder and the chief; a worker checks that its chief holds the folder it was given."""
    from zoo.commands import launch

    port, other_port = launch.free_ports(2)
    oracle = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
    env = {key: value for key, value in os.environ.items() if not key.startswith("KERASTUNER_")}
    env.update(oracle, KERASTUNER_TUNER_ID="chief", **forks.SERVER_ENV)
    # A real process, forked from one that has imported TensorFlow already (tests/forks.py).
    chief = forks.start("zoo", ["tune", "digits_mlp", "--workdir", str(tmp_path), "--quiet", "--trials", "1", *FIXED], env=env)
    try:
        deadline = time.monotonic() + 240
        while not serving(port):  # The chief serves its oracle once it holds the folder.
            assert chief.poll() is None and time.monotonic() < deadline, (chief.stderr or "")[-2000:]
            time.sleep(0.2)
        for name in [key for key in os.environ if key.startswith("KERASTUNER_")]:
            monkeypatch.delenv(name)

        def refused(workdir=tmp_path):
            assert run_tune(workdir, "--trials", "1") == 2
            lines = capsys.readouterr().err.strip().splitlines()
            assert len(lines) == 1 and str(workdir) in lines[0], lines
            return lines[0]

        # A plain search on the chief's folder.
        line = refused()
        assert f"process {chief.pid} (the tune chief serving oracle 127.0.0.1:{port})" in line
        # The chief of another distributed search on it.
        monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
        monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(other_port))
        monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
        assert f"process {chief.pid}" in refused()
        # A worker of this chief given another folder (that the chief does not hold).
        monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
        monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
        assert "is not held by the tune chief serving oracle" in refused(tmp_path / "elsewhere")
        assert not (tmp_path / "elsewhere").exists()
        assert chief.poll() is None  # Still serving its own search.
    finally:
        chief.kill()
        chief.wait()


def test_a_search_shows_as_one_line_and_as_its_table_in_a_notebook():
    summary = tune.Search(recipe="digits_mlp", search="random", trials=[{"status": "ok"}, {"status": "diverged"}], completed=1,
                          best_values={"learning_rate": 0.01}, table="| trial |\n|---|\n| 1 |")
    assert repr(summary) == "Search(digits_mlp, random: 1/2 trials, best {'learning_rate': 0.01})"
    assert summary._repr_markdown_() == summary["table"] and isinstance(summary, dict)

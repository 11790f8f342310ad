"""A user's mistake anywhere ends in one clear line on stderr and exit code 2; a bug keeps its traceback.

Every case runs the command line in-process through `cli.main`, which is what
`python -m zoo` calls. One case of each kind (command, recipe, override,
workdir, data file), and one bug, also run in a real `python -m zoo` process,
to show that the promise holds there too: TensorFlow's start-up logging stays
out of stderr, and a bug prints its traceback and exits with 1.
Pretrained files are tampered with in a copy, never in the checkout.
"""

import concurrent.futures
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import zoo
from zoo.commands import cli
from zoo.hub import pretrained

ROOT = pathlib.Path(__file__).resolve().parent.parent
# (arguments, a phrase the one line must contain). {tmp} is a scratch folder,
# {run} a tiny trained music_lstm run. The override mistakes beyond these
# (unknown or mistyped key, wrong type or choice, negative learning rate,
# missing run) are in tests/zoo/test_cli.py.
CASES = {
    "unknown_command": (["fly"], "invalid choice: 'fly'"),
    "unknown_recipe": (["train", "no_such_recipe"], "Unknown recipe 'no_such_recipe'. Known recipes:"),
    "batch_size_zero": (["train", "digits_mlp", "batch_size=0"], "batch_size=0 is out of range"),
    "unwritable_workdir": (["train", "digits_mlp", "--workdir", "{tmp}/a_file/run"], "cannot be written"),
    # Datasets: the music recipes read any text file with data_path=.
    "data_missing": (["train", "music_lstm", "data_path={tmp}/missing.abc", "--workdir", "{tmp}/w1"], "does not exist"),
    "data_empty": (["train", "music_lstm", "data_path={tmp}/empty.abc", "--workdir", "{tmp}/w2"], "is empty"),
    "data_binary": (["train", "music_rnn", "data_path={tmp}/binary.abc", "--workdir", "{tmp}/w3"], "binary"),
    "data_not_utf8": (["train", "music_lstm", "data_path={tmp}/latin1.abc", "--workdir", "{tmp}/w4"], "UTF-8"),
    # Generation.
    "generate_length_zero": (["generate", "music_lstm", "--workdir", "{run}", "--length", "0"], "--length 0 is not valid"),
    "generate_temperature_zero": (["generate", "music_lstm", "--workdir", "{run}", "--temperature", "0"], "--temperature 0.0 is not valid"),
    "generate_bad_prompt": (["generate", "music_lstm", "--workdir", "{run}", "--prompt", "\u2603\u00a7", "--length", "5"], "outside the model's vocabulary"),
    "generate_empty_prompt": (["generate", "music_lstm", "--workdir", "{run}", "--prompt", "", "--length", "5"], "empty"),
    "generate_no_run": (["generate", "music_lstm", "--workdir", "{tmp}/nothing"], "no config.json"),
    "generate_tiny_temperature": (["generate", "music_lstm", "--workdir", "{run}", "--temperature", "1e-40"], "--temperature 1e-40 is not valid"),
    "generate_huge_length": (["generate", "music_lstm", "--workdir", "{run}", "--length", str(2**31)], f"--length {2**31} is not valid"),
    # Sizes that cannot fit are refused before anything is allocated.
    "hidden_units_huge": (["train", "digits_mlp", "hidden_units=10000000", "--workdir", "{tmp}/w5"], "hidden_units=10000000 is out of range"),
    "units_huge": (["train", "music_lstm", "units=10000000", "--workdir", "{tmp}/w6"], "units=10000000 is out of range"),
    "batch_size_huge": (["train", "digits_mlp", f"batch_size={2**63}", "--workdir", "{tmp}/w7"], f"batch_size={2**63} is out of range"),
    # Pretrained loading, from a copy of pretrained/ with one file damaged.
    "pretrained_tampered": (["evaluate", "perceptron_gates", "--pretrained"], "fails its check"),
    "pretrained_missing": (["evaluate", "perceptron_gates", "--pretrained"], "is missing"),
}
# One case of each kind that also runs as a real process.
IN_A_PROCESS = ("unknown_command", "unknown_recipe", "batch_size_zero", "unwritable_workdir", "data_missing")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """The scratch folder with its bad files, a tiny trained run, and damaged pretrained copies."""
    tmp = tmp_path_factory.mktemp("cli_errors")
    (tmp / "a_file").write_text("not a directory")
    (tmp / "empty.abc").write_bytes(b"")
    (tmp / "binary.abc").write_bytes(bytes(range(256)) * 20)
    (tmp / "latin1.abc").write_bytes("X:1\nT:Caf\u00e9 \u00e0 la cr\u00e8me\nK:G\n|:GAB c2d:|\n".encode("latin-1") * 50)
    recipe = zoo.get_recipe("music_lstm")
    config = zoo.make_config(recipe, ["epochs=1", "max_steps=1", "units=8", "embedding_dim=4", "batch_size=8"])
    zoo.train(recipe, config, tmp / "run", verbose=False)
    for damage in ("tampered", "missing"):
        root = tmp / f"root_{damage}"
        shutil.copytree(ROOT / "pretrained", root / "pretrained")
        entry = pretrained.read_manifest(root / "pretrained" / "manifest.json")["models"]["perceptron_gates"]
        weights = root / entry["files"]["weights"]["path"]
        if damage == "tampered":
            data = bytearray(weights.read_bytes())
            data[len(data) // 2] ^= 0x01
            weights.write_bytes(bytes(data))
        else:
            weights.unlink()
    return tmp


def arguments_of(name, scratch) -> list:
    return [argument.format(tmp=scratch, run=scratch / "run") for argument in CASES[name][0]]


def assert_one_line(stderr: str, name: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), lines[0]
    assert CASES[name][1] in lines[0], lines[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gives_one_line_and_exit_code_2(scratch, name, capsys, monkeypatch):
    if name.startswith("pretrained_"):
        root = scratch / f"root_{name.split('_')[1]}"
        monkeypatch.setattr(pretrained, "ROOT", root)
        monkeypatch.setattr(pretrained, "MANIFEST", root / "pretrained" / "manifest.json")
    capsys.readouterr()
    assert cli.main(arguments_of(name, scratch)) == 2
    captured = capsys.readouterr()
    assert_one_line(captured.err, name)


def run_zoo(arguments, cwd=ROOT):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    env.pop("ZOO_NATIVE_LOGS", None)
    return subprocess.run(
        [sys.executable, "-m", "zoo", *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def processes(scratch):
    """The real-process cases, a few at a time (each is mostly interpreter and TensorFlow start-up)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        jobs = {name: pool.submit(run_zoo, arguments_of(name, scratch)) for name in IN_A_PROCESS}
        return {name: job.result() for name, job in jobs.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", IN_A_PROCESS)
def test_a_real_process_prints_the_same_one_line(processes, name):
    result = processes[name]
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert_one_line(result.stderr, name)


BUGGY_RECIPE = '''
"""A copied recipe with a bug: its model's layers do not fit together."""
from recipes.digits_mlp import *  # noqa: F401,F403
from recipes import digits_mlp

import keras


def build_model(config, info):
    inputs = keras.Input(shape=info.input_shape)
    hidden = keras.layers.Dense(8)(inputs)
    return keras.Model(inputs, keras.layers.Reshape((3, 5))(hidden))  # 8 values cannot be 3 x 5.
'''


def test_a_bug_in_a_recipe_is_not_dressed_as_a_user_mistake(tmp_path):
    """A Keras error inside a recipe propagates from cli.main with its traceback: exit 1, not 2."""
    tree = tmp_path / "checkout"
    for folder in ("zoo", "recipes", "layers", "datasets"):
        shutil.copytree(ROOT / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "recipes" / "buggy_mlp.py").write_text(BUGGY_RECIPE)
    result = run_zoo(["train", "buggy_mlp", "max_steps=1", "--workdir", str(tmp_path / "run")], cwd=tree)
    assert result.returncode == 1, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "recipes/buggy_mlp.py" in result.stderr and "Reshape" in result.stderr
    assert "\nerror: " not in "\n" + result.stderr


def test_predicting_an_extreme_input_gives_a_probability_not_an_overflow(tmp_path, capsys):
    values = tmp_path / "row.csv"
    values.write_text(",".join(["-1e6"] * 30) + "\n")
    assert cli.main(["predict", "binary_mlp", "--pretrained", "--input", str(values)]) == 0
    assert "OverflowError" not in capsys.readouterr().err


def test_running_out_of_memory_is_one_line_exit_1(monkeypatch, tmp_path, capsys):
    import tensorflow as tf

    recipe = zoo.get_recipe("perceptron_gates")

    def too_big(config, info):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[100000,100000]")

    monkeypatch.setattr(recipe.module, "build_model", too_big)
    assert cli.main(["train", "perceptron_gates", "--workdir", str(tmp_path / "run"), "--quiet"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "OOM when allocating tensor with shape[100000,100000]" in error


def test_cli_main_lets_a_bug_propagate_and_turns_a_fault_into_one_line_exit_1(monkeypatch, tmp_path, capsys):
    recipe = zoo.get_recipe("perceptron_gates")

    def broken(config):
        raise ValueError("a bug: not a user's mistake")

    monkeypatch.setattr(recipe.module, "load_data", broken)
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["train", "perceptron_gates", "--workdir", str(tmp_path / "a"), "--quiet"])

    def full_disk(config):
        raise OSError(28, "No space left on device", str(tmp_path / "b" / "metrics.jsonl"))

    monkeypatch.setattr(recipe.module, "load_data", full_disk)
    capsys.readouterr()
    assert cli.main(["train", "perceptron_gates", "--workdir", str(tmp_path / "b"), "--quiet"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert error.startswith("error: No space left on device: ") and "metrics.jsonl" in error


def test_options_may_come_before_the_overrides_of_ship():
    """The README's `python -m zoo ship music_lstm --seeds 0,1,2 epochs=3` parses."""
    args = cli.build_parser().parse_args(["ship", "music_lstm", "--seeds", "0,1,2", "epochs=3"])
    assert args.overrides == ["epochs=3"] and args.seeds == "0,1,2"


DAMAGES = {
    "best_weights_truncated": ("best.weights.h5", lambda path: path.write_bytes(path.read_bytes()[:100]), "best.weights.h5 cannot be loaded"),
    "config_not_an_object": ("config.json", lambda path: path.write_text("[1, 2]\n"), "is not a run's config.json"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_a_damaged_run_file_is_one_line_naming_it(tmp_path, capsys, damage, command):
    workdir = tmp_path / "run"
    train = ["train", "perceptron_gates", "epochs=1", "repeats=2", "--quiet", "--workdir", str(workdir)]
    assert cli.main(train) == 0
    name, spoil, phrase = DAMAGES[damage]
    spoil(workdir / name)
    capsys.readouterr()
    argv = train if command == "train" else ["evaluate", "perceptron_gates", "--workdir", str(workdir)]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error and phrase in error and str(workdir / name) in error


def test_an_unreadable_checkpoint_list_is_kept_aside_and_the_run_resumes_from_the_files(tmp_path, caplog):
    workdir = tmp_path / "run"
    train = ["train", "perceptron_gates", "epochs=2", "repeats=2", "checkpoint_seconds=0", "--quiet", "--workdir", str(workdir)]
    assert cli.main(train) == 0
    (workdir / "checkpoints" / "checkpoint").write_bytes(b"garbage\xff\xfe\x00")
    caplog.clear()
    assert cli.main(train) == 0
    assert "checkpoint is unreadable" in caplog.text  # An absl WARNING, shown even with --quiet.
    assert (workdir / "checkpoints" / "checkpoint.unreadable").read_bytes() == b"garbage\xff\xfe\x00"

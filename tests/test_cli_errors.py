"""Bad input anywhere ends in one clear line on stderr and exit code 2, never a traceback.

Every case runs `python -m zoo ...` in a subprocess, as a user would. The
commands run a few at a time (each is mostly interpreter and TensorFlow start-up).
Pretrained files are tampered with in a copy of the code, never in the checkout.
"""

import concurrent.futures
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import zoo

ROOT = pathlib.Path(__file__).resolve().parent.parent
# (arguments, a phrase the one line must contain). {tmp} is a scratch folder,
# {run} a tiny trained music_lstm run, {copy} a copy of the code with its own
# pretrained/ folder.
CASES = {
    # The command line and overrides. The rest of the override mistakes (unknown
    # or mistyped key, wrong type or choice, negative learning rate, missing
    # run) run in-process in tests/zoo/test_cli.py; these few go through a real
    # process to show the one-line promise holds there too.
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
    # Pretrained loading, in a copy of the code.
    "pretrained_tampered": (["evaluate", "perceptron_gates", "--pretrained"], "fails its check", "tampered"),
    "pretrained_missing": (["evaluate", "perceptron_gates", "--pretrained"], "is missing", "missing"),
}


def copy_code(destination: pathlib.Path) -> pathlib.Path:
    for name in ("zoo", "recipes", "layers", "datasets", "pretrained"):
        shutil.copytree(ROOT / name, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def weights_file(code: pathlib.Path) -> pathlib.Path:
    import json

    manifest = json.loads((code / "pretrained" / "manifest.json").read_text())
    return code / manifest["models"]["perceptron_gates"]["files"]["weights"]["path"]


def run_zoo(arguments, cwd):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    env.pop("ZOO_NATIVE_LOGS", None)
    return subprocess.run(
        [sys.executable, "-m", "zoo", *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_errors")
    (tmp / "a_file").write_text("not a directory")
    (tmp / "empty.abc").write_bytes(b"")
    (tmp / "binary.abc").write_bytes(bytes(range(256)) * 20)
    (tmp / "latin1.abc").write_bytes("X:1\nT:Caf\u00e9 \u00e0 la cr\u00e8me\nK:G\n|:GAB c2d:|\n".encode("latin-1") * 50)

    # A tiny trained run to generate from (one step of a small LSTM).
    recipe = zoo.get_recipe("music_lstm")
    config = zoo.make_config(recipe, ["epochs=1", "max_steps=1", "units=8", "embedding_dim=4", "batch_size=8"])
    run = tmp / "run"
    zoo.train(recipe, config, run, verbose=False)

    copies = {}
    has_pretrained = (ROOT / "zoo" / "pretrained.py").exists() and (ROOT / "pretrained" / "manifest.json").exists()
    if has_pretrained:
        for case in ("tampered", "missing"):
            code = copy_code(tmp / f"code_{case}")
            target = weights_file(code)
            if case == "tampered":
                data = bytearray(target.read_bytes())
                data[len(data) // 2] ^= 0x01
                target.write_bytes(bytes(data))
            else:
                target.unlink()
            copies[case] = code

    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        for name, (arguments, _, *copy) in CASES.items():
            if copy and copy[0] not in copies:
                continue
            cwd = copies[copy[0]] if copy else ROOT
            arguments = [a.format(tmp=tmp, run=run) for a in arguments]
            jobs[name] = pool.submit(run_zoo, arguments, cwd)
        return {name: job.result() for name, job in jobs.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gives_one_line_and_exit_code_2(outcomes, name):
    if name not in outcomes:
        pytest.skip("this checkout ships no pretrained checkpoints (no zoo/pretrained.py or manifest)")
    result = outcomes[name]
    expected = CASES[name][1]
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert expected in lines[0], lines[0]
    assert result.returncode == 2, (result.returncode, result.stderr)

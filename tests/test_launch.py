"""What a user sees when a launch or a cluster goes wrong: the chief's own words, within a bounded time.

- Under `launch`, the chief's one-line mistake (exit 2) or its traceback (a bug)
  reaches the terminal, with no "rerun to resume" after a mistake.
- A worker that never joins, or a TF_CONFIG peer that never starts, ends the
  run after the join timeout with one line naming it.
- A TF_CONFIG whose task is outside its cluster, or whose address is not
  host:port, is refused in one line naming the field.
- Native stderr is filtered, not thrown away: a native message written just
  before an abort is still shown.

The recipe files here stop (or hang, or abort) while the registry reads them,
so no case but the TF_CONFIG ones loads TensorFlow in a child process.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys

import pytest

from zoo.commands import cli, launch

ROOT = pathlib.Path(__file__).resolve().parent.parent

BUGGY_RECIPE = '''"""A recipe with a bug: it fails while its file is read."""
raise RuntimeError("a bug in my recipe: " + "not a user's mistake")
'''

# Worker 1 hangs while the registry reads this file, so it never joins; worker 0 reads it,
# finds a recipe (whose pieces are never called), and waits for worker 1.
NEVER_JOINS_RECIPE = '''"""A recipe whose worker 1 never joins its cluster."""
import dataclasses
import json
import os
import time

from recipes import _common

if json.loads(os.environ["TF_CONFIG"])["task"]["index"] == 1:
    time.sleep(600)

TASK = "classification".upper().lower()  # Not a literal: the registry imports this file to describe it.
HEADLINE = "loss"
METRICS = {}


@dataclasses.dataclass(frozen=True)
class Config(_common.TrainConfig):
    pass


def load_data(config):
    raise NotImplementedError


def build_model(config, info):
    raise NotImplementedError


def loss(targets, outputs):
    raise NotImplementedError
'''

ABORTING_RECIPE = '''"""A recipe that dies natively: a message on file descriptor 2, then SIGABRT."""
import os

os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
os.write(2, b"native: failed to allocate 123 bytes in my op\\n")
os.abort()
'''


def environment(**extra):
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG" and not key.startswith(("KERASTUNER_", "ZOO_"))}
    env.update(CUDA_VISIBLE_DEVICES="", **extra)
    return env


def zoo(*arguments, timeout=120, **extra):
    return subprocess.run([sys.executable, "-m", "zoo", *arguments], cwd=ROOT, env=environment(**extra),
                          capture_output=True, text=True, timeout=timeout)


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr[-3000:]
    return lines[0]


@pytest.mark.slow
@pytest.mark.parametrize(("arguments", "phrase"), [
    (["train", "no_such_recipe"], "Unknown recipe 'no_such_recipe'"),
    (["train", "digits_mlp", "epochs=abc"], "epochs='abc' is not an int"),
], ids=["typo", "bad_value"])
def test_a_mistake_under_launch_is_the_chiefs_one_line_and_exit_2(arguments, phrase):
    result = zoo("launch", "--workers", "2", *arguments)
    assert result.returncode == 2, result.stderr[-3000:]
    line = one_error_line(result.stderr)
    assert phrase in line and "resume" not in line


@pytest.mark.slow
def test_a_bug_under_launch_shows_the_chiefs_traceback(tmp_path):
    (tmp_path / "buggy.py").write_text(BUGGY_RECIPE)
    result = zoo("launch", "--workers", "2", "train", str(tmp_path / "buggy.py"), "--workdir", str(tmp_path / "run"))
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: a bug in my recipe: not a user's mistake" in result.stderr
    assert "resume" not in result.stderr


@pytest.mark.slow
def test_a_worker_that_never_joins_ends_the_launch_with_one_line_naming_it(tmp_path):
    (tmp_path / "never_joins.py").write_text(NEVER_JOINS_RECIPE)
    result = zoo("launch", "--workers", "2", "--join-timeout", "1", "train", str(tmp_path / "never_joins.py"),
                 "--workdir", str(tmp_path / "run"), timeout=90)  # Today's main waits here for ever.
    assert result.returncode == 1, result.stderr[-3000:]
    line = one_error_line(result.stderr)
    assert "worker 1 (127.0.0.1:" in line and "did not join within 1 s" in line and "--join-timeout" in line


@pytest.mark.slow
def test_a_tf_config_peer_that_never_starts_ends_train_with_one_line_naming_it(tmp_path):
    addresses = [f"127.0.0.1:{port}" for port in launch.free_ports(2)]
    config = json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": 0}})
    result = zoo("train", "digits_mlp", "max_steps=1", "--quiet", "--workdir", str(tmp_path / "run"),
                 TF_CONFIG=config, ZOO_JOIN_TIMEOUT="1", timeout=90)  # Today's main waits here for ever, silently.
    assert result.returncode == 1, result.stderr[-3000:]
    line = one_error_line(result.stderr)
    assert f"worker 1 ({addresses[1]}" in line and "did not join within 1 s" in line and "ZOO_JOIN_TIMEOUT" in line


BAD_TF_CONFIGS = {
    "index_outside": ({"cluster": {"worker": ["127.0.0.1:2222"]}, "task": {"type": "worker", "index": 3}}, '"task"."index" is 3'),
    "type_outside": ({"cluster": {"worker": ["127.0.0.1:2222"]}, "task": {"type": "chief", "index": 0}}, '"task"."type" is \'chief\''),
    "not_host_port": ({"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}, '"cluster"."worker"[0] is \'localhost\''),
}


@pytest.mark.parametrize("case", sorted(BAD_TF_CONFIGS))
def test_a_bad_tf_config_is_one_line_naming_the_field_and_exit_2(case, tmp_path, monkeypatch, capsys):
    config, phrase = BAD_TF_CONFIGS[case]
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    capsys.readouterr()
    assert cli.main(["train", "perceptron_gates", "epochs=1", "--quiet", "--workdir", str(tmp_path / "run")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "TF_CONFIG " + phrase in line
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_native_message_before_an_abort_is_shown_and_start_up_noise_is_not(tmp_path):
    (tmp_path / "aborting.py").write_text(ABORTING_RECIPE)
    result = zoo("train", str(tmp_path / "aborting.py"), "--workdir", str(tmp_path / "run"))
    assert result.returncode == -signal.SIGABRT, result.stderr[-3000:]
    assert result.stderr == "native: failed to allocate 123 bytes in my op\n"

"""Nothing is lost: one owner per workdir, no adopting what the zoo did not write, data that must match, atomic ship.

Every case checks the refusal's one line and that nothing already in the
directory changed.
"""

import fcntl
import hashlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from zoo import files
from zoo.hub import ship as cards, pretrained
from zoo.commands import cli
from zoo.engine import rundir

ROOT = pathlib.Path(__file__).resolve().parent.parent
GATES = ["perceptron_gates", "epochs=1", "repeats=2", "--quiet"]


def snapshot(directory: pathlib.Path) -> dict:
    """Every file under `directory` (but the lock file) with the sha256 of its bytes."""
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != files.LOCK_NAME
    }


def one_error_line(capsys) -> str:
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("error: ") and "Traceback" not in error, error
    return error


# ------------------------------------------------------------ one owner per workdir


def test_a_workdir_in_use_is_refused_naming_the_holder_and_nothing_is_touched(tmp_path, capsys):
    workdir = tmp_path / "run"
    assert cli.main(["train", *GATES, "--workdir", str(workdir)]) == 0
    before = snapshot(workdir)
    # Another process's lock: flock locks of two open files conflict even within one process.
    with open(workdir / files.LOCK_NAME, "a+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        holder.seek(0)
        holder.truncate()
        holder.write("4242\n")
        holder.flush()
        capsys.readouterr()
        for command in (["train", *GATES], ["compare", "perceptron_gates", "learning_rate=0.1,0.2", "repeats=2"]):
            assert cli.main([*command, "--workdir", str(workdir)]) == 2
            assert "is in use by process 4242" in one_error_line(capsys)
    assert snapshot(workdir) == before
    assert cli.main(["train", *GATES, "--workdir", str(workdir)]) == 0  # Released: the rerun resumes.


def test_the_lock_of_a_killed_process_does_not_block_the_rerun(tmp_path, capsys):
    workdir = tmp_path / "run"
    workdir.mkdir()
    code = (
        "import fcntl, os, sys, time\n"
        "f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX); f.write(str(os.getpid())); f.flush()\n"
        "print('locked', flush=True); time.sleep(120)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(workdir / files.LOCK_NAME)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert cli.main(["train", *GATES, "--workdir", str(workdir)]) == 2
        assert f"in use by process {holder.pid}" in one_error_line(capsys)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert cli.main(["train", *GATES, "--workdir", str(workdir)]) == 0


# -------------------------------------------------- never adopt what we did not write


def test_a_non_empty_workdir_without_a_run_is_refused_and_kept(tmp_path, capsys):
    workdir = tmp_path / "mine"
    workdir.mkdir()
    (workdir / "metrics.jsonl").write_text("my own notes\n")
    (workdir / "best.weights.h5").write_bytes(b"my own weights")
    before = snapshot(workdir)
    assert cli.main(["train", *GATES, "--workdir", str(workdir)]) == 2
    error = one_error_line(capsys)
    assert "is not empty (best.weights.h5, metrics.jsonl)" in error and "no config.json" in error
    assert snapshot(workdir) == before


def test_a_run_whose_config_json_was_lost_is_not_resumed_under_another_config(tmp_path, capsys):
    workdir = tmp_path / "run"
    assert cli.main(["train", *GATES, "--workdir", str(workdir)]) == 0
    (workdir / "config.json").rename(tmp_path / "config.json.saved")
    before = snapshot(workdir)
    assert cli.main(["train", *GATES, "learning_rate=0.5", "--workdir", str(workdir)]) == 2
    assert "holds no run of the zoo (no config.json)" in one_error_line(capsys)
    assert snapshot(workdir) == before


def test_an_empty_workdir_argument_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", *GATES, "--workdir", ""]) == 2
    assert "The workdir is empty" in one_error_line(capsys)
    assert not list(tmp_path.iterdir())


def test_a_resume_on_changed_data_is_refused(tmp_path, capsys):
    tune = "X:1\nT:A\nK:D\n|:dAFA dAFA|GBdB GBdB:|\n\n"
    data = tmp_path / "tunes.abc"
    data.write_text(tune * 30)
    workdir = tmp_path / "run"
    arguments = ["train", "music_lstm", "epochs=1", "max_steps=2", "units=4", "embedding_dim=4", "batch_size=4",
                 "sequence_length=16", f"data_path={data}", "--quiet", "--workdir", str(workdir)]
    assert cli.main(arguments) == 0
    data.write_text(tune * 30 + "X:2\nK:G\n|:GABc dedB:|\n")  # One more tune, new characters too.
    before = snapshot(workdir)
    capsys.readouterr()
    assert cli.main(arguments) == 2
    assert "trained on other data" in one_error_line(capsys)
    assert snapshot(workdir) == before


# ------------------------------------------------------------------- ship is atomic


SHIP = (["gate=and", "hidden_units=0", "epochs=2", "repeats=2"], [0, 1])


def weights_of(model):
    return [np.asarray(weight) for weight in model.get_weights()]


@pytest.fixture(scope="module")
def shipped_twice(tmp_path_factory):
    """Two ships of perceptron_gates (other learning rates), each in its own run folder."""
    tmp = tmp_path_factory.mktemp("ships")
    runs = {}
    for version, rate in (("old", "0.1"), ("new", "0.7")):
        destination = tmp / version / "pretrained" / "perceptron_gates"
        manifest = tmp / version / "pretrained" / "manifest.json"
        cards.ship("perceptron_gates", [*SHIP[0], f"learning_rate={rate}"], SHIP[1], workdir=tmp / f"runs_{version}",
                   verbose=False, destination=destination, manifest_path=manifest)
        runs[version] = (destination, manifest)
    return runs


@pytest.mark.parametrize("killed_at", ["moving_old_aside", "moving_new_in", "writing_manifest", "removing_old", None])
def test_a_ship_killed_at_any_step_leaves_the_old_or_the_new_checkpoint_verified(tmp_path, shipped_twice, monkeypatch, killed_at):
    old_destination, old_manifest = shipped_twice["old"]
    new_destination, new_manifest = shipped_twice["new"]
    shelf = tmp_path / "pretrained"
    shutil.copytree(old_destination.parent, shelf)
    destination, manifest = shelf / "perceptron_gates", shelf / "manifest.json"
    manifest.write_text(manifest.read_text().replace(str(old_destination), str(destination)))
    expected = {
        "old": weights_of(pretrained.load("perceptron_gates", manifest_path=old_manifest).model),
        "new": weights_of(pretrained.load("perceptron_gates", manifest_path=new_manifest).model),
    }
    assert any(not np.array_equal(a, b) for a, b in zip(expected["old"], expected["new"]))
    staging = destination.with_name(".perceptron_gates.new")
    shutil.copytree(new_destination, staging)
    entry = pretrained.read_manifest(new_manifest)["models"]["perceptron_gates"]
    entry = json.loads(json.dumps(entry).replace(str(new_destination), str(destination)))

    # The swap's steps: three renames (old aside, new in, the manifest's atomic write), then removing the old.
    steps = ["moving_old_aside", "moving_new_in", "writing_manifest"]
    done = []
    real_replace, real_rmtree = os.replace, shutil.rmtree

    def replace(source, target):
        step = steps[len(done)] if len(done) < len(steps) else None
        if step is not None and step == killed_at:
            raise KeyboardInterrupt(f"killed while {killed_at}")
        done.append(target)
        real_replace(source, target)

    def rmtree(path, *args, **kwargs):
        if killed_at == "removing_old":
            raise KeyboardInterrupt("killed while removing_old")
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(cards.os, "replace", replace)
    monkeypatch.setattr(rundir.os, "replace", replace)
    monkeypatch.setattr(cards.shutil, "rmtree", rmtree)
    if killed_at is None:
        cards.swap_in(staging, destination, "perceptron_gates", entry, manifest)
    else:
        with pytest.raises(KeyboardInterrupt):
            cards.swap_in(staging, destination, "perceptron_gates", entry, manifest)
    monkeypatch.undo()

    version = "old" if killed_at in steps else "new"
    for a, b in zip(weights_of(pretrained.load("perceptron_gates", manifest_path=manifest).model), expected[version]):
        np.testing.assert_array_equal(a, b)
    # The next ship's recovery finishes or undoes the swap; the shelf is clean again.
    cards.recover_swap(destination, "perceptron_gates", manifest)
    assert not destination.with_name(".perceptron_gates.old").exists()
    for a, b in zip(weights_of(pretrained.load("perceptron_gates", manifest_path=manifest).model), expected[version]):
        np.testing.assert_array_equal(a, b)


def test_the_manifest_covers_every_shipped_file():
    manifest = pretrained.read_manifest()["models"]
    listed = {}
    for entry in manifest.values():
        for spec in entry["files"].values():
            listed[spec["path"]] = spec["sha256"]
    on_disk = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "pretrained").rglob("*")
        if path.is_file() and path.name not in ("README.md", "manifest.json") and not path.name.endswith(".lock")
    }
    assert on_disk == set(listed)
    for path, sha in listed.items():
        assert files.sha256_file(ROOT / path) == sha, path


def test_export_never_replaces_what_is_there(tmp_path, capsys):
    out = tmp_path / "exports"
    assert cli.main(["export", "digits_mlp", "--pretrained", "--format", "tflite", "--out", str(out)]) == 0
    before = snapshot(out)
    capsys.readouterr()
    assert cli.main(["export", "digits_mlp", "--pretrained", "--format", "tflite", "--out", str(out)]) == 2
    assert "already exists; export never replaces" in one_error_line(capsys)
    assert snapshot(out) == before


# ------------------------------------------------ outputs never reach outside --out


def files_under(directory: pathlib.Path) -> dict:
    """Every entry under `directory` (links not followed): its bytes for a file, its target for a link."""
    return {
        str(path.relative_to(directory)): os.readlink(path) if path.is_symlink() else path.read_bytes() if path.is_file() else None
        for path in sorted(directory.rglob("*"))
    }


def test_attention_never_overwrites_a_png_it_did_not_write(tmp_path, capsys):
    user = tmp_path / "map.png"
    user.write_bytes(b"\x89PNG\r\n\x1a\nthe user's own picture")
    before = files_under(tmp_path)
    code = cli.main(["attention", "music_transformer", "--pretrained", "--text", "X:1", "--out", str(user)])
    assert code == 2
    assert "already has map.png, which attention did not write" in one_error_line(capsys)
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("command", ["generate", "gallery"])
def test_a_forged_record_cannot_delete_through_a_linked_folder(tmp_path, capsys, command):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    if command == "generate":
        record, argv = "generation.json", ["generate", "music_lstm", "--pretrained", "--length", "5", "--out", str(out)]
    else:
        (tmp_path / "abcjs.js").write_text("// abcjs")
        record, argv = "gallery.json", ["gallery", "--only", "digits_mlp", "--abcjs", str(tmp_path / "abcjs.js"), "--out", str(out)]
    (out / record).write_text(json.dumps({"files": ["link/victim.txt"]}))
    before = files_under(tmp_path)
    assert cli.main(argv) == 2
    error = one_error_line(capsys)
    assert f"lists 'link/victim.txt', but {out / 'link'} is a symbolic link" in error
    assert files_under(tmp_path) == before


@pytest.mark.parametrize(
    "name, argv",
    [
        ("generated.txt", ["generate", "music_lstm", "--pretrained", "--length", "5"]),
        ("model.tflite", ["export", "digits_mlp", "--pretrained", "--format", "tflite"]),
        ("savedmodel", ["export", "digits_mlp", "--pretrained", "--format", "savedmodel"]),
    ],
)
def test_a_dangling_link_named_like_an_output_is_not_written_through(tmp_path, capsys, name, argv):
    outside, out = tmp_path / "outside", tmp_path / "out"
    outside.mkdir()
    out.mkdir()
    (out / name).symlink_to(outside / name)  # Dangling: writing through it would create outside/NAME.
    before = files_under(tmp_path)
    assert cli.main([*argv, "--out", str(out)]) == 2
    assert f"{out / name} is a symbolic link" in one_error_line(capsys)
    assert files_under(tmp_path) == before and not os.path.lexists(outside / name)


@pytest.mark.parametrize(
    "link, target",
    [
        ("mine/linked.py", "digits_mlp.py"),  # Another stem: no module recipes.linked to import.
        ("mine/digits_mlp.py", "binary_mlp.py"),  # The stem of another zoo recipe: which one would run?
    ],
)
def test_a_linked_recipe_file_that_renames_its_target_is_refused(tmp_path, capsys, monkeypatch, link, target):
    monkeypatch.chdir(tmp_path)
    (tmp_path / link).parent.mkdir()
    (tmp_path / link).symlink_to(ROOT / "recipes" / target)
    recipe_before = (ROOT / "recipes" / target).read_bytes()
    before = files_under(tmp_path)
    assert cli.main(["train", link, "epochs=1", "max_steps=1", "--quiet"]) == 2
    error = one_error_line(capsys)
    assert f"recipe file {link} is a symbolic link to {ROOT / 'recipes' / target}" in error
    assert files_under(tmp_path) == before  # No runs/ folder, nothing trained.
    assert (ROOT / "recipes" / target).read_bytes() == recipe_before


def test_a_linked_recipe_file_that_keeps_its_name_is_the_file_it_links_to(tmp_path):
    from zoo.engine import registry

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "digits_mlp.py").symlink_to(ROOT / "recipes" / "digits_mlp.py")
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(ROOT / "recipes" / "binary_mlp.py", tmp_path / "elsewhere" / "my_mlp.py")
    (tmp_path / "mine" / "my_mlp.py").symlink_to(tmp_path / "elsewhere" / "my_mlp.py")
    zoo_own = registry.get_recipe(str(tmp_path / "mine" / "digits_mlp.py"))
    assert zoo_own.name == "digits_mlp" and zoo_own.module is registry.get_recipe("digits_mlp").module
    assert registry.describe(str(tmp_path / "mine" / "digits_mlp.py")).Config is registry.describe("digits_mlp").Config
    theirs = registry.get_recipe(str(tmp_path / "mine" / "my_mlp.py"))
    assert theirs.name == "my_mlp" and theirs.path == (tmp_path / "elsewhere" / "my_mlp.py").resolve()


def test_attention_replaces_its_own_png_and_keeps_the_others_it_wrote(tmp_path, capsys):
    argv = ["attention", "music_transformer", "--pretrained", "--text", "X:1"]
    for block in ("1", "2", "1"):  # The rerun of block 1 replaces its PNG; block 2's stays.
        assert cli.main([*argv, "--block", block, "--out", str(tmp_path / f"block{block}.png")]) == 0
    assert json.loads((tmp_path / "attention.json").read_text())["files"] == ["block1.png", "block2.png"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [".lock", "attention.json", "block1.png", "block2.png"]

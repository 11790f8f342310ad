"""Faults of the environment: one line, exit code 1, nothing saved is lost, and the rerun ends as if nothing happened.

The faults are injected where the zoo writes (a full disk while appending to
metrics.jsonl) or made real where a root-run test can still make them (a
checkpoints/ that is a file, so nothing can be written into it).
"""

import errno
import json

import numpy as np

from zoo.commands import cli
from zoo.hub import pretrained
from zoo.engine import rundir

GATES = ["train", "perceptron_gates", "epochs=4", "repeats=2", "checkpoint_seconds=0", "--quiet"]


def weights_and_records(workdir):
    import h5py

    arrays = {}
    with h5py.File(workdir / "final.weights.h5", "r") as handle:
        handle.visititems(lambda name, item: arrays.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    records = [{k: v for k, v in json.loads(line).items() if k != "wall_time"}
               for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    return arrays, records


def test_a_disk_that_fills_mid_run_is_one_line_and_the_rerun_is_bit_identical(tmp_path, capsys, monkeypatch):
    assert cli.main([*GATES, "--workdir", str(tmp_path / "reference")]) == 0
    workdir = tmp_path / "run"
    append = rundir.RunDir.append_metrics
    appended = []

    def disk_fills_at_the_third_epoch(self, record):
        appended.append(record)
        if len(appended) == 5:  # The third epoch's train record.
            raise OSError(errno.ENOSPC, "No space left on device", str(self.metrics_path))
        append(self, record)

    monkeypatch.setattr(rundir.RunDir, "append_metrics", disk_fills_at_the_third_epoch)
    capsys.readouterr()
    assert cli.main([*GATES, "--workdir", str(workdir)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert error.startswith("error: No space left on device: ") and "metrics.jsonl" in error
    assert len(list((workdir / "checkpoints").glob("ckpt-*.index"))) == 2  # Epochs 1 and 2's checkpoints are kept.
    monkeypatch.setattr(rundir.RunDir, "append_metrics", append)

    assert cli.main([*GATES, "--workdir", str(workdir)]) == 0  # Room again: it resumes from epoch 2.
    (expected_weights, expected_records), (weights, records) = (
        weights_and_records(tmp_path / "reference"), weights_and_records(workdir)
    )
    assert records == expected_records
    for name in expected_weights:
        np.testing.assert_array_equal(weights[name], expected_weights[name])


def test_an_unwritable_checkpoints_folder_is_found_before_any_training(tmp_path, capsys):
    workdir = tmp_path / "run"
    assert cli.main([*GATES[:2], "epochs=1", *GATES[3:], "--workdir", str(workdir)]) == 0
    checkpoints = workdir / "checkpoints"
    saved = {path.name: path.read_bytes() for path in checkpoints.iterdir()}
    (tmp_path / "kept").mkdir()
    checkpoints.rename(tmp_path / "kept" / "checkpoints")
    checkpoints.write_text("a file where the folder should be")  # Nothing can be written into it.
    capsys.readouterr()
    assert cli.main([*GATES, "--workdir", str(workdir)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"{checkpoints} cannot be written" in error
    assert checkpoints.read_text() == "a file where the folder should be"
    assert {p.name: p.read_bytes() for p in (tmp_path / "kept" / "checkpoints").iterdir()} == saved


def test_a_manifest_entry_of_the_wrong_shape_is_one_line(tmp_path, capsys, monkeypatch):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"models": {"digits_mlp": ["not", "an", "object"]}}))
    monkeypatch.setattr(pretrained, "MANIFEST", manifest)
    assert cli.main(["evaluate", "digits_mlp", "--pretrained"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "the entry 'digits_mlp' is not an object" in error and str(manifest) in error

"""A run directory: config.json, metrics.jsonl, weights, curves.png, tensorboard/.

    WORKDIR/
      config.json        recipe, its file (path, sha256), resolved config, versions, git commit
      metrics.jsonl      one JSON object per evaluation (step, epoch, split, loss, ...)
      checkpoints/       tf.train.CheckpointManager files
      final.weights.h5   weights after the last step
      best.weights.h5    weights at the best validation loss
      tensorboard/       summaries
      curves.png         loss and headline metric per epoch

A workdir has one owner at a time: every command that writes one holds an
exclusive lock on WORKDIR/.lock (`owned`) for as long as it writes, and a
second process is refused with the holder's pid (and the holder's note: a
distributed search's chief names its oracle there, so that its workers can
check, with `holder`, that the folder is their chief's). The kernel releases the lock
when its process ends, however it ends, so a killed run never blocks its rerun.
A workdir that holds a run of another recipe or config, or files the zoo did
not write, is refused, so two runs are never silently mixed.
"""

import contextlib
import json
import os
import pathlib
import platform
import shutil
import subprocess
import tempfile

from zoo.engine import config as config_lib
from zoo import errors, files

MIN_FREE_BYTES = 64 * 1024 * 1024


# The one default folder of runs, relative to where the zoo runs: runs/NAME for a
# recipe's training run, runs/compare/..., runs/tune/..., runs/ship/NAME.
RUNS = pathlib.Path("runs")


def default_workdir(name: str, *parts: str) -> pathlib.Path:
    """runs/NAME (or runs/NAME/PARTS...): where a command works when no --workdir is given."""
    return RUNS.joinpath(name, *parts)


class RunDir:
    """Paths and small file formats of one run directory.

    Args:
        path: the directory.
        writer: False for a worker of a multi-worker run other than the chief:
            it reads the directory the chief writes, and its writes do nothing.
    """

    def __init__(self, path, writer: bool = True):
        self.path = pathlib.Path(path)
        self.writer = writer

    config_path = property(lambda self: self.path / "config.json")
    metrics_path = property(lambda self: self.path / "metrics.jsonl")
    checkpoints = property(lambda self: self.path / "checkpoints")
    final_weights = property(lambda self: self.path / "final.weights.h5")
    best_weights = property(lambda self: self.path / "best.weights.h5")
    tensorboard = property(lambda self: self.path / "tensorboard")
    curves = property(lambda self: self.path / "curves.png")

    def owned(self):
        """The directory's lock for a writer (see `files.owned`); nothing for a reader."""
        return files.owned(self.path) if self.writer else contextlib.nullcontext(self.path)

    def prepare(self) -> None:
        """Creates the directory and checks, before any training, that it is usable.

        Raises:
            ValueError: the directory cannot be created or written, or the disk
                under it is nearly full.
        """
        if not self.writer:
            return
        _check_writable(self.path, f"Workdir {str(self.path)!r} cannot be written", "pass --workdir with a writable directory.")
        if self.checkpoints.exists():  # A resume writes there too: find out now, not after the training.
            _check_writable(
                self.checkpoints, f"{self.checkpoints} cannot be written", "fix it (nothing was trained or changed) and rerun."
            )
        saved = self.config_path.exists()
        foreign = sorted(path.name for path in self.path.iterdir() if not _is_own_scratch(path.name))
        if not saved and foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise errors.UserError(
                f"Workdir {str(self.path)!r} is not empty ({shown}) and holds no run of the zoo "
                "(no config.json); nothing in it was touched. Pass an empty or new --workdir."
            )
        free = shutil.disk_usage(self.path).free
        if free < MIN_FREE_BYTES:
            raise errors.UserError(
                f"Only {free // 2**20} MiB free under {str(self.path)!r}; a run needs "
                f"at least {MIN_FREE_BYTES // 2**20} MiB. Free some space or pick another --workdir."
            )

    def read_config(self):
        """The saved config.json as a dict, or None if there is none."""
        if not self.config_path.exists():
            return None
        saved = files.read_json(self.config_path, "move the workdir aside or pass another --workdir", kind=None)
        if not (isinstance(saved, dict) and isinstance(saved.get("recipe"), str) and isinstance(saved.get("config"), dict)):
            raise errors.UserError(
                f"{self.config_path} is not a run's config.json (expected an object with \"recipe\" and "
                "\"config\"); move the workdir aside or pass another --workdir."
            )
        return saved

    def write_config(self, recipe: str, config: dict, data_fingerprint: str = "", recipe_file=None) -> None:
        """Writes config.json; `recipe_file` is the recipe's {"path", "sha256"} (Recipe.source)."""
        if not self.writer:
            return
        record = {
            "recipe": recipe,
            "recipe_file": dict(recipe_file or {}),
            "config": config,
            "data_fingerprint": data_fingerprint,
            "versions": versions(),
            "git_commit": git_commit(),
        }
        files.write_atomically(self.config_path, json.dumps(record, indent=2) + "\n")

    def read_metrics(self) -> list:
        if not self.metrics_path.exists():
            return []
        records = []
        for line in self.metrics_path.read_text().splitlines():
            line = line.strip()
            if line:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    break  # A line cut short by a kill: everything after it is gone too.
                if not isinstance(record, dict):
                    break  # Not a record of ours: neither is anything after it.
                records.append(record)
        return records

    def append_metrics(self, record: dict) -> None:
        if not self.writer:
            return
        with self.metrics_path.open("a") as stream:
            stream.write(json.dumps(record) + "\n")

    def truncate_metrics(self, last_step: int, keep=None) -> None:
        """Keeps the records that belong to a restored checkpoint; a resumed run rewrites the rest.

        Args:
            last_step: the restored step; records of later steps are dropped.
            keep: how many records the checkpoint says were written (None: unknown,
                keep every record up to `last_step`).
        """
        if not self.writer or not self.metrics_path.exists():
            return
        kept = [record for record in self.read_metrics() if record.get("step", 0) <= last_step]
        if keep is not None:
            kept = kept[:keep]
        files.write_atomically(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept))


def _check_writable(folder: pathlib.Path, what: str, remedy: str) -> None:
    """Creates `folder` if needed and writes (and removes) a scratch file in it; UserError if it cannot."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as error:
        raise errors.UserError(f"{what} ({error.strerror}); {remedy}") from None


def _check_creatable(folder: pathlib.Path) -> None:
    """UserError when `folder` does not exist and could not be made: the nearest existing folder
    above it is a file, or cannot be written. Creates nothing (RunDir.prepare writes to find out)."""
    above = folder.absolute()
    while not above.exists():
        above = above.parent
    if above == folder.absolute():
        return
    if not above.is_dir():
        reason = f"{str(above)!r} is a file, not a folder"
    elif not os.access(above, os.W_OK | os.X_OK):
        reason = f"{str(above)!r} cannot be written"
    else:
        return
    raise errors.UserError(f"Workdir {str(folder)!r} cannot be written ({reason}); pass --workdir with a writable directory.")


def _is_own_scratch(name: str) -> bool:
    """The lock file, and temporary files a killed write of ours may leave behind."""
    return name == files.LOCK_NAME or name.startswith((".tmp-", ".write-test-")) or (name.startswith(".") and name.endswith(".tmp"))


def versions() -> dict:
    import keras
    import numpy
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores",
    }


def git_commit() -> str:
    """The zoo checkout's HEAD commit (with '+dirty' if the tree has changes), or ''.

    '' too for an installed zoo: its folder is then site-packages, which may sit
    inside some other repository whose commit says nothing of the zoo's code.
    """
    root = pathlib.Path(__file__).resolve().parents[2]
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True, timeout=5
        )
        if top.returncode != 0 or pathlib.Path(top.stdout.strip()).resolve() != root:
            return ""
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return ""
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return head.stdout.strip() + ("+dirty" if status.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return ""


def check_recipe_file(run_path, saved: dict, current: dict) -> None:
    """Refuses a run made by another recipe file of the same name (one that still exists elsewhere).

    `saved` is the run's config.json, `current` the recipe's {"path", "sha256"}.
    A file moved since (its old path gone) is accepted; an edited one is left to
    the caller, which warns.
    """
    recorded = (saved.get("recipe_file") or {}).get("path")
    if not (recorded and current and current.get("path")):
        return
    if pathlib.Path(recorded) != pathlib.Path(current["path"]) and pathlib.Path(recorded).exists():
        raise errors.UserError(
            f"Workdir {str(run_path)!r} holds a run of {recorded}, not of {current['path']} (two recipe files "
            "with the same name); pass another --workdir."
        )


def check_resumable(run, recipe_name: str, config: dict, recipe_file=None):
    """The run's config.json if training `recipe_name` with `config` may resume it, None for a new run.

    Reads (no TensorFlow, nothing left behind: an existing checkpoints/ is only
    test-written), so `train` can refuse a wrong --workdir at once; the trainer
    asks again once it holds the directory.

    Raises:
        errors.UserError: the workdir is a file, holds files but no run, or holds a
            run of another recipe (or recipe file) or with another config (the
            config's SPEED_KEYS may differ: they change the speed, not the results).
    """
    run = run if isinstance(run, RunDir) else RunDir(run)
    if run.path.exists() and not run.path.is_dir():
        raise errors.UserError(f"Workdir {str(run.path)!r} is a file, not a folder; pass another --workdir.")
    _check_creatable(run.path)
    if run.checkpoints.exists():  # As RunDir.prepare checks it, and in the same order.
        _check_writable(run.checkpoints, f"{run.checkpoints} cannot be written", "fix it (nothing was trained or changed) and rerun.")
    saved = run.read_config() if run.path.is_dir() else None
    if saved is None:
        foreign = sorted(path.name for path in run.path.iterdir() if not _is_own_scratch(path.name)) if run.path.is_dir() else []
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise errors.UserError(
                f"Workdir {str(run.path)!r} is not empty ({shown}) and holds no run of the zoo "
                "(no config.json); nothing in it was touched. Pass an empty or new --workdir."
            )
        return None
    if saved.get("recipe") != recipe_name:
        raise errors.UserError(
            f"Workdir {str(run.path)!r} holds a run of recipe "
            f"{saved.get('recipe')!r}, not {recipe_name!r}; pass another --workdir."
        )
    changed = [line for line in config_lib.differences(saved.get("config", {}), config) if line.split(":")[0] not in config_lib.SPEED_KEYS]
    if changed:
        raise errors.UserError(
            f"Workdir {str(run.path)!r} holds a run with a different config "
            f"({'; '.join(changed)}); rerun with the same config to resume, or pass "
            "another --workdir."
        )
    check_recipe_file(run.path, saved, recipe_file)
    return saved


def check_resume(run, recipe, config: dict, warn):
    """`check_resumable` for the trainer, which holds the workdir; a changed recipe file is said with `warn`."""
    source = recipe.source
    saved = check_resumable(run, recipe.name, config, source)
    recorded = ((saved or {}).get("recipe_file") or {}).get("sha256")
    if recorded and source and recorded != source["sha256"]:
        # An edit may be a comment or a bug fix: resume, but say so.
        warn(
            f"{source['path']} changed since the run in {str(run.path)!r} began (sha256 "
            f"{recorded[:12]}..., now {source['sha256'][:12]}...); resuming with the file as it is now."
        )
    return saved


def check_same_data(run, saved, fingerprint: str) -> None:
    """A resume must see the data its run was trained on (a `data_path=` file may have changed)."""
    recorded = (saved or {}).get("data_fingerprint")
    if recorded and recorded != fingerprint:
        raise errors.UserError(
            f"Workdir {str(run.path)!r} holds a run trained on other data (fingerprint "
            f"{recorded[:12]}..., now {fingerprint[:12]}...; did a data_path= file change?); nothing was "
            "changed. Restore that data to resume, or pass another --workdir."
        )


def finished_run(workdir, recipe_name: str, weights: str = "best", recipe_file=None):
    """(the run's config.json as a dict, its weights file) for a finished run of `recipe_name`.

    Reads only JSON and file names (no TensorFlow), so `evaluate` refuses a
    wrong --workdir at once.

    Raises:
        errors.MissingFileError: no config.json, or no such weights file yet.
        errors.UserError: the run belongs to another recipe, or `weights` is unknown.
    """
    run = RunDir(workdir)
    paths = {"best": run.best_weights, "final": run.final_weights}
    if weights not in paths:
        raise errors.UserError(f"weights={weights!r}: use best or final.")
    saved = run.read_config()
    if saved is None:
        raise errors.MissingFileError(
            f"no run in {str(run.path)!r} (no config.json); train first with "
            f"`python -m zoo train {recipe_name} --workdir {run.path}`, or pass --pretrained "
            "for the shipped weights."
        )
    if saved.get("recipe") != recipe_name:
        raise errors.UserError(
            f"Workdir {str(run.path)!r} holds a run of recipe {saved.get('recipe')!r}, not "
            f"{recipe_name!r}; pass the right --workdir."
        )
    check_recipe_file(run.path, saved, recipe_file)
    path = paths[weights]
    if not path.exists() and weights == "best" and run.final_weights.exists():
        raise errors.MissingFileError(
            f"{path} does not exist: the run in {str(run.path)!r} finished without a finite validation "
            "loss, so it has no best weights; retrain it (a lower learning_rate, grad_clip_norm) into a new --workdir."
        )
    if not path.exists():
        raise errors.MissingFileError(
            f"{path} does not exist: the run in {str(run.path)!r} has not finished an epoch yet; "
            "rerun the same train command to train it further."
        )
    return saved, path

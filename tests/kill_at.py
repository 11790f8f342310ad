"""Runs the zoo's command line and SIGKILLs the process at a chosen point (for tests/test_resume.py).

    python -m tests.kill_at step:N train digits_mlp ... --workdir DIR

- step:N  at the end of the first compiled call that reaches optimizer step N
          (before that call's `checkpoint_every` save);
- eval:N  inside this process's N-th end-of-epoch evaluation, after the
          epoch's train record is written and before its validation record;
- save:N  inside this process's N-th checkpoint save, after the checkpoint's
          files are written and before the checkpoint list names them;
- write:N as this process's N-th `files.write_atomically` begins (nothing of
          that file written): every JSON state file of a search (zoo_search.json,
          keras-tuner's oracle.json, trial.json and tuner0.json, our
          zoo_trial.json) and a run's config.json go through it;
- replace:N at this process's N-th `os.replace`, the new file written beside
          its target but not yet renamed over it (the weights files too).

The trainer has no test code: this module wraps, from outside, the methods
that those points sit in. A test that cannot afford a process per kill passes
its own `kill` (one that raises; it is told where: the file being written or
replaced, the step, the evaluation or the save's number) and `patch` (pytest's
monkeypatch.setattr) to `install`.
"""

import os
import signal
import sys

import tensorflow as tf

from zoo import files
from zoo.commands import cli
from zoo.engine import rundir, trainer


def kill_self(where=None) -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(kind: str, number: int, kill=kill_self, patch=setattr) -> None:
    """Calls `kill(where)` at the `number`-th `kind` point; `patch(owner, name, value)` installs each wrapper."""
    if kind == "step":
        after_call = trainer.Trainer._after_call

        def killing_after_call(self, step, outputs):
            if step >= number:
                kill(f"step {step}")
            after_call(self, step, outputs)

        patch(trainer.Trainer, "_after_call", killing_after_call)
    elif kind == "eval":
        append = rundir.RunDir.append_metrics
        evaluations = [0]

        def killing_append(self, record):
            if record["split"] == "validation":
                evaluations[0] += 1
                if evaluations[0] == number:
                    kill(f"evaluation {number}")
            append(self, record)

        patch(rundir.RunDir, "append_metrics", killing_append)
    elif kind == "save":
        save = tf.train.CheckpointManager.save
        saves = [0]

        def killing_save(self, checkpoint_number=None, **kwargs):
            saves[0] += 1
            if saves[0] == number:
                self._checkpoint.write(os.path.join(self.directory, f"ckpt-{checkpoint_number}"))
                kill(f"checkpoint save {number}")
            return save(self, checkpoint_number=checkpoint_number, **kwargs)

        patch(tf.train.CheckpointManager, "save", killing_save)
    elif kind == "write":
        write_atomically = files.write_atomically
        writes = [0]

        def killing_write(path, text):
            writes[0] += 1
            if writes[0] == number:
                kill(str(path))
            return write_atomically(path, text)

        patch(files, "write_atomically", killing_write)
    elif kind == "replace":
        replace = os.replace
        replaces = [0]

        def killing_replace(source, target, *args, **kwargs):
            replaces[0] += 1
            if replaces[0] == number:
                kill(str(target))
            return replace(source, target, *args, **kwargs)

        patch(os, "replace", killing_replace)
    else:
        raise SystemExit(f"kill point {kind!r}: use step:N, eval:N, save:N, write:N or replace:N")


def main(argv) -> int:
    kind, _, number = argv[0].partition(":")
    install(kind, int(number))
    return cli.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

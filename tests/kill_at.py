"""Runs the zoo's command line and SIGKILLs the process at a chosen point (for tests/test_resume.py).

    python -m tests.kill_at step:N train digits_mlp ... --workdir DIR

- step:N  at the end of the first compiled call that reaches optimizer step N
          (before that call's `checkpoint_every` save);
- eval:N  inside this process's N-th end-of-epoch evaluation, after the
          epoch's train record is written and before its validation record;
- save:N  inside this process's N-th checkpoint save, after the checkpoint's
          files are written and before the checkpoint list names them.

The trainer has no test code: this module wraps, from outside, the three
methods that those points sit in.
"""

import os
import signal
import sys

import tensorflow as tf

from zoo.commands import cli
from zoo.engine import rundir, trainer


def kill_self() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(kind: str, number: int) -> None:
    if kind == "step":
        after_call = trainer.Trainer._after_call

        def killing_after_call(self, step, outputs):
            if step >= number:
                kill_self()
            after_call(self, step, outputs)

        trainer.Trainer._after_call = killing_after_call
    elif kind == "eval":
        append = rundir.RunDir.append_metrics
        evaluations = [0]

        def killing_append(self, record):
            if record["split"] == "validation":
                evaluations[0] += 1
                if evaluations[0] == number:
                    kill_self()
            append(self, record)

        rundir.RunDir.append_metrics = killing_append
    elif kind == "save":
        save = tf.train.CheckpointManager.save
        saves = [0]

        def killing_save(self, checkpoint_number=None, **kwargs):
            saves[0] += 1
            if saves[0] == number:
                self._checkpoint.write(os.path.join(self.directory, f"ckpt-{checkpoint_number}"))
                kill_self()
            return save(self, checkpoint_number=checkpoint_number, **kwargs)

        tf.train.CheckpointManager.save = killing_save
    else:
        raise SystemExit(f"kill point {kind!r}: use step:N, eval:N or save:N")


def main(argv) -> int:
    kind, _, number = argv[0].partition(":")
    install(kind, int(number))
    return cli.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`python -m zoo ...` and the installed `zoo` command: see zoo/commands/cli.py."""

import os
import sys

from zoo import native_logs

def _filter_native_stderr() -> None:
    """Keeps TensorFlow's C++ start-up lines out of the terminal, and everything else in it.

    File descriptor 2 becomes a pipe read by a forked filter process, which
    drops the known start-up lines and notes (native_logs.is_noise) and forwards every other
    line to the real stderr: a native error, an abort's last words. Being a
    process of its own, the filter outlives this one, so it still forwards what
    was written just before an abort or a kill; it ends when the last writer of
    the pipe has closed it. Python's own stderr (our messages, warnings,
    tracebacks of real bugs) writes to the real stderr directly, so a user's
    mistake is exactly one line. ZOO_NATIVE_LOGS=1 turns the filter off.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("ZOO_NATIVE_LOGS") == "1":
        return
    sys.stderr.flush()
    try:
        read_fd, write_fd = os.pipe()
        original = os.dup(2)
        child = os.fork()
    except OSError:
        return  # No pipe or process to spare: the native lines stay visible, unfiltered.
    if child == 0:  # The filter: reads until every writer is gone, whatever signal the group gets.
        try:
            import signal

            for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGTSTP"):
                signal.signal(getattr(signal, name), signal.SIG_IGN)
            os.close(write_fd)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # Holds no stream of the parent's open but the real stderr (`original`).
                os.dup2(devnull, fd)
            native_logs.forward(read_fd, original)
        finally:
            os._exit(0)
    os.close(read_fd)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    sys.stderr = os.fdopen(original, "w", buffering=1)


def run() -> None:
    """The `zoo` console script (pyproject.toml) and `python -m zoo`."""
    _filter_native_stderr()
    from zoo.commands import cli

    sys.exit(cli.main(sys.argv[1:]))


if __name__ == "__main__":
    run()

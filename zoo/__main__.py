"""`python -m zoo ...` and the installed `zoo` command: see zoo/commands/cli.py."""

import os
import sys


def _silence_native_stderr() -> None:
    """Keeps TensorFlow's C++ log lines (printed straight to file descriptor 2
    before and after its logging is set up, which no environment variable fully
    silences) out of the terminal, so that a user's mistake ends in exactly one
    line on stderr. Python's own stderr (our messages, warnings, tracebacks of
    real bugs) keeps the original stream. ZOO_NATIVE_LOGS=1 turns this off."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("ZOO_NATIVE_LOGS") == "1":
        return
    sys.stderr.flush()
    original = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(original, "w", buffering=1)


def run() -> None:
    """The `zoo` console script (pyproject.toml) and `python -m zoo`."""
    _silence_native_stderr()
    from zoo.commands import cli

    sys.exit(cli.main(sys.argv[1:]))


if __name__ == "__main__":
    run()

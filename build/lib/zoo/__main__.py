"""`python -m zoo ...` and the installed `zoo` command: see zoo/commands/cli.py."""

import os
import sys

# TensorFlow's C++ start-up lines: written straight to file descriptor 2, before
# and after its logging is set up, whatever TF_CPP_MIN_LOG_LEVEL says. Each is
# (a part of the line's text, another part it must hold too). Collected with
# ZOO_NATIVE_LOGS=1 on `python -m zoo train digits_mlp max_steps=1`, on CPU
# machines and GPU ones.
START_UP_LINES = (
    (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", b""),
    (b"port.cc:", b"] oneDNN custom operations are on."),
    (b"cudart_stub.cc:", b"] Could not find cuda drivers on your machine, GPU will not be used."),
    (b"cuda_platform.cc:", b"] failed call to cuInit: "),
    (b"cuda_diagnostics.cc:", b"] "),
    (b"cpu_feature_guard.cc:", b"] This TensorFlow binary is optimized to use available CPU instructions"),
    (b"To enable the following instructions: ", b"rebuild TensorFlow with the appropriate compiler flags."),
    (b"] Unable to register cu", b" factory: Attempting to register factory for plugin "),
    (b"computation_placer.cc:", b"] computation placer already registered."),
    (b"TF-TRT Warning: Could not find TensorRT", b""),
)
# A partial line (no newline yet) is forwarded after this long without more output.
PARTIAL_LINE_SECONDS = 0.2


def _is_start_up_noise(line: bytes) -> bool:
    return any(first in line and second in line for first, second in START_UP_LINES)


def _forward(read_fd: int, write_fd: int) -> None:
    """Copies the pipe to the real stderr line by line, less TensorFlow's start-up lines, until its end."""
    import select

    pending = b""
    while True:
        ready, _, _ = select.select([read_fd], [], [], PARTIAL_LINE_SECONDS if pending else None)
        if ready:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not _is_start_up_noise(line))
        else:
            kept, pending = pending, b""
        _write_all(write_fd, kept)
    if pending and not _is_start_up_noise(pending):
        _write_all(write_fd, pending)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data):]
        except InterruptedError:
            continue
        except OSError:  # The real stderr is gone: keep draining the pipe so that no writer blocks.
            return


def _filter_native_stderr() -> None:
    """Keeps TensorFlow's C++ start-up lines out of the terminal, and everything else in it.

    File descriptor 2 becomes a pipe read by a forked filter process, which
    drops the known start-up lines (START_UP_LINES) and forwards every other
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
            _forward(read_fd, original)
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

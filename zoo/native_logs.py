"""TensorFlow's C++ start-up lines and harmless notes: which they are, and keeping them out of sight.

TensorFlow writes a few lines straight to file descriptor 2 while it loads
(oneDNN, CUDA drivers, CPU instructions), before its logging is set up and
whatever TF_CPP_MIN_LOG_LEVEL says, and a few notes later that need no action.
The CLI drops them with a filter process (zoo/__main__.py). A Jupyter kernel
shows whatever reaches descriptor 2 as red output under a cell, so there
`import zoo` passes descriptor 2 through a filter thread and then loads
TensorFlow (`load_tensorflow_quietly`). Both filters forward every other line
as it comes, so a warning or an error that matters still shows.
ZOO_NATIVE_LOGS=1 turns both off.
"""

import atexit
import os
import sys

# Each is (a part of the line's text, another part it must hold too). Collected
# with ZOO_NATIVE_LOGS=1 on `python -m zoo train digits_mlp max_steps=1`, on CPU
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
# Notes TensorFlow 2.21 logs at ERROR level while working normally (seen in the notebooks): a
# tf.data graph attribute its own op definition lacks, which it ignores, and a oneDNN fallback.
HARMLESS_NOTES = (
    (b"node_def_util.cc:", b"] NodeDef mentions attribute use_unbounded_threadpool which is not in the op definition"),
    (b"util.cc:", b"] oneDNN supports DT_BOOL only on platforms with AVX-512. Falling back to the default Eigen-based"),
)
# A partial line (no newline yet) is forwarded after this long without more output.
PARTIAL_LINE_SECONDS = 0.2


def is_start_up_noise(line: bytes) -> bool:
    return any(first in line and second in line for first, second in START_UP_LINES)


def is_noise(line: bytes) -> bool:
    """A start-up line or a harmless note: what the filters drop."""
    return is_start_up_noise(line) or any(first in line and second in line for first, second in HARMLESS_NOTES)


def forward(read_fd: int, write_fd: int) -> None:
    """Copies `read_fd` to `write_fd` line by line, less the noise, until its end."""
    import select

    pending = b""
    while True:
        ready, _, _ = select.select([read_fd], [], [], PARTIAL_LINE_SECONDS if pending else None)
        if ready:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not is_noise(line))
        else:
            kept, pending = pending, b""
        _write_all(write_fd, kept)
    if pending and not is_noise(pending):
        _write_all(write_fd, pending)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data):]
        except InterruptedError:
            continue
        except OSError:  # The real stderr is gone: keep draining the pipe so that no writer blocks.
            return


def in_notebook() -> bool:
    """True in a Jupyter (IPython) kernel, whose output shows what is written to descriptor 2."""
    return "ipykernel" in sys.modules


def load_tensorflow_quietly() -> None:
    """In a notebook: filters descriptor 2 from now on, then imports TensorFlow and finds its devices.

    Descriptor 2 becomes a pipe that a daemon thread copies to the old descriptor
    2 (the kernel's, which shows it under the cell), less the noise. At exit the
    pipe is closed and what it still holds is forwarded. Outside a notebook, with
    ZOO_NATIVE_LOGS=1, or once TensorFlow is loaded, it does nothing.
    """
    if "tensorflow" in sys.modules or not in_notebook() or os.environ.get("ZOO_NATIVE_LOGS") == "1":
        return
    import threading

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's own INFO and WARNING lines, as the CLI.
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    original = os.dup(2)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    thread = threading.Thread(target=forward, args=(read_fd, original), name="zoo-native-logs", daemon=True)
    thread.start()

    def finish():
        os.dup2(original, 2)  # Closes the pipe's last writer: the thread forwards the rest and ends.
        thread.join(timeout=2)

    atexit.register(finish)
    import tensorflow as tf

    tf.config.list_physical_devices("GPU")  # Where CUDA says its piece; fixes no device settings.

"""TensorFlow's C++ start-up lines: which they are, and keeping them out of a notebook.

TensorFlow writes a few lines straight to file descriptor 2 while it loads
(oneDNN, CUDA drivers, CPU instructions), before its logging is set up and
whatever TF_CPP_MIN_LOG_LEVEL says. The CLI drops them with a filter process
(zoo/__main__.py). A Jupyter kernel shows whatever reaches descriptor 2 as red
output under the cell, so there `import zoo` loads TensorFlow through
`load_tensorflow_quietly`: those lines are dropped, every other line is shown. ZOO_NATIVE_LOGS=1 shows them all, in the CLI and in a notebook.
"""

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


def is_start_up_noise(line: bytes) -> bool:
    return any(first in line and second in line for first, second in START_UP_LINES)


def in_notebook() -> bool:
    """True in a Jupyter (IPython) kernel, whose output shows what is written to descriptor 2."""
    return "ipykernel" in sys.modules


def load_tensorflow_quietly() -> None:
    """Imports TensorFlow and finds its devices with its start-up lines dropped, in a notebook only.

    Descriptor 2 points at a temporary file while TensorFlow loads; then every
    line of it that is not a known start-up line is written to the real
    descriptor 2, so a warning or an error that matters still shows. Outside a
    notebook, with ZOO_NATIVE_LOGS=1, or once TensorFlow is loaded, it does nothing.
    """
    if "tensorflow" in sys.modules or not in_notebook() or os.environ.get("ZOO_NATIVE_LOGS") == "1":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's own INFO and WARNING lines, as the CLI.
    import tempfile

    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # Where CUDA says its piece; fixes no device settings.
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = b"".join(line for line in captured.read().splitlines(keepends=True) if not is_start_up_noise(line))
            if kept:
                os.write(2, kept)

"""Shared test setup.

TensorFlow fixes its device list the first time it is used, so this file splits
the CPU into two logical devices before anything else touches TF. That is what
lets the distribution tests run MirroredStrategy on a machine with no GPU.

Under `pytest -n 2` the controller process only hands files to the two workers and
runs no test, so it never imports TensorFlow: that import cost it 2-3 s of CPU
beside the workers' start, and TensorFlow's C++ start-up lines, which pytest's
capture held back and printed after the summary of a passing run. (A plain
`pytest` still shows those lines, before its first test.)
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


def split_the_cpu() -> None:
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)


# An xdist worker does it as it loads this file, where pytest's capture keeps TensorFlow's
# start-up lines out of the output; a plain `pytest` does it in pytest_configure below.
if os.environ.get("PYTEST_XDIST_WORKER"):
    split_the_cpu()


def is_xdist_controller(config) -> bool:
    """True in the process that `pytest -n N` (N >= 1) starts the workers from."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_configure(config):
    if not os.environ.get("PYTEST_XDIST_WORKER") and not is_xdist_controller(config):
        split_the_cpu()


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts from a clean Keras graph/name state and a fixed seed.

    free_memory=False: the state is reset all the same, only the full
    `gc.collect()` is skipped. With TensorFlow loaded that collection takes
    0.25 s, and before each of ~670 tests it was a sixth of the suite's time.
    """
    import keras

    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(0)
    yield


# The files that take longest (seconds summed over their tests, measured with
# `pytest -n 2 --dist loadfile --durations=0` in a fresh clone), run first: with
# one worker per file, a long file started last leaves the other worker idle.
# `make test` passes --no-loadscope-reorder so that xdist keeps this order.
LONGEST_FIRST = (  # By each file's summed wall time in a full run (2026-12-03, 898 tests), longest first.
    "test_recipes.py", "test_multi_worker.py", "test_notebooks.py", "test_resume.py", "zoo/test_trainer.py", "test_gallery.py",
    "test_template.py", "test_transformer_recipes.py", "test_tune.py", "test_pretrained.py", "test_checkpoints.py",
    "test_translation.py", "layers/test_jax_backend.py", "test_cli_errors.py", "test_install.py", "test_nothing_lost.py",
    "test_features.py", "zoo/test_cli.py", "test_compare.py", "test_generate.py", "layers/test_decoder_block.py",
    "test_examples.py", "test_forecast.py", "layers/test_transformer_block.py", "test_perceptron_gates.py",
)


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::")[0].removeprefix("tests/")
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # A stable sort: each file keeps its own order.

"""Shared test setup.

TensorFlow fixes its device list the first time it is used, so this file splits
the CPU into two logical devices before anything else touches TF. That is what
lets the distribution tests run MirroredStrategy on a machine with no GPU.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
)


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts from a clean Keras graph/name state and a fixed seed."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    yield

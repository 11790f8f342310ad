"""Fixtures for the dataset tests: materialise a tf.data split as numpy."""

import numpy as np
import pytest


def _to_numpy(dataset):
    """All (features, target) pairs of an unbatched dataset as two stacked arrays."""
    features, targets = [], []
    for x, y in dataset.batch(4096):
        features.append(x.numpy())
        targets.append(y.numpy())
    return np.concatenate(features), np.concatenate(targets)


@pytest.fixture
def to_numpy():
    return _to_numpy


def assert_one_line_error(error, *fragments):
    message = str(error.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.fixture
def one_line_error():
    return assert_one_line_error

"""The shared helpers: fingerprints, fixed splits, standardisation, windows."""

import collections

import numpy as np
import pytest

from datasets import _common


def test_fingerprint_is_stable_and_sensitive():
    a = np.arange(6, dtype=np.int32)
    base = _common.fingerprint(a, {"seed": 0})
    assert base == _common.fingerprint(a.copy(), {"seed": 0})
    assert base != _common.fingerprint(a, {"seed": 1})
    assert base != _common.fingerprint(a.astype(np.int64), {"seed": 0})
    assert base != _common.fingerprint(a.reshape(2, 3), {"seed": 0})
    assert _common.fingerprint("ab", "c") != _common.fingerprint("a", "bc")
    texts = np.array(["x", "yz"], dtype=object)
    assert _common.fingerprint(texts) == _common.fingerprint(np.array(["x", "yz"], dtype=object))
    assert _common.fingerprint(texts) != _common.fingerprint(np.array(["xy", "z"], dtype=object))


def test_split_indices_partition_and_sizes():
    parts = _common.split_indices(101, (0.7, 0.15, 0.15), seed=3)
    assert [len(p) for p in parts] == [71, 15, 15]
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(101))
    assert all((np.diff(p) > 0).all() for p in parts)
    again = _common.split_indices(101, (0.7, 0.15, 0.15), seed=3)
    assert all((p == q).all() for p, q in zip(parts, again))
    other = _common.split_indices(101, (0.7, 0.15, 0.15), seed=4)
    assert not (parts[1] == other[1]).all()


def test_split_indices_stratified_is_proportional():
    labels = np.array([0] * 300 + [1] * 600 + [2] * 100)
    parts = _common.split_indices(len(labels), (0.8, 0.1, 0.1), seed=0, labels=labels)
    assert [len(p) for p in parts] == [800, 100, 100]
    for part, fraction in zip(parts, (0.8, 0.1, 0.1)):
        counts = collections.Counter(labels[part].tolist())
        for value, total in ((0, 300), (1, 600), (2, 100)):
            assert abs(counts[value] - total * fraction) <= 1


def test_split_indices_order_keys_ignore_file_order():
    keys = [f"{(i * 7919) % 97:03d}" for i in range(50)]
    parts = _common.split_indices(50, (0.8, 0.1, 0.1), order_keys=keys)
    reversed_parts = _common.split_indices(50, (0.8, 0.1, 0.1), order_keys=keys[::-1])
    for part, reversed_part in zip(parts, reversed_parts):
        assert sorted(keys[i] for i in part) == sorted(keys[::-1][i] for i in reversed_part)


@pytest.mark.parametrize("fractions", [(0.5, 0.5, 0.5), (1.0,), (0.9, 0.0, 0.1), (0.8, -0.1, 0.3)])
def test_bad_fractions_raise(fractions, one_line_error):
    with pytest.raises(ValueError) as error:
        _common.split_indices(10, fractions)
    one_line_error(error, "fractions")


def test_standardize_uses_train_statistics_only():
    train = np.array([[1.0, 5.0], [3.0, 5.0]])
    other = np.array([[5.0, 7.0]])
    mean, std, (train_scaled, other_scaled) = _common.standardize(train, other)
    np.testing.assert_allclose(mean, [2.0, 5.0])
    np.testing.assert_allclose(std, [1.0, 1.0])  # the constant column gets std 1
    np.testing.assert_allclose(train_scaled, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(other_scaled, [[3.0, 2.0]])
    assert train_scaled.dtype == np.float32


def test_char_windows_shift_and_count(to_numpy):
    ids = np.arange(23, dtype=np.int32)
    x, y = to_numpy(_common.char_windows(ids, 5, 3))
    assert x.shape == (_common.count_windows(23, 5, 3), 5) == (6, 5)
    assert x.dtype == y.dtype == np.int32
    np.testing.assert_array_equal(x[:, 0], np.arange(0, 18, 3))
    np.testing.assert_array_equal(y, x + 1)
    assert _common.count_windows(5, 5, 1) == 0
    assert _common.char_windows(ids, 5, 3).element_spec[0].shape == (5,)

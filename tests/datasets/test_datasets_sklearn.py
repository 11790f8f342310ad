"""scikit-learn's bundled sets: digits, breast cancer, diabetes."""

import collections

import numpy as np
import pytest
import sklearn.datasets

from datasets import breast_cancer
from datasets import diabetes
from datasets import digits


def _all(splits, to_numpy):
    return {split: to_numpy(getattr(splits, split)) for split in ("train", "validation", "test")}


def test_digits(to_numpy):
    splits = digits.load()
    info = splits.info
    assert info.num_examples == {"train": 1257, "validation": 270, "test": 270}
    assert info.input_shape == (64,) and info.num_classes == 10
    assert info.extras["image_shape"] == (8, 8)
    arrays = _all(splits, to_numpy)
    for split, (x, y) in arrays.items():
        assert x.dtype == np.float32 and y.dtype == np.int32
        assert x.shape == (info.num_examples[split], 64)
        assert x.min() >= 0.0 and x.max() <= 1.0
        counts = collections.Counter(y.tolist())
        assert sorted(counts) == list(range(10))
        assert max(counts.values()) - min(counts.values()) <= 0.1 * len(y) + 2  # stratified
    # The split is a partition of the original images, scaled by 1/16.
    original = sklearn.datasets.load_digits().data / 16.0
    stacked = np.concatenate([x for x, _ in arrays.values()])
    assert sorted(map(bytes, stacked.astype(np.float32))) == sorted(
        map(bytes, original.astype(np.float32))
    )


def test_breast_cancer_standardized_on_train(to_numpy):
    splits = breast_cancer.load()
    info = splits.info
    assert info.num_examples == {"train": 399, "validation": 85, "test": 85}
    assert info.class_names == ("malignant", "benign") and info.input_shape == (30,)
    assert len(info.extras["feature_names"]) == 30
    arrays = _all(splits, to_numpy)
    train_x, train_y = arrays["train"]
    np.testing.assert_allclose(train_x.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train_x.std(axis=0), 1.0, atol=1e-4)
    validation_x, _ = arrays["validation"]
    assert np.abs(validation_x.mean(axis=0)).max() > 1e-3  # not refitted on validation
    rates = [y.mean() for _, y in arrays.values()]
    assert max(rates) - min(rates) < 0.02  # stratified benign rate
    assert train_y.dtype == np.int32 and set(np.unique(train_y)) == {0, 1}


@pytest.mark.parametrize("standardize_target", [True, False])
def test_diabetes_targets_and_units(standardize_target, to_numpy):
    splits = diabetes.load(standardize_target=standardize_target)
    info = splits.info
    assert info.num_examples == {"train": 310, "validation": 66, "test": 66}
    assert info.input_shape == (10,) and info.num_classes == 0
    arrays = _all(splits, to_numpy)
    train_x, train_y = arrays["train"]
    assert train_x.dtype == np.float32 and train_y.dtype == np.float32 and train_y.shape == (310,)
    np.testing.assert_allclose(train_x.mean(axis=0), 0.0, atol=1e-5)
    mean, std = info.extras["target_mean"], info.extras["target_std"]
    assert 100 < mean < 200 and 50 < std < 100
    assert info.extras["target_standardized"] is standardize_target
    raw = np.concatenate([y for _, y in arrays.values()])
    if standardize_target:
        np.testing.assert_allclose(train_y.mean(), 0.0, atol=1e-5)
        raw = raw * std + mean
    all_targets = sklearn.datasets.load_diabetes().target
    np.testing.assert_allclose(np.sort(raw), np.sort(all_targets), rtol=1e-5)


@pytest.mark.parametrize("module", [digits, breast_cancer, diabetes])
def test_sklearn_loaders_are_deterministic(module, to_numpy):
    np.random.seed(1)
    first = module.load()
    np.random.seed(2)
    second = module.load()
    assert first.info.fingerprint == second.info.fingerprint
    for split in ("train", "validation", "test"):
        for a, b in zip(to_numpy(getattr(first, split)), to_numpy(getattr(second, split))):
            np.testing.assert_array_equal(a, b)
    assert module.load(seed=1).info.fingerprint != first.info.fingerprint

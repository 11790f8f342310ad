"""scikit-learn's bundled Wisconsin breast cancer set (569 tumours, 30 features).

    splits = datasets.breast_cancer.load()

Features: float32 (30,), standardized with the mean and std of the train split
only (so nothing about validation/test leaks into the scaling).
Target: int32, scikit-learn's coding: 0 = malignant, 1 = benign.
Split: stratified 70/15/15, fixed by `seed`.
"""

import numpy as np
import sklearn.datasets

from datasets import _common

SPLIT_FRACTIONS = (0.7, 0.15, 0.15)


def load(seed: int = 0):
    """Load the breast cancer set, split and standardized on train statistics.

    Returns:
        `datasets.Splits`; info.num_classes == 2, class_names
        ("malignant", "benign"), extras {"feature_names", "feature_mean",
        "feature_std" (train statistics, raw units), "seed"}.
    """
    bunch = sklearn.datasets.load_breast_cancer()
    raw = np.asarray(bunch.data, dtype=np.float64)  # (569, 30)
    labels = np.asarray(bunch.target).astype(np.int32)  # (569,)
    parts = _common.split_indices(len(labels), SPLIT_FRACTIONS, seed=seed, labels=labels)
    mean, std, scaled = _common.standardize(*(raw[i] for i in parts))
    arrays = {
        split: (features, labels[i])
        for split, features, i in zip(_common.SPLIT_NAMES, scaled, parts)
    }
    return _common.array_splits(
        "breast_cancer",
        arrays,
        fingerprint_parts=(raw, labels, {"fractions": SPLIT_FRACTIONS, "seed": seed}),
        num_classes=2,
        class_names=tuple(str(n) for n in bunch.target_names),
        extras={
            "feature_names": tuple(str(n) for n in bunch.feature_names),
            "feature_mean": tuple(float(v) for v in mean),
            "feature_std": tuple(float(v) for v in std),
            "seed": seed,
        },
    )

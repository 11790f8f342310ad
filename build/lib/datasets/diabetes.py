"""scikit-learn's bundled diabetes regression set (442 patients, 10 features).

    splits = datasets.diabetes.load()

Features: float32 (10,), the raw measurements (age, sex, bmi, bp, s1..s6)
standardized with the mean and std of the train split only.

Target: disease progression one year later, float32 (). By default it is
STANDARDIZED with the train mean and std (`standardize_target=True`), so a
model with default initialisation and learning rate starts at a sensible
scale and the MSE of always predicting the mean is about 1. To report the MSE
in original units multiply by std**2 (RMSE: by std); the numbers are in
info.extras["target_mean"] and ["target_std"]. With `standardize_target=False`
the target is raw and info.extras["target_standardized"] is False (mean and
std are still reported).

Split: 70/15/15 with a permutation fixed by `seed`.
"""

import numpy as np
import sklearn.datasets

from datasets import _common

SPLIT_FRACTIONS = (0.7, 0.15, 0.15)


def load(seed: int = 0, standardize_target: bool = True):
    """Load the diabetes set, split and standardized on train statistics.

    Returns:
        `datasets.Splits`; num_classes == 0 (regression), extras
        {"feature_names", "feature_mean", "feature_std", "target_mean",
        "target_std", "target_standardized", "seed"}.
    """
    bunch = sklearn.datasets.load_diabetes(scaled=False)
    raw = np.asarray(bunch.data, dtype=np.float64)  # (442, 10)
    raw_target = np.asarray(bunch.target, dtype=np.float64)  # (442,)
    parts = _common.split_indices(len(raw_target), SPLIT_FRACTIONS, seed=seed)
    mean, std, scaled = _common.standardize(*(raw[i] for i in parts))
    target_mean = float(raw_target[parts[0]].mean())
    target_std = float(raw_target[parts[0]].std())
    if standardize_target:
        targets = [((raw_target[i] - target_mean) / target_std).astype(np.float32) for i in parts]
    else:
        targets = [raw_target[i].astype(np.float32) for i in parts]
    arrays = {
        split: (features, target)
        for split, features, target in zip(_common.SPLIT_NAMES, scaled, targets)
    }
    params = {"fractions": SPLIT_FRACTIONS, "seed": seed, "standardize_target": bool(standardize_target)}
    return _common.array_splits(
        "diabetes",
        arrays,
        fingerprint_parts=(raw, raw_target, params),
        extras={
            "feature_names": tuple(str(n) for n in bunch.feature_names),
            "feature_mean": tuple(float(v) for v in mean),
            "feature_std": tuple(float(v) for v in std),
            "target_mean": target_mean,
            "target_std": target_std,
            "target_standardized": bool(standardize_target),
            "seed": seed,
        },
    )

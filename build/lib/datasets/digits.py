"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download).

    splits = datasets.digits.load()

Features: float32 (64,), the 8x8 image flattened row by row and scaled from
0..16 to [0, 1] (info.extras["image_shape"] == (8, 8) to reshape it).
Target: int32 digit 0..9. Split: stratified 70/15/15, fixed by `seed`.
"""

import numpy as np
import sklearn.datasets

from datasets import _common

SPLIT_FRACTIONS = (0.7, 0.15, 0.15)


def load(seed: int = 0):
    """Load the digits, split 70/15/15 stratified by class.

    Returns:
        `datasets.Splits`; info.num_classes == 10, class_names "0".."9",
        extras {"image_shape": (8, 8), "pixel_max": 16.0, "seed": seed}.
    """
    bunch = sklearn.datasets.load_digits()
    raw_images = np.asarray(bunch.data)  # (1797, 64), values 0..16
    labels = np.asarray(bunch.target).astype(np.int32)  # (1797,)
    features = (raw_images / 16.0).astype(np.float32)
    parts = _common.split_indices(len(labels), SPLIT_FRACTIONS, seed=seed, labels=labels)
    arrays = {split: (features[i], labels[i]) for split, i in zip(_common.SPLIT_NAMES, parts)}
    return _common.array_splits(
        "digits",
        arrays,
        fingerprint_parts=(raw_images, labels, {"fractions": SPLIT_FRACTIONS, "seed": seed}),
        num_classes=10,
        class_names=tuple(str(d) for d in range(10)),
        extras={"image_shape": (8, 8), "pixel_max": 16.0, "seed": seed},
    )

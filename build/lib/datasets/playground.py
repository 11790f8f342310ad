"""The TensorFlow Playground's four 2-D classification sets, generated with numpy.

    splits = datasets.playground.load("spiral", noise=0.1, num_examples=1000, seed=0)

Datasets (as the Playground draws them, points in roughly [-6, 6]^2):

- "circle": class 1 inside radius 2.5, class 0 in the ring 3.5..5. Noise shifts
  each point by up to `noise * 5` per axis before labelling (so noise
  moves points across the boundary).
- "xor": points in the four quadrants (kept 0.3 away from the axes); class 1
  where x1 * x2 >= 0, with the same label noise as "circle".
- "gaussian": two blobs centred at (2, 2) (class 1) and (-2, -2) (class 0);
  the variance grows linearly from 0.5 at noise 0 to 4 at noise 0.5.
- "spiral": two interleaved spirals; each coordinate gets uniform noise in
  [-noise, noise].

`noise` means what the Playground's "Noise" slider means divided by 100:
0 is clean, 0.5 is the slider's maximum (values up to 1 are accepted).
Half the points (rounded down) are class 1.

Splits: a fixed stratified 70/15/15 split (seeded by `seed`, like the points).
Features float32 (2,), targets int32 0/1. info.extras["feature_range"] is
((-6, 6), (-6, 6)), the square the Playground draws and the one to draw a
decision boundary over; "data_min"/"data_max" give the actual extent.
"""

import math

import numpy as np

import datasets
from datasets import _common

DATASETS = ("circle", "xor", "gaussian", "spiral")
FEATURE_RANGE = ((-6.0, 6.0), (-6.0, 6.0))
SPLIT_FRACTIONS = (0.7, 0.15, 0.15)
_RADIUS = 5.0  # circle and xor extent, as in the Playground


def _circle(random_state, num_positive, num_negative, noise):
    def ring(count, low, high):
        radius = random_state.uniform(low, high, size=count)
        angle = random_state.uniform(0.0, 2.0 * math.pi, size=count)
        points = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)  # (count, 2)
        jitter = random_state.uniform(-_RADIUS, _RADIUS, size=(count, 2)) * noise
        labels = (np.linalg.norm(points + jitter, axis=1) < _RADIUS * 0.5).astype(np.int32)
        return points, labels

    inside = ring(num_positive, 0.0, _RADIUS * 0.5)
    outside = ring(num_negative, _RADIUS * 0.7, _RADIUS)
    return np.concatenate([inside[0], outside[0]]), np.concatenate([inside[1], outside[1]])


def _xor(random_state, num_positive, num_negative, noise):
    count = num_positive + num_negative
    padding = 0.3
    points = random_state.uniform(-5.0, 5.0, size=(count, 2))  # (count, 2)
    points = points + np.where(points > 0, padding, -padding)
    jitter = random_state.uniform(-5.0, 5.0, size=(count, 2)) * noise
    shifted = points + jitter
    labels = (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int32)
    return points, labels


def _gaussian(random_state, num_positive, num_negative, noise):
    variance = 0.5 + (4.0 - 0.5) * (noise / 0.5)  # the Playground's scale [0, 0.5] -> [0.5, 4]
    std = math.sqrt(variance)
    positive = random_state.normal((2.0, 2.0), std, size=(num_positive, 2))
    negative = random_state.normal((-2.0, -2.0), std, size=(num_negative, 2))
    labels = np.concatenate([np.ones(num_positive), np.zeros(num_negative)]).astype(np.int32)
    return np.concatenate([positive, negative]), labels


def _spiral(random_state, num_positive, num_negative, noise):
    def arm(count, phase, label):
        step = np.arange(count) / max(count, 1)
        radius = step * 5.0
        angle = 1.75 * step * 2.0 * math.pi + phase
        points = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)  # (count, 2)
        points = points + random_state.uniform(-1.0, 1.0, size=(count, 2)) * noise
        return points, np.full(count, label, dtype=np.int32)

    first = arm(num_positive, 0.0, 1)
    second = arm(num_negative, math.pi, 0)
    return np.concatenate([first[0], second[0]]), np.concatenate([first[1], second[1]])


_GENERATORS = {"circle": _circle, "xor": _xor, "gaussian": _gaussian, "spiral": _spiral}


def generate(dataset: str = "circle", noise: float = 0.0, num_examples: int = 1000, seed: int = 0):
    """All points of one Playground set, before splitting: (float32 (n, 2), int32 (n,))."""
    if dataset not in _GENERATORS:
        raise datasets.DataError(
            f"dataset={dataset!r} is not a Playground set; expected one of "
            f"{', '.join(DATASETS)}; pass one of those."
        )
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0.0 <= noise <= 1.0:
        raise datasets.DataError(
            f"noise={noise!r} is out of range; expected a number in [0, 1] (the Playground "
            "slider / 100, at most 0.5 there); pass e.g. noise=0.1."
        )
    if isinstance(num_examples, bool) or not isinstance(num_examples, int) or num_examples < 20:
        raise datasets.DataError(
            f"num_examples={num_examples!r} is too small or not an int; expected an int >= 20 "
            "so every split gets points of both classes; pass e.g. num_examples=1000."
        )
    random_state = np.random.RandomState(seed)
    num_positive = num_examples // 2
    points, labels = _GENERATORS[dataset](
        random_state, num_positive, num_examples - num_positive, float(noise)
    )
    return points.astype(np.float32), labels.astype(np.int32)


def load(dataset: str = "circle", noise: float = 0.0, num_examples: int = 1000, seed: int = 0):
    """Generate a Playground set and split it 70/15/15 (stratified, fixed by `seed`).

    Returns:
        `datasets.Splits`; info.extras holds "dataset", "noise", "seed",
        "feature_range", "data_min", "data_max", "feature_names".
    """
    points, labels = generate(dataset, noise, num_examples, seed)
    parts = _common.split_indices(len(labels), SPLIT_FRACTIONS, seed=seed, labels=labels)
    arrays = {
        split: (points[index], labels[index]) for split, index in zip(_common.SPLIT_NAMES, parts)
    }
    params = {"dataset": dataset, "noise": float(noise), "num_examples": num_examples, "seed": seed,
              "fractions": SPLIT_FRACTIONS}
    return _common.array_splits(
        f"playground_{dataset}",
        arrays,
        fingerprint_parts=(points, labels, params),
        num_classes=2,
        class_names=("0", "1"),
        extras={
            "dataset": dataset,
            "noise": float(noise),
            "seed": seed,
            "feature_range": FEATURE_RANGE,
            "data_min": tuple(float(v) for v in points.min(axis=0)),
            "data_max": tuple(float(v) for v in points.max(axis=0)),
            "feature_names": ("x1", "x2"),
        },
    )

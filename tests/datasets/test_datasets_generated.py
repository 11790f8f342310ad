"""Generated data: logic gates and the TensorFlow Playground sets."""

import numpy as np
import pytest

from datasets import gates
from datasets import playground


@pytest.mark.parametrize(
    "gate, expected",
    [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xor", [0, 1, 1, 0]),
     ("nand", [1, 1, 1, 0]), ("nor", [1, 0, 0, 0])],
)
def test_gate_truth_tables(gate, expected, to_numpy):
    splits = gates.load(gate, repeats=8)
    for split in (splits.validation, splits.test):
        x, y = to_numpy(split)
        assert x.dtype == np.float32 and y.dtype == np.int32
        np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
        np.testing.assert_array_equal(y, expected)
    x, y = to_numpy(splits.train)
    assert x.shape == (32, 2) and y.shape == (32,)
    np.testing.assert_array_equal(y, np.tile(expected, 8))
    assert splits.info.num_examples == {"train": 32, "validation": 4, "test": 4}
    assert splits.info.input_shape == (2,)
    assert splits.info.num_classes == 2
    assert splits.info.extras["linearly_separable"] == (gate != "xor")


def test_gate_fingerprint_depends_on_gate_and_repeats():
    assert gates.load("and").info.fingerprint == gates.load("and").info.fingerprint
    assert gates.load("and").info.fingerprint != gates.load("or").info.fingerprint
    assert gates.load("and", repeats=2).info.fingerprint != gates.load("and", repeats=3).info.fingerprint


@pytest.mark.parametrize("kwargs", [{"gate": "xnor"}, {"repeats": 0}, {"repeats": 2.5}])
def test_gate_bad_arguments(kwargs, one_line_error):
    with pytest.raises(ValueError) as error:
        gates.load(**kwargs)
    one_line_error(error, "expected")


@pytest.mark.parametrize("name", playground.DATASETS)
def test_playground_shapes_labels_and_balance(name, to_numpy):
    splits = playground.load(name, noise=0.1, num_examples=400, seed=1)
    assert splits.info.num_examples == {"train": 280, "validation": 60, "test": 60}
    assert splits.info.input_shape == (2,)
    assert splits.info.extras["feature_range"] == ((-6.0, 6.0), (-6.0, 6.0))
    for split, size in (("train", 280), ("validation", 60), ("test", 60)):
        x, y = to_numpy(getattr(splits, split))
        assert x.shape == (size, 2) and x.dtype == np.float32
        assert y.shape == (size,) and y.dtype == np.int32
        assert set(np.unique(y)) <= {0, 1}
        assert 0.3 < y.mean() < 0.7, (split, y.mean())  # both classes, roughly balanced
    points, _ = playground.generate(name, 0.1, 400, 1)
    np.testing.assert_allclose(points.min(axis=0), splits.info.extras["data_min"])


@pytest.mark.parametrize("name", ["circle", "xor", "spiral"])
def test_playground_points_stay_in_the_drawn_square(name):
    points, _ = playground.generate(name, noise=0.5, num_examples=1000, seed=0)
    assert np.abs(points).max() <= 6.0


def test_playground_noise_flips_labels_of_circle_and_xor():
    for name, rule in (
        ("circle", lambda p: (np.linalg.norm(p, axis=1) < 2.5).astype(np.int32)),
        ("xor", lambda p: (p[:, 0] * p[:, 1] >= 0).astype(np.int32)),
    ):
        clean_points, clean_labels = playground.generate(name, 0.0, 1000, 0)
        np.testing.assert_array_equal(clean_labels, rule(clean_points))
        noisy_points, noisy_labels = playground.generate(name, 0.5, 1000, 0)
        disagreement = np.mean(noisy_labels != rule(noisy_points))
        assert 0.02 < disagreement < 0.5, (name, disagreement)


def test_playground_noise_spreads_gaussian_and_spiral():
    def spread(name, noise):
        points, labels = playground.generate(name, noise, 1000, 0)
        return points[labels == 1].std(axis=0).mean()

    assert spread("gaussian", 0.5) > 2.0 * spread("gaussian", 0.0)
    clean, _ = playground.generate("spiral", 0.0, 1000, 0)
    noisy, _ = playground.generate("spiral", 0.5, 1000, 0)
    offset = np.abs(noisy - clean)
    assert offset.max() <= 0.5 + 1e-6 and offset.mean() > 0.1


def test_playground_is_deterministic_and_ignores_global_rng(to_numpy):
    np.random.seed(123)
    first = playground.load("spiral", noise=0.2, num_examples=200, seed=5)
    np.random.seed(456)
    second = playground.load("spiral", noise=0.2, num_examples=200, seed=5)
    assert first.info.fingerprint == second.info.fingerprint
    for split in ("train", "validation", "test"):
        for a, b in zip(to_numpy(getattr(first, split)), to_numpy(getattr(second, split))):
            np.testing.assert_array_equal(a, b)
    np.random.seed(7)
    expected = np.random.random()
    np.random.seed(7)
    playground.load("circle", num_examples=100)
    assert np.random.random() == expected  # the global RNG was not consumed
    other = playground.load("spiral", noise=0.2, num_examples=200, seed=6)
    assert other.info.fingerprint != first.info.fingerprint


@pytest.mark.parametrize(
    "kwargs", [{"dataset": "moons"}, {"noise": -0.1}, {"noise": 2.0}, {"num_examples": 10}]
)
def test_playground_bad_arguments(kwargs, one_line_error):
    with pytest.raises(ValueError) as error:
        playground.load(**kwargs)
    one_line_error(error, "expected")

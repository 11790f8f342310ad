"""tfds loaders: fast, clear failure offline; shapes and vocabularies on mock data."""

import time

import numpy as np
import pytest
import tensorflow_datasets as tfds

from datasets import _tfds
from datasets import imdb_reviews
from datasets import mnist
from datasets import tiny_shakespeare

LOADERS = [
    ("mnist", mnist, {}),
    ("tiny_shakespeare", tiny_shakespeare, {"sequence_length": 8}),
    ("imdb_reviews", imdb_reviews, {"max_length": 8}),
]


@pytest.mark.parametrize("name, module, kwargs", LOADERS, ids=[n for n, _, _ in LOADERS])
def test_offline_and_unprepared_fails_fast_with_what_to_do(name, module, kwargs, tmp_path, one_line_error):
    if _tfds.probe(module.DOWNLOAD_URL, timeout_s=2.0) is None:
        pytest.skip(f"{module.DOWNLOAD_URL} is reachable: this test needs to be offline")
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as error:
        module.load(data_dir=str(tmp_path), **kwargs)
    assert time.monotonic() - start < 10.0
    one_line_error(error, f"tfds build {name}", "data_dir", str(tmp_path))


def test_probe_gives_up_quickly_on_an_unreachable_host():
    start = time.monotonic()
    reason = _tfds.probe("http://192.0.2.1/never", timeout_s=1.0)  # TEST-NET-1: never routed
    assert isinstance(reason, str) and reason and "\n" not in reason
    assert time.monotonic() - start < 3.0


def test_prepared_dataset_is_not_probed(monkeypatch):
    class PreparedBuilder:
        def is_prepared(self):
            return True

        def download_and_prepare(self):
            raise AssertionError("must not download a prepared dataset")

    monkeypatch.setattr(tfds, "builder", lambda name, data_dir=None: PreparedBuilder())
    monkeypatch.setattr(_tfds, "probe", lambda *a, **k: pytest.fail("probed a prepared dataset"))
    assert isinstance(_tfds.prepared_builder("mnist", None, mnist.DOWNLOAD_URL), PreparedBuilder)


def test_mock_data_replaces_the_download(tmp_path):
    assert _tfds._downloads_for_real(tfds.builder("mnist", data_dir=str(tmp_path)))
    with tfds.testing.mock_data(num_examples=2):
        assert not _tfds._downloads_for_real(tfds.builder("mnist", data_dir=str(tmp_path)))


@pytest.mark.parametrize("flatten, shape", [(True, (784,)), (False, (28, 28, 1))])
def test_mnist_on_mock_data(flatten, shape, to_numpy):
    with tfds.testing.mock_data(num_examples=50):
        splits = mnist.load(flatten=flatten, validation_fraction=0.2)
    info = splits.info
    assert info.input_shape == shape and info.num_classes == 10
    assert info.num_examples == {"train": 40, "validation": 10, "test": 50}
    for split in ("train", "validation", "test"):
        x, y = to_numpy(getattr(splits, split))
        assert x.shape == (info.num_examples[split], *shape)
        assert x.dtype == np.float32 and y.dtype == np.int32
        assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
        assert 0 <= y.min() and y.max() <= 9
    with tfds.testing.mock_data(num_examples=50):
        again = mnist.load(flatten=flatten, validation_fraction=0.2)
    assert again.info.fingerprint == info.fingerprint


def test_tiny_shakespeare_on_mock_data(to_numpy):
    with tfds.testing.mock_data(num_examples=20):
        splits = tiny_shakespeare.load(sequence_length=8)
        train_text = "\n".join(
            _tfds.as_text(_tfds.read_split(tfds.builder("tiny_shakespeare"), "train")["text"])
        )
    info = splits.info
    assert info.vocabulary == tuple(sorted(set(train_text)))
    assert info.input_shape == (8,)
    assert info.extras["strides"] == {"train": 2, "validation": 8, "test": 8}
    x, y = to_numpy(splits.train)
    assert x.dtype == y.dtype == np.int32 and x.shape == (info.num_examples["train"], 8)
    assert len(x) == (len(train_text) - 9) // 2 + 1
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    assert "".join(info.vocabulary[i] for i in x[0]) == train_text[:8]
    for split in ("validation", "test"):
        x, _ = to_numpy(getattr(splits, split))
        assert x.max() < info.vocab_size and len(x) == info.num_examples[split] > 0


def test_imdb_reviews_on_mock_data(to_numpy):
    with tfds.testing.mock_data(num_examples=40):
        splits = imdb_reviews.load(max_length=8, vocab_size=30, validation_fraction=0.25)
    info = splits.info
    assert info.vocabulary[:2] == ("<pad>", "<oov>") and info.vocab_size == 30
    assert info.class_names == ("negative", "positive") and info.input_shape == (8,)
    assert info.num_examples == {"train": 30, "validation": 10, "test": 40}
    for split in ("train", "validation", "test"):
        x, y = to_numpy(getattr(splits, split))
        assert x.shape == (info.num_examples[split], 8) and x.dtype == np.int32
        assert y.dtype == np.int32 and set(np.unique(y)) <= {0, 1}
        assert 0 <= x.min() and x.max() < 30
        assert (x[:, 0] > 0).all()  # every mock review has words; padding goes at the end
    assert (to_numpy(splits.test)[0] == 1).any()  # a 30-word vocabulary misses some mock words


def test_imdb_tokenize_and_encode():
    assert imdb_reviews.tokenize("Don't STOP<br />now, 10/10!") == ["don't", "stop", "now", "10", "10"]
    vocabulary = imdb_reviews.build_vocabulary(["b a a", "a c c b"], vocab_size=4)
    assert vocabulary == ("<pad>", "<oov>", "a", "b")  # a: 3, then b and c tie at 2: alphabetical
    lookup = imdb_reviews._lookup(vocabulary)  # What the loader encodes every review with.
    ids = imdb_reviews._encode("A zebra b", lookup, 5)
    np.testing.assert_array_equal(ids, [2, 1, 3, 0, 0])
    np.testing.assert_array_equal(imdb_reviews._encode("a b a b a b", lookup, 3), [2, 3, 2])

"""IMDB movie review sentiment (25k train / 25k test reviews) via tfds.

    splits = datasets.imdb_reviews.load(max_length=256, vocab_size=20000)

Validation is carved out of tfds "train" (stratified, `validation_fraction`,
fixed by `seed`); test is tfds "test". Words: lower-cased, "<br />" removed,
runs of letters/digits (with inner apostrophes, "don't") are words. The
vocabulary is built from the train part only: id 0 = "<pad>", 1 = "<oov>",
then the most frequent words (ties alphabetical), `vocab_size` ids in all.
Each review keeps its first `max_length` words, padded at the end with 0.
Features int32 (max_length,), target int32: 0 = negative, 1 = positive.
Offline and not prepared: datasets.DataFileNotFoundError within seconds.
"""

import collections
import re

import numpy as np

import datasets
from datasets import _common
from datasets import _tfds

DOWNLOAD_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
PADDING_TOKEN = "<pad>"
OOV_TOKEN = "<oov>"
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def tokenize(text: str) -> list:
    """Lower-cased words of a review (HTML line breaks removed)."""
    return _WORD.findall(text.lower().replace("<br />", " "))


def build_vocabulary(texts, vocab_size: int) -> tuple:
    """("<pad>", "<oov>", most frequent words...) with vocab_size entries at most."""
    return _vocabulary_from_words([tokenize(text) for text in texts], vocab_size)


def _vocabulary_from_words(word_lists, vocab_size):
    counts = collections.Counter(word for words in word_lists for word in words)
    words = sorted(counts, key=lambda word: (-counts[word], word))[: max(0, vocab_size - 2)]
    return (PADDING_TOKEN, OOV_TOKEN, *words)


def _lookup(vocabulary) -> dict:
    return {word: index for index, word in enumerate(vocabulary) if index >= 2}


def _encode(text, lookup, max_length):
    """One review as int32 (max_length,): word ids, 1 for unknown words, 0-padded."""
    return _encode_words(tokenize(text), lookup, max_length)


def _encode_words(words, lookup, max_length):
    ids = np.zeros(max_length, dtype=np.int32)  # (max_length,)
    encoded = [lookup.get(word, 1) for word in words[:max_length]]
    ids[: len(encoded)] = encoded
    return ids


def load(
    data_dir=None,
    max_length: int = 256,
    vocab_size: int = 20000,
    validation_fraction: float = 0.1,
    seed: int = 0,
):
    """Load IMDB reviews as padded word ids.

    Returns:
        `datasets.Splits`; info.num_classes == 2, class_names
        ("negative", "positive"), info.vocabulary the words in id order;
        extras {"max_length", "truncated_fraction", "oov_fraction",
        "validation_fraction", "seed", "tfds_version", "description"}.
    """
    for name, value, minimum in (("max_length", max_length, 1), ("vocab_size", vocab_size, 3)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise datasets.DataError(f"{name}={value!r} is not valid; expected an int >= {minimum}; pass e.g. {name}=256.")
    fractions = _common.check_fractions(
        (1.0 - validation_fraction, validation_fraction), name="(1 - validation_fraction, validation_fraction)"
    )
    builder = _tfds.prepared_builder("imdb_reviews", data_dir, DOWNLOAD_URL)
    train_full = _tfds.read_split(builder, "train")
    test = _tfds.read_split(builder, "test")
    texts = np.array(_tfds.as_text(train_full["text"]), dtype=object)
    labels = train_full["label"].astype(np.int32)
    test_texts = np.array(_tfds.as_text(test["text"]), dtype=object)
    train_index, validation_index = _common.split_indices(len(labels), fractions, seed=seed, labels=labels)
    train_words = [tokenize(t) for t in texts[train_index]]
    vocabulary = _vocabulary_from_words(train_words, vocab_size)
    lookup = _lookup(vocabulary)

    def encode(word_lists):
        if len(word_lists) == 0:
            return np.zeros((0, max_length), dtype=np.int32)
        return np.stack([_encode_words(w, lookup, max_length) for w in word_lists])  # (n, max_length)

    arrays = {
        "train": (encode(train_words), labels[train_index]),
        "validation": (encode([tokenize(t) for t in texts[validation_index]]), labels[validation_index]),
        "test": (encode([tokenize(t) for t in test_texts]), test["label"].astype(np.int32)),
    }
    train_ids = arrays["train"][0]
    lengths = [len(words) for words in train_words]
    version = str(builder.info.version)
    params = {"max_length": max_length, "vocab_size": vocab_size, "fractions": fractions,
              "seed": seed, "version": version}
    return _common.array_splits(
        "imdb_reviews",
        arrays,
        fingerprint_parts=(texts, labels, test_texts, test["label"], params),
        num_classes=2,
        class_names=("negative", "positive"),
        vocabulary=vocabulary,
        extras={
            "max_length": max_length,
            "truncated_fraction": float(np.mean(np.array(lengths) > max_length)) if lengths else 0.0,
            "oov_fraction": float(np.sum(train_ids == 1) / max(1, np.sum(train_ids != 0))),
            "validation_fraction": float(validation_fraction),
            "seed": seed,
            "tfds_version": version,
            "description": (
                f"IMDB reviews (tfds {version}): lower-cased words, vocabulary of {len(vocabulary)} "
                "from the train part (0 = pad, 1 = out of vocabulary), first "
                f"{max_length} words, padded at the end."
            ),
        },
    )

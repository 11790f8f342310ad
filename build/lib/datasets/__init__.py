"""Dataset loaders: one module per dataset, each returning `Splits`.

Every loader returns unbatched `tf.data.Dataset`s of `(features, target)` pairs
for the train, validation and test splits, plus a `DatasetInfo` that a recipe
uses to size its model. Batching, shuffling and prefetching belong to the
trainer, so a loader never batches.

This package imports tensorflow, tensorflow-datasets and numpy, and nothing
else of the zoo's.

Loaders (import the module, e.g. `from datasets import irish`):

- Offline, the defaults: `gates.load`, `playground.load`, `digits.load`,
  `breast_cancer.load`, `diabetes.load`, `irish.load_language_model`,
  `irish.load_tune_types`, `series.load` (CO2 and sunspots from
  statsmodels, split by time), `translation.load` (English -> Spanish pairs
  generated with num2words and babel).
- tensorflow-datasets, for users with internet (or a copied, prepared
  data_dir; offline they fail within seconds saying what to do):
  `mnist.load`, `tiny_shakespeare.load`, `imdb_reviews.load`.

Splits are fixed: the same arguments give the same examples in the same
splits on every machine, and `info.fingerprint` says so.
"""

import dataclasses

import tensorflow as tf


class DataError(ValueError):
    """The data a user asked for cannot be used: a bad file, an impossible split or size.

    The zoo's command line shows it as one line and exit code 2 (see zoo/errors.py).
    """


class DataFileNotFoundError(DataError, FileNotFoundError):
    """A data file the user named does not exist, or a tfds dataset is not prepared."""


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a recipe needs to know about a dataset to build a model for it."""

    name: str
    # Shape of one example's features, without the batch axis, e.g. (64,) or (100,).
    input_shape: tuple
    # Examples per split: {"train": n, "validation": n, "test": n}.
    num_examples: dict
    # sha256 of the raw data and the split parameters: two runs that report the
    # same fingerprint saw the same examples in the same splits.
    fingerprint: str
    # Classification: number of classes and their names (index order).
    num_classes: int = 0
    class_names: tuple = ()
    # Token models: the vocabulary in index order. Index 0 is padding for
    # padded sequences; for character LMs it is simply the first character.
    vocabulary: tuple = ()
    # Anything else a recipe might want to show (feature names, image shape...).
    extras: dict = dataclasses.field(default_factory=dict)

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)


@dataclasses.dataclass(frozen=True)
class Splits:
    """Train/validation/test datasets of unbatched `(features, target)` pairs."""

    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    info: DatasetInfo

"""MNIST handwritten digits through tensorflow-datasets (needs internet once).

    splits = datasets.mnist.load()                 # ~/tensorflow_datasets
    splits = datasets.mnist.load(data_dir="DIR")   # a copied, prepared folder

Validation is carved out of tfds "train" (stratified, `validation_fraction`,
fixed by `seed`); test is tfds "test". Features float32 scaled to [0, 1]:
(784,) when `flatten` (row by row) else (28, 28, 1). Target int32 0..9.
Offline and not prepared: FileNotFoundError within seconds, saying to run
`tfds build mnist` where there is internet and copy the folder here.
"""

import numpy as np
import tensorflow as tf

from datasets import _common
from datasets import _tfds

DOWNLOAD_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz"


def load(data_dir=None, flatten: bool = True, validation_fraction: float = 0.1, seed: int = 0):
    """Load MNIST: train/validation from tfds train, test = tfds test.

    Returns:
        `datasets.Splits`; info.num_classes == 10, extras {"image_shape":
        (28, 28, 1), "flatten", "validation_fraction", "seed", "tfds_version"}.
    """
    fractions = _common.check_fractions(
        (1.0 - validation_fraction, validation_fraction), name="(1 - validation_fraction, validation_fraction)"
    )
    builder = _tfds.prepared_builder("mnist", data_dir, DOWNLOAD_URL)
    train_full = _tfds.read_split(builder, "train")
    test = _tfds.read_split(builder, "test")
    images = train_full["image"]  # (n, 28, 28, 1) uint8
    labels = train_full["label"].astype(np.int32)  # (n,)
    train_index, validation_index = _common.split_indices(len(labels), fractions, seed=seed, labels=labels)

    def flat(raw):  # uint8 stays uint8 in memory; scaled to float32 per example in tf.data
        return raw.reshape(len(raw), -1) if flatten else raw  # (n, 784) or (n, 28, 28, 1)

    def scale(image, label):
        return tf.cast(image, tf.float32) / 255.0, label

    arrays = {
        "train": (flat(images[train_index]), labels[train_index]),
        "validation": (flat(images[validation_index]), labels[validation_index]),
        "test": (flat(test["image"]), test["label"].astype(np.int32)),
    }
    version = str(builder.info.version)
    params = {"flatten": bool(flatten), "fractions": fractions, "seed": seed, "version": version}
    return _common.array_splits(
        "mnist",
        arrays,
        fingerprint_parts=(images, labels, test["image"], test["label"], params),
        transform=scale,
        input_shape=(784,) if flatten else (28, 28, 1),
        num_classes=10,
        class_names=tuple(str(d) for d in range(10)),
        extras={
            "image_shape": (28, 28, 1),
            "flatten": bool(flatten),
            "validation_fraction": float(validation_fraction),
            "seed": seed,
            "tfds_version": version,
        },
    )

"""Tiny Shakespeare (about 1 MB of plays) for character language models, via tfds.

    splits = datasets.tiny_shakespeare.load(sequence_length=100)

tfds gives one long text per split (train / validation / test, cut by
position). Windows like `datasets.irish.load_language_model`: x = ids[i:i+T],
y = ids[i+1:i+T+1] int32; train windows start every `train_stride`
characters (default T // 4), validation/test windows do not overlap. The
vocabulary is the sorted characters of the TRAIN text; characters of
validation/test not in it are dropped (counted in extras).
Offline and not prepared: datasets.DataFileNotFoundError within seconds.
"""

import numpy as np

import datasets
from datasets import _common
from datasets import _tfds

DOWNLOAD_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"


def load(data_dir=None, sequence_length: int = 100, train_stride=None) -> datasets.Splits:
    """Character LM windows over tiny_shakespeare.

    Returns:
        `datasets.Splits` of (x int32 (T,), y int32 (T,)); info.vocabulary is
        the characters in index order; extras {"characters_per_split",
        "dropped_characters", "sequence_length", "strides", "tfds_version",
        "description"}.
    """
    for name, value in (("sequence_length", sequence_length), ("train_stride", train_stride)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise datasets.DataError(f"{name}={value!r} is not valid; expected an int >= 1; pass e.g. {name}=100.")
    if train_stride is None:
        train_stride = max(1, sequence_length // 4)
    builder = _tfds.prepared_builder("tiny_shakespeare", data_dir, DOWNLOAD_URL)
    texts = {
        split: "\n".join(_tfds.as_text(_tfds.read_split(builder, split)["text"]))
        for split in _common.SPLIT_NAMES
    }
    vocabulary = tuple(sorted(set(texts["train"])))
    lookup = {character: index for index, character in enumerate(vocabulary)}
    strides = {"train": train_stride, "validation": sequence_length, "test": sequence_length}
    sets, num_examples, dropped = {}, {}, {}
    for split in _common.SPLIT_NAMES:
        ids = np.array([lookup[c] for c in texts[split] if c in lookup], dtype=np.int32)  # (characters,)
        dropped[split] = len(texts[split]) - len(ids)
        if len(ids) < sequence_length + 1:
            raise datasets.DataError(
                f"tiny_shakespeare {split} has {len(ids)} characters, fewer than one window "
                f"(sequence_length + 1 = {sequence_length + 1}); pass a smaller sequence_length."
            )
        sets[split] = _common.char_windows(ids, sequence_length, strides[split])
        num_examples[split] = _common.count_windows(len(ids), sequence_length, strides[split])
    version = str(builder.info.version)
    params = {"sequence_length": sequence_length, "strides": strides, "version": version}
    info = datasets.DatasetInfo(
        name="tiny_shakespeare",
        input_shape=(sequence_length,),
        num_examples=num_examples,
        fingerprint=_common.fingerprint(*(texts[s] for s in _common.SPLIT_NAMES), params),
        vocabulary=vocabulary,
        extras={
            "characters_per_split": {split: len(texts[split]) for split in _common.SPLIT_NAMES},
            "dropped_characters": dropped,
            "sequence_length": sequence_length,
            "strides": strides,
            "tfds_version": version,
            "description": (
                f"Character language model over tfds tiny_shakespeare {version}: tfds splits; "
                f"x = ids[i:i+T], y = ids[i+1:i+T+1], T = {sequence_length}; window starts every "
                f"{train_stride} characters in train, every {sequence_length} in validation/test."
            ),
        },
    )
    return datasets.Splits(info=info, **sets)

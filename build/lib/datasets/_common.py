"""Helpers shared by the loaders: fingerprints, fixed splits, scaling, windows.

Private to `datasets/`: recipes import the loader modules, never this one.
Everything here is deterministic. Random choices use `numpy.random.RandomState`
with an explicit seed: its streams are frozen by numpy's compatibility policy
(NEP 19), so the same seed gives the same split on every machine and numpy
version. Nothing here touches the global RNG.
"""

import hashlib
import json
import os

import numpy as np
import tensorflow as tf

import datasets

SPLIT_NAMES = ("train", "validation", "test")


def fingerprint(*parts) -> str:
    """sha256 over raw data and split parameters.

    Each part may be bytes, a str, a numpy array (its dtype, shape and bytes
    are hashed) or anything `json.dumps(sort_keys=True)` accepts (parameters).
    Every part is length-prefixed, so ("ab", "c") and ("a", "bc") differ.
    """
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype == object:
            # Strings/bytes (e.g. texts from tfds): hash the values, not pointers.
            header = f"objects:{part.shape}".encode()
            payload = b"".join(
                len(item).to_bytes(8, "little") + item
                for item in (v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in part.ravel())
            )
        elif isinstance(part, np.ndarray):
            header = f"ndarray:{part.dtype.str}:{part.shape}".encode()
            payload = np.ascontiguousarray(part).tobytes()
        elif isinstance(part, (bytes, bytearray)):
            header, payload = b"bytes", bytes(part)
        elif isinstance(part, str):
            header, payload = b"str", part.encode("utf-8")
        else:
            header, payload = b"json", json.dumps(part, sort_keys=True).encode()
        for chunk in (header, payload):
            digest.update(len(chunk).to_bytes(8, "little"))
            digest.update(chunk)
    return digest.hexdigest()


def check_fractions(fractions, *, name="fractions") -> tuple:
    """Validate split fractions: two or three positive numbers that sum to 1."""
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) not in (2, 3) or min(fractions) <= 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise datasets.DataError(
            f"{name}={fractions} is not valid: expected two or three positive fractions "
            "(train, validation[, test]) that sum to 1; pass e.g. (0.7, 0.15, 0.15)."
        )
    return fractions


def split_indices(num_examples, fractions, *, seed=0, labels=None, order_keys=None):
    """Split range(num_examples) into fixed (train, validation[, test]) indices.

    Args:
        num_examples: how many examples there are.
        fractions: (train, validation[, test]) fractions summing to 1.
        seed: seed of the permutation (ignored when `order_keys` is given).
        labels: optional int labels; when given the split is stratified:
            every class is spread over the splits in proportion (to within
            one example per class and split).
        order_keys: optional sortable keys, one per example (e.g. a content
            hash). When given, examples are ordered by key instead of by a
            seeded permutation, so an example's split depends only on its
            content and the set of examples, not on file order.

    Returns:
        One sorted int64 index array per fraction. Every split but the first
        gets round(num_examples * fraction) examples; train gets the rest.
    """
    fractions = check_fractions(fractions)
    random_state = np.random.RandomState(seed)

    def arrange(members):
        if order_keys is not None:
            return np.array(sorted(members, key=lambda i: (order_keys[i], i)), dtype=np.int64)
        return np.asarray(members, dtype=np.int64)[random_state.permutation(len(members))]

    if labels is None:
        order = arrange(np.arange(num_examples))
    else:
        # Each example's rank within its own (arranged) class, as a fraction of
        # the class size; sorting by it interleaves the classes in proportion,
        # so cutting the sorted order stratifies every split.
        labels = np.asarray(labels)
        position = np.zeros(num_examples, dtype=np.float64)
        for value in np.unique(labels):
            members = arrange(np.flatnonzero(labels == value))
            position[members] = (np.arange(len(members)) + 0.5) / len(members)
        order = np.lexsort((np.arange(num_examples), labels, position)).astype(np.int64)
    sizes = [int(round(num_examples * fraction)) for fraction in fractions[1:]]
    start = num_examples - sum(sizes)
    parts = [order[:start]]
    for size in sizes:
        parts.append(order[start : start + size])
        start += size
    return tuple(np.sort(part) for part in parts)


def standardize(train, *others):
    """Scale columns to zero mean / unit std using train statistics only.

    Returns (mean, std, [train, *others] scaled, as float32). A constant
    column gets std 1 so it maps to zero instead of dividing by zero.
    """
    train = np.asarray(train, dtype=np.float64)
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scaled = [((np.asarray(a, dtype=np.float64) - mean) / std).astype(np.float32) for a in (train, *others)]
    return mean, std, scaled


def array_splits(name, arrays, *, fingerprint_parts, transform=None, **info_fields) -> datasets.Splits:
    """Build `Splits` from {"train": (x, y), "validation": ..., "test": ...}.

    `transform`, when given, maps each (x, y) pair inside tf.data, e.g. to
    keep big images as uint8 in memory and scale them per example. Then
    pass `input_shape=` (the shape after the transform) in info_fields.
    """
    for split in SPLIT_NAMES:
        if len(arrays[split][0]) == 0:
            raise datasets.DataError(
                f"{name}: the {split} split is empty; expected at least one example "
                "per split; use more examples or other split fractions."
            )
    sets = {
        split: tf.data.Dataset.from_tensor_slices((arrays[split][0], arrays[split][1]))
        for split in SPLIT_NAMES
    }
    if transform is not None:
        sets = {split: dataset.map(transform) for split, dataset in sets.items()}
    info_fields.setdefault("input_shape", tuple(arrays["train"][0].shape[1:]))
    info = datasets.DatasetInfo(
        name=name,
        num_examples={split: int(len(arrays[split][0])) for split in SPLIT_NAMES},
        fingerprint=fingerprint(*fingerprint_parts),
        **info_fields,
    )
    return datasets.Splits(info=info, **sets)


def count_windows(num_tokens, sequence_length, stride) -> int:
    """How many (x, y) windows of length T fit: x needs T tokens, y one more."""
    if num_tokens < sequence_length + 1:
        return 0
    return (num_tokens - sequence_length - 1) // stride + 1


def char_windows(ids, sequence_length, stride) -> tf.data.Dataset:
    """Unbatched next-token windows over one int32 id array.

    Window k is x = ids[k*stride : k*stride + T], y = the same shifted by one.
    The windows are cut lazily from one constant tensor, so overlapping
    windows (small strides) cost no extra memory; the cardinality is known.
    """
    ids = tf.constant(np.asarray(ids, dtype=np.int32))
    num_windows = count_windows(int(ids.shape[0]), sequence_length, stride)

    def window(index):
        start = tf.cast(index, tf.int32) * stride
        chunk = tf.slice(ids, [start], [sequence_length + 1])  # (T + 1,), static shape
        return chunk[:-1], chunk[1:]  # (T,), (T,)

    return tf.data.Dataset.range(num_windows).map(window)


def read_text_file(path, *, what="file", minimum_characters=1):
    """Read a user's UTF-8 text file, returning (raw bytes, text).

    Newlines are normalised to "\\n". Raises FileNotFoundError when the file is
    missing and ValueError when it is empty, binary (NUL bytes or not UTF-8)
    or shorter than `minimum_characters`.
    """
    path = os.fspath(path)
    check_file_exists(path, what=what)
    with open(path, "rb") as handle:
        raw = handle.read()
    if not raw.strip():
        raise datasets.DataError(
            f"{what} {path!r} is empty; expected UTF-8 text; pass a file that has text in it."
        )
    if b"\x00" in raw:
        raise datasets.DataError(
            f"{what} {path!r} looks binary (it has NUL bytes); expected a UTF-8 text "
            "file; pass a plain text or ABC file."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise datasets.DataError(
            f"{what} {path!r} is not valid UTF-8 (byte {error.start}); expected a UTF-8 "
            "text file; re-save it as UTF-8 or pass another file."
        ) from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if len(text) < minimum_characters:
        raise datasets.DataError(
            f"{what} {path!r} has {len(text)} characters, fewer than the "
            f"{minimum_characters} needed; pass a longer file or ask for shorter sequences."
        )
    return raw, text


def check_file_exists(path, *, what="file"):
    """FileNotFoundError with what to do when `path` is not an existing file."""
    if not os.path.isfile(path):
        raise datasets.DataFileNotFoundError(
            f"{what} {os.fspath(path)!r} does not exist (or is not a file); expected a UTF-8 "
            "text file; check the path, or pass path=None for the bundled data."
        )


def file_cache_key(path, *, what="file") -> tuple:
    """(real path, size, mtime) so in-process caches notice edited files."""
    check_file_exists(path, what=what)
    real = os.path.realpath(os.fspath(path))
    stat = os.stat(real)
    return real, stat.st_size, stat.st_mtime_ns

"""Irish folk tunes in ABC notation, for character language models and tune types.

The data is `data/irish.abc`, 804 tunes shipped inside the `mitdeeplearning`
package. The file is located without importing that package (its own imports
are heavy and its dependencies are not installed: `--no-deps`).

Two tasks:

- `load_language_model(sequence_length=100)`: next-character prediction.
  x = chars[i : i + T], y = chars[i + 1 : i + T + 1], int32 ids over a sorted
  character vocabulary of the whole file. Within a split the songs are
  joined by a blank line ("\\n\\n"). Train windows start every `train_stride`
  characters (default T // 4: each character is seen at four positions in
  its window, four times the data of non-overlapping windows, without the
  100x redundancy of stride 1); validation and test windows do not overlap
  (stride T), so every held-out character is scored once.
- `load_tune_types(max_length=384)`: classify a tune's type (reel, jig, ...)
  from its notes. The type comes from the `Z: id:dc-<type>-N` line. Every
  header line that gives the answer away is stripped (X:, T:, Z:, M:, L: and
  any other `<letter>:` field line, anywhere in the tune, plus inline [M:...]
  style fields and % comments); the key line K: is kept by default
  (`keep_key`). Types with fewer than `min_songs_per_type` (default 25)
  tunes are merged into "other". Character ids: 0 = padding (so
  `mask_zero=True` works), 1 = unknown character, then the sorted characters;
  each tune is truncated (its start kept) or padded at the end to max_length.

Splits are at the song level, so no tune is in two splits:

- A song's note body (its lines without header fields, whitespace
  collapsed) identifies it. A song whose body repeats an earlier song's is
  dropped (irish.abc has two such pairs), so the same tune under two titles
  cannot sit on both sides of a split.
- Songs are ordered by the sha256 of their body, and cut 90/5/5 (language
  model) or, per tune type, 80/10/10 (tune types). No RNG: a song's split
  depends only on the songs in the file, on any machine.

`path=` takes your own file instead. A file with at least
`MIN_SONGS_FOR_SONG_SPLIT` (20) `X:` tunes is split by song as above. A plain
text file, or one with fewer tunes, is split by POSITION: the first 90% of
the characters are train, the next 5% validation, the last 5% test (the
usual choice for one long text, where paragraphs are not independent).
Missing file: FileNotFoundError. Empty, binary (NUL bytes or not UTF-8), or
shorter than one window (T + 1 characters, also per split): ValueError.

For generation: `character_vocabulary()` gives the vocabulary (the same as
`info.vocabulary`), `split_songs()["validation"]` the held-out songs (also in
`info.extras["validation_songs"]`). For tune-type prediction, `encode_tune`
encodes a user's tune exactly like the training data.
"""

import collections
import functools
import hashlib
import importlib.util
import os
import re

import numpy as np

import datasets
from datasets import _common

PACKAGE = "mitdeeplearning"
PACKAGE_VERSION = "0.7.5"
SEPARATOR = "\n\n"
LANGUAGE_MODEL_FRACTIONS = (0.9, 0.05, 0.05)
TUNE_TYPE_FRACTIONS = (0.8, 0.1, 0.1)
MIN_SONGS_FOR_SONG_SPLIT = 20
PADDING_TOKEN = "<pad>"
UNKNOWN_TOKEN = "<unk>"
OTHER_TYPE = "other"

_FIELD_LINE = re.compile(r"^[A-Za-z]:")
_KEY_LINE = re.compile(r"^K:")
_INLINE_FIELD = re.compile(r"\[[A-JL-Za-z]:[^\]\n]*\]")  # [M:3/4], [L:1/8]...; not [K:...]
_INLINE_KEY = re.compile(r"\[K:[^\]\n]*\]")
_SONG_START = re.compile(r"(?m)^(?=X:)")
_TUNE_TYPE = re.compile(r"id:\s*dc-([A-Za-z]+)-\d+")


def bundled_path() -> str:
    """Path of irish.abc inside the installed mitdeeplearning package (not imported)."""
    hint = (
        f"run `make venv`, or `pip install --no-deps --no-build-isolation "
        f"{PACKAGE}=={PACKAGE_VERSION}` (README, 'As a package'), or train on your own ABC/text file "
        "with the recipe's data_path=FILE"
    )
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise datasets.DataFileNotFoundError(
            f"the {PACKAGE} package is not installed, so its data/irish.abc is missing; "
            f"expected it in the virtualenv; {hint}."
        )
    for location in spec.submodule_search_locations:
        candidate = os.path.join(location, "data", "irish.abc")
        if os.path.isfile(candidate):
            return candidate
    raise datasets.DataFileNotFoundError(
        f"{PACKAGE} is installed at {list(spec.submodule_search_locations)} but has no "
        f"data/irish.abc; expected version {PACKAGE_VERSION}; {hint}."
    )


def parse_songs(text: str) -> tuple:
    """The `X:` tunes of an ABC text, each stripped of surrounding whitespace.

    Anything before the first `X:` line (a file preamble) is ignored; a tune
    runs until the next line that starts with `X:` (blank lines inside a tune
    are kept).
    """
    blocks = _SONG_START.split(text)
    return tuple(block.strip() for block in blocks if block.startswith("X:") and block.strip())


def strip_headers(tune: str, keep_key: bool = True) -> str:
    """A tune's note body: header field lines, inline fields and comments removed.

    Removes every `<letter>:` line (X:, T:, Z:, M:, L:, w:...) wherever it
    appears, `%` comment lines and inline fields such as `[M:3/4]`. K: lines
    (and inline [K:...]) are kept when `keep_key`, since the key says nothing
    of the rhythm.
    """
    kept = []
    for line in tune.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith("%"):
            continue
        if _FIELD_LINE.match(stripped) and not (keep_key and _KEY_LINE.match(stripped)):
            continue
        line = _INLINE_FIELD.sub("", line)
        if not keep_key:
            line = _INLINE_KEY.sub("", line)
        if line.strip():
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


def tune_type(tune: str):
    """The type in a tune's `Z: id:dc-<type>-N` line (lower case), or None."""
    for line in tune.split("\n"):
        if line.startswith("Z:"):
            match = _TUNE_TYPE.search(line)
            if match:
                return match.group(1).lower()
    return None


def _song_key(song: str) -> str:
    """Identity of a song for de-duplication and split order: its note body."""
    body = " ".join(strip_headers(song, keep_key=False).split())
    return hashlib.sha256((body or song).encode("utf-8")).hexdigest()


def _resolve(path):
    return bundled_path() if path is None else os.fspath(path)


@functools.lru_cache(maxsize=8)
def _read(cache_key):
    raw, text = _common.read_text_file(cache_key[0], what="text file")
    return raw, text


@functools.lru_cache(maxsize=8)
def _unique_songs(cache_key):
    """(songs in file order with repeated bodies dropped, their keys, number dropped)."""
    _, text = _read(cache_key)
    songs, keys, seen = [], [], set()
    parsed = parse_songs(text)
    for song in parsed:
        key = _song_key(song)
        if key not in seen:
            seen.add(key)
            songs.append(song)
            keys.append(key)
    return tuple(songs), tuple(keys), len(parsed) - len(songs)


@functools.lru_cache(maxsize=8)
def _language_model_corpus(cache_key):
    """Split units per split, how they were split, and the number of duplicates dropped."""
    _, text = _read(cache_key)
    songs, keys, duplicates = _unique_songs(cache_key)
    if len(songs) >= MIN_SONGS_FOR_SONG_SPLIT:
        parts = _common.split_indices(len(songs), LANGUAGE_MODEL_FRACTIONS, order_keys=keys)
        units = {
            split: tuple(songs[i] for i in index) for split, index in zip(_common.SPLIT_NAMES, parts)
        }
        return units, "song", duplicates
    first = int(round(len(text) * LANGUAGE_MODEL_FRACTIONS[0]))
    second = int(round(len(text) * (LANGUAGE_MODEL_FRACTIONS[0] + LANGUAGE_MODEL_FRACTIONS[1])))
    units = {"train": (text[:first],), "validation": (text[first:second],), "test": (text[second:],)}
    return units, "position", 0


def split_songs(path=None) -> dict:
    """{"train": songs, "validation": songs, "test": songs} as used by the language model.

    For a file split by position each split holds one piece of text.
    """
    units, _, _ = _language_model_corpus(_common.file_cache_key(_resolve(path), what="text file"))
    return dict(units)


def character_vocabulary(path=None) -> tuple:
    """The language model's vocabulary: the sorted characters of the whole file plus "\\n"."""
    _, text = _read(_common.file_cache_key(_resolve(path), what="text file"))
    return tuple(sorted(set(text) | set(SEPARATOR)))


def _check_positive_int(name, value, example):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise datasets.DataError(f"{name}={value!r} is not valid; expected an int >= 1; pass e.g. {name}={example}.")


def load_language_model(path=None, sequence_length: int = 100, train_stride=None) -> datasets.Splits:
    """Character language-model windows over the tunes (or your own text file).

    Args:
        path: None for the bundled irish.abc, or your own UTF-8 ABC/text file.
        sequence_length: T, the window length.
        train_stride: characters between train window starts; None means
            max(1, T // 4). Validation and test always use stride T.

    Returns:
        `datasets.Splits` of (x int32 (T,), y int32 (T,)). info.vocabulary is
        the characters in index order; info.extras holds "source",
        "split_by" ("song" or "position"), "songs_per_split",
        "characters_per_split", "duplicates_dropped", "separator",
        "sequence_length", "strides", "validation_songs" and "description".
    """
    _check_positive_int("sequence_length", sequence_length, 100)
    if train_stride is None:
        train_stride = max(1, sequence_length // 4)
    _check_positive_int("train_stride", train_stride, max(1, sequence_length // 4))
    source = _resolve(path)
    cache_key = _common.file_cache_key(source, what="text file")
    raw, text = _read(cache_key)
    window = sequence_length + 1
    if len(text) < window:
        raise datasets.DataError(
            f"text file {source!r} has {len(text)} characters, fewer than one window "
            f"(sequence_length + 1 = {window}); pass a longer file or a smaller sequence_length."
        )
    units, split_by, duplicates = _language_model_corpus(cache_key)
    vocabulary = character_vocabulary(source)
    lookup = {character: index for index, character in enumerate(vocabulary)}
    strides = {"train": train_stride, "validation": sequence_length, "test": sequence_length}
    sets, num_examples, characters = {}, {}, {}
    for split in _common.SPLIT_NAMES:
        split_text = SEPARATOR.join(units[split])
        if len(split_text) < window:
            raise datasets.DataError(
                f"the {split} split of {source!r} has {len(split_text)} characters, fewer than "
                f"one window (sequence_length + 1 = {window}); pass a longer file or a smaller "
                "sequence_length."
            )
        ids = np.array([lookup[c] for c in split_text], dtype=np.int32)  # (characters,)
        sets[split] = _common.char_windows(ids, sequence_length, strides[split])
        num_examples[split] = _common.count_windows(len(ids), sequence_length, strides[split])
        characters[split] = len(split_text)
    params = {
        "task": "language_model", "sequence_length": sequence_length, "strides": strides,
        "fractions": LANGUAGE_MODEL_FRACTIONS, "separator": SEPARATOR, "split_by": split_by,
        "min_songs_for_song_split": MIN_SONGS_FOR_SONG_SPLIT,
    }
    unit = "songs" if split_by == "song" else "pieces of text"
    info = datasets.DatasetInfo(
        name="irish_lm" if path is None else "char_lm_" + os.path.basename(source),
        input_shape=(sequence_length,),
        num_examples=num_examples,
        fingerprint=_common.fingerprint(raw, params),
        vocabulary=vocabulary,
        extras={
            "source": source,
            "split_by": split_by,
            "songs_per_split": {split: len(units[split]) for split in _common.SPLIT_NAMES},
            "characters_per_split": characters,
            "duplicates_dropped": duplicates,
            "separator": SEPARATOR,
            "sequence_length": sequence_length,
            "strides": strides,
            "validation_songs": units["validation"],
            "description": (
                f"Character language model over {source}: {unit} split "
                f"{'/'.join(str(round(f * 100)) for f in LANGUAGE_MODEL_FRACTIONS)} "
                f"(train/validation/test), joined by a blank line within a split; x = ids[i:i+T], "
                f"y = ids[i+1:i+T+1], T = {sequence_length}; window starts every {train_stride} "
                f"characters in train and every {sequence_length} in validation/test."
            ),
        },
    )
    return datasets.Splits(info=info, **sets)


def encode_tune(tune: str, vocabulary, max_length: int, keep_key: bool = True) -> np.ndarray:
    """Encode one tune like `load_tune_types` does: int32 (max_length,).

    Strips its headers, maps characters through `vocabulary` (info.vocabulary;
    unseen characters become 1 = "<unk>"), keeps the first max_length ids and
    pads with 0. Pass the same keep_key as the loaded dataset
    (info.extras["keep_key"]).
    """
    _check_positive_int("max_length", max_length, 384)
    if len(vocabulary) < 2 or vocabulary[0] != PADDING_TOKEN or vocabulary[1] != UNKNOWN_TOKEN:
        raise datasets.DataError(
            "vocabulary is not a tune-type vocabulary; expected ('<pad>', '<unk>', characters...); "
            "pass info.vocabulary from irish.load_tune_types()."
        )
    lookup = {character: index for index, character in enumerate(vocabulary) if index >= 2}
    body = strip_headers(tune, keep_key=keep_key)
    ids = np.zeros(max_length, dtype=np.int32)  # (max_length,), 0 = padding
    encoded = [lookup.get(c, 1) for c in body[:max_length]]
    ids[: len(encoded)] = encoded
    return ids


def load_tune_types(
    path=None, max_length: int = 384, min_songs_per_type: int = 25, keep_key: bool = True
) -> datasets.Splits:
    """Tune-type classification from the notes of each tune.

    Args:
        path: None for the bundled irish.abc, or your own ABC file whose
            tunes carry `Z: id:dc-<type>-N` lines (tunes without one are
            dropped and counted in extras["untyped_dropped"]).
        max_length: ids per tune (truncate the end / pad with 0).
        min_songs_per_type: types with fewer tunes are merged into "other".
        keep_key: keep the K: (key) lines in the features.

    Returns:
        `datasets.Splits` of (ids int32 (max_length,), type int32 ()).
        info.class_names are the types, most frequent first, "other" last;
        info.vocabulary is ("<pad>", "<unk>", sorted characters...);
        info.extras holds "class_counts", "raw_type_counts",
        "merged_into_other", "untyped_dropped", "duplicates_dropped",
        "truncated", "max_length", "keep_key", "padding_id", "unknown_id",
        "source" and "description".
    """
    _check_positive_int("max_length", max_length, 384)
    _check_positive_int("min_songs_per_type", min_songs_per_type, 25)
    source = _resolve(path)
    cache_key = _common.file_cache_key(source, what="text file")
    raw, _ = _read(cache_key)
    songs, keys, duplicates = _unique_songs(cache_key)
    typed = [(song, key, tune_type(song)) for song, key in zip(songs, keys)]
    untyped = sum(1 for _, _, kind in typed if kind is None)
    typed = [item for item in typed if item[2] is not None]
    raw_counts = collections.Counter(kind for _, _, kind in typed)
    merged = tuple(sorted(kind for kind, count in raw_counts.items() if count < min_songs_per_type))
    kinds = [OTHER_TYPE if kind in merged else kind for _, _, kind in typed]
    counts = collections.Counter(kinds)
    class_names = tuple(
        sorted(counts, key=lambda kind: (kind == OTHER_TYPE, -counts[kind], kind))
    )
    if len(class_names) < 2:
        raise datasets.DataError(
            f"{source!r} has {len(typed)} tunes with a `Z: id:dc-<type>-N` line and "
            f"{len(class_names)} tune type(s) after merging; expected at least 2 types; pass an "
            "ABC file of typed tunes or a smaller min_songs_per_type."
        )
    bodies = [strip_headers(song, keep_key=keep_key) for song, _, _ in typed]
    characters = sorted(set("".join(bodies)))
    vocabulary = (PADDING_TOKEN, UNKNOWN_TOKEN, *characters)
    features = np.stack(
        [encode_tune(song, vocabulary, max_length, keep_key) for song, _, _ in typed]
    )  # (tunes, max_length)
    labels = np.array([class_names.index(kind) for kind in kinds], dtype=np.int32)  # (tunes,)
    parts = _common.split_indices(
        len(labels), TUNE_TYPE_FRACTIONS, labels=labels, order_keys=[key for _, key, _ in typed]
    )
    arrays = {split: (features[i], labels[i]) for split, i in zip(_common.SPLIT_NAMES, parts)}
    params = {
        "task": "tune_types", "max_length": max_length, "min_songs_per_type": min_songs_per_type,
        "keep_key": bool(keep_key), "fractions": TUNE_TYPE_FRACTIONS,
    }
    return _common.array_splits(
        "irish_tune_types" if path is None else "tune_types_" + os.path.basename(source),
        arrays,
        fingerprint_parts=(raw, params),
        num_classes=len(class_names),
        class_names=class_names,
        vocabulary=vocabulary,
        extras={
            "source": source,
            "class_counts": {kind: counts[kind] for kind in class_names},
            "raw_type_counts": dict(sorted(raw_counts.items())),
            "merged_into_other": merged,
            "untyped_dropped": untyped,
            "duplicates_dropped": duplicates,
            "truncated": int(sum(len(body) > max_length for body in bodies)),
            "max_length": max_length,
            "keep_key": bool(keep_key),
            "padding_id": 0,
            "unknown_id": 1,
            "description": (
                "Tune type from the note body: header lines (X:, T:, Z:, M:, L:, ...) removed"
                f"{', K: kept' if keep_key else ', K: removed too'}; character ids, 0 = padding, "
                f"1 = unknown; first {max_length} characters, padded at the end; types with fewer "
                f"than {min_songs_per_type} tunes merged into 'other'; stratified 80/10/10 split "
                "by tune, ordered by a hash of each tune's notes."
            ),
        },
    )


def load(task: str = "language_model", **kwargs) -> datasets.Splits:
    """`load_language_model(**kwargs)` or `load_tune_types(**kwargs)` by task name."""
    tasks = {"language_model": load_language_model, "tune_types": load_tune_types}
    if task not in tasks:
        raise datasets.DataError(
            f"task={task!r} is not an irish task; expected one of {', '.join(tasks)}; pass one of those."
        )
    return tasks[task](**kwargs)

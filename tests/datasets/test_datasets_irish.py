"""The Irish folk tunes shipped in mitdeeplearning: language model and tune types.

These run on the real irish.abc, so the counts below are the file's.
"""

import collections
import importlib.util
import re

import numpy as np
import pytest

from datasets import irish

HEADER = re.compile(r"(?m)^[A-JL-Za-z]:")


@pytest.fixture(scope="module")
def songs():
    return irish.parse_songs(open(irish.bundled_path(), encoding="utf-8").read())


@pytest.fixture(scope="module")
def language_model():
    return irish.load_language_model(sequence_length=100)


@pytest.fixture(scope="module")
def tune_types():
    return irish.load_tune_types(max_length=384)


def _decode(ids, vocabulary):
    return "".join(vocabulary[i] for i in ids)


def test_bundled_file_is_found_without_importing_the_package(songs):
    import sys

    imported_before = "mitdeeplearning" in sys.modules
    assert irish.bundled_path().endswith("irish.abc")
    assert ("mitdeeplearning" in sys.modules) == imported_before
    assert len(songs) == 804
    assert all(song.startswith("X:") for song in songs)


def test_missing_package_says_how_to_install(monkeypatch, one_line_error):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError) as error:
        irish.bundled_path()
    one_line_error(error, "make venv", "pip install --no-deps --no-build-isolation mitdeeplearning==0.7.5")


def test_language_model_song_split_without_leakage(songs):
    parts = irish.split_songs()
    assert {k: len(v) for k, v in parts.items()} == {"train": 722, "validation": 40, "test": 40}
    bodies = {k: {" ".join(irish.strip_headers(s, keep_key=False).split()) for s in v}
              for k, v in parts.items()}
    assert not bodies["train"] & bodies["validation"]
    assert not bodies["train"] & bodies["test"]
    assert not bodies["validation"] & bodies["test"]
    every = [song for part in parts.values() for song in part]
    assert len(set(every)) == len(every) == 802  # two repeated tunes dropped
    assert set(every) <= set(songs)


def test_language_model_windows(language_model, to_numpy):
    info = language_model.info
    assert info.input_shape == (100,)
    assert info.extras["split_by"] == "song"
    assert info.extras["strides"] == {"train": 25, "validation": 100, "test": 100}
    assert info.extras["songs_per_split"] == {"train": 722, "validation": 40, "test": 40}
    for split in ("train", "validation", "test"):
        x, y = to_numpy(getattr(language_model, split))
        characters = info.extras["characters_per_split"][split]
        stride = info.extras["strides"][split]
        assert x.shape == y.shape == (info.num_examples[split], 100)
        assert len(x) == (characters - 101) // stride + 1
        assert x.dtype == y.dtype == np.int32
        np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # y is x shifted by one
        assert x.min() >= 0 and x.max() < info.vocab_size
    x, _ = to_numpy(language_model.validation)
    validation_text = irish.SEPARATOR.join(irish.split_songs()["validation"])
    assert "".join(_decode(row, info.vocabulary) for row in x) == validation_text[: 100 * len(x)]
    assert info.extras["validation_songs"] == irish.split_songs()["validation"]
    assert 7000 < info.num_examples["train"] < 7200 and 90 <= info.num_examples["validation"] <= 110


def test_vocabulary_covers_the_file(language_model):
    vocabulary = language_model.info.vocabulary
    text = open(irish.bundled_path(), encoding="utf-8").read()
    assert set(text) <= set(vocabulary)
    assert list(vocabulary) == sorted(set(vocabulary))
    assert vocabulary == irish.character_vocabulary()
    assert len(vocabulary) == 83


def test_language_model_is_deterministic(language_model, to_numpy):
    again = irish.load_language_model(sequence_length=100)
    assert again.info.fingerprint == language_model.info.fingerprint
    for split in ("train", "validation", "test"):
        for a, b in zip(to_numpy(getattr(again, split)), to_numpy(getattr(language_model, split))):
            np.testing.assert_array_equal(a, b)
    shorter = irish.load_language_model(sequence_length=50)
    assert shorter.info.fingerprint != language_model.info.fingerprint
    assert shorter.info.extras["songs_per_split"] == language_model.info.extras["songs_per_split"]


def test_strip_headers_removes_answers_and_keeps_key():
    tune = (
        "X:7\nT:Some Reel\nZ: id:dc-reel-9\nM:C|\nL:1/8\n% a comment\nK:D Major\n"
        "ABcd|[M:3/4]efga|!\nM:6/8\nw: words here\nK:G\n[K:Em]gfed|]\n"
    )
    body = irish.strip_headers(tune)
    assert body == "K:D Major\nABcd|efga|!\nK:G\n[K:Em]gfed|]"
    assert irish.strip_headers(tune, keep_key=False) == "ABcd|efga|!\ngfed|]"
    assert irish.tune_type(tune) == "reel"
    assert irish.tune_type("X:1\nK:D\nabc") is None


def test_tune_type_classes(tune_types, to_numpy):
    info = tune_types.info
    assert info.class_names == ("reel", "jig", "hornpipe", "polka", "slide", "setdance", "other")
    assert info.extras["class_counts"] == {
        "reel": 385, "jig": 173, "hornpipe": 66, "polka": 48, "slide": 36, "setdance": 30, "other": 64,
    }
    assert info.extras["merged_into_other"] == ("miscellaneous", "ocarolan", "slipjig", "waltz")
    assert info.num_examples == {"train": 642, "validation": 80, "test": 80}
    assert info.num_classes == 7 and info.input_shape == (384,)
    assert info.vocabulary[:2] == ("<pad>", "<unk>")
    totals = collections.Counter()
    for split in ("train", "validation", "test"):
        x, y = to_numpy(getattr(tune_types, split))
        assert x.dtype == np.int32 and y.dtype == np.int32 and x.shape[1] == 384
        counts = collections.Counter(y.tolist())
        totals.update(counts)
        assert sorted(counts) == list(range(7)), split  # every class in every split
        if split != "train":
            for index, name in enumerate(info.class_names):
                assert abs(counts[index] - 0.1 * info.extras["class_counts"][name]) <= 1
    assert {info.class_names[i]: n for i, n in totals.items()} == info.extras["class_counts"]


def test_tune_type_features_hide_the_answer(tune_types, to_numpy):
    vocabulary = tune_types.info.vocabulary
    decoded = {}
    for split in ("train", "validation", "test"):
        x, _ = to_numpy(getattr(tune_types, split))
        decoded[split] = {_decode(row[row > 0], vocabulary) for row in x}
        for row in x:
            nonzero = np.flatnonzero(row)
            assert (nonzero == np.arange(len(nonzero))).all()  # padding only at the end
            text = _decode(row[row > 0], vocabulary)
            assert not HEADER.search(text), text[:80]
            assert "id:dc-" not in text
            assert text.startswith("K:")
    assert not decoded["train"] & decoded["validation"]
    assert not decoded["train"] & decoded["test"]
    assert not decoded["validation"] & decoded["test"]


def test_encode_tune_matches_the_dataset(tune_types, songs, to_numpy):
    info = tune_types.info
    rows = [bytes(row) for split in ("train", "validation", "test")
            for row in to_numpy(getattr(tune_types, split))[0]]
    encoded = {bytes(irish.encode_tune(song, info.vocabulary, 384)) for song in songs}
    assert len(rows) == len(set(rows)) == len(encoded) == 802  # 804 tunes, two repeats dropped
    assert set(rows) == encoded
    user_tune = "X:1\nT:Mine\nM:6/8\nK:D\nAB\u00e9c|"
    ids = irish.encode_tune(user_tune, info.vocabulary, 16)
    assert ids.dtype == np.int32 and ids.shape == (16,)
    assert _decode(ids[:4], info.vocabulary) == "K:D\n"
    assert ids[6] == 1  # unknown character
    assert ids[8] != 0 and (ids[9:] == 0).all()
    long_ids = irish.encode_tune(songs[0], info.vocabulary, 10)
    assert _decode(long_ids, info.vocabulary) == irish.strip_headers(songs[0])[:10]


def test_tune_types_are_deterministic_and_keep_key_matters(tune_types, to_numpy):
    again = irish.load_tune_types(max_length=384)
    assert again.info.fingerprint == tune_types.info.fingerprint
    for a, b in zip(to_numpy(again.test), to_numpy(tune_types.test)):
        np.testing.assert_array_equal(a, b)
    no_key = irish.load_tune_types(max_length=384, keep_key=False)
    assert no_key.info.fingerprint != tune_types.info.fingerprint
    x, _ = to_numpy(no_key.validation)
    assert not any("K:" in _decode(row[row > 0], no_key.info.vocabulary) for row in x)


def test_load_dispatches_by_task(one_line_error):
    assert irish.load(task="tune_types").info.name == "irish_tune_types"
    assert irish.load(sequence_length=100).info.name == "irish_lm"
    with pytest.raises(ValueError) as error:
        irish.load(task="melody")
    one_line_error(error, "language_model")


# --- user files -----------------------------------------------------------------------


def test_missing_file(tmp_path, one_line_error):
    with pytest.raises(FileNotFoundError) as error:
        irish.load_language_model(path=tmp_path / "nope.abc")
    one_line_error(error, "nope.abc", "does not exist")


@pytest.mark.parametrize(
    "content, fragment",
    [(b"", "empty"), (b"  \n\n", "empty"), (b"X:1\x00\x01\x02" * 50, "binary"),
     (b"\xff\xfe\xfa text" * 50, "UTF-8"), (b"X:1\nK:D\nabc|\n", "fewer than one window")],
)
def test_bad_files_raise_value_error(tmp_path, content, fragment, one_line_error):
    path = tmp_path / "bad.abc"
    path.write_bytes(content)
    with pytest.raises(ValueError) as error:
        irish.load_language_model(path=path, sequence_length=100)
    one_line_error(error, fragment, "bad.abc")


def test_plain_text_is_split_by_position(tmp_path, to_numpy):
    text = "".join(f"Line {i} of a plain text file.\n" for i in range(400))
    path = tmp_path / "notes.txt"
    path.write_text(text, encoding="utf-8")
    splits = irish.load_language_model(path=path, sequence_length=20)
    info = splits.info
    assert info.extras["split_by"] == "position"
    pieces = irish.split_songs(path)
    assert "".join(pieces["train"] + pieces["validation"] + pieces["test"]) == text
    assert info.extras["characters_per_split"]["train"] == round(0.9 * len(text))
    assert abs(info.extras["characters_per_split"]["test"] - 0.05 * len(text)) <= 1
    assert set(text) <= set(info.vocabulary)
    x, y = to_numpy(splits.test)
    assert _decode(x[0], info.vocabulary) == pieces["test"][0][:20]


def test_user_abc_file_is_split_by_song(tmp_path, songs):
    path = tmp_path / "mine.abc"
    path.write_text("\n\n".join(songs[::13][:60]) + "\n", encoding="utf-8")
    splits = irish.load_language_model(path=path, sequence_length=64)
    assert splits.info.extras["split_by"] == "song"
    assert splits.info.extras["songs_per_split"] == {"train": 54, "validation": 3, "test": 3}
    assert splits.info.name == "char_lm_mine.abc"
    types = irish.load_tune_types(path=path, min_songs_per_type=5)
    assert sum(types.info.num_examples.values()) == 60


def test_split_too_short_for_a_window(tmp_path, one_line_error):
    path = tmp_path / "short.txt"
    path.write_text("abcdefghij" * 30, encoding="utf-8")  # 300 chars: test split has 15
    with pytest.raises(ValueError) as error:
        irish.load_language_model(path=path, sequence_length=100)
    one_line_error(error, "validation split", "smaller sequence_length")


def test_tune_types_need_typed_tunes(tmp_path, one_line_error):
    path = tmp_path / "untyped.abc"
    path.write_text("".join(f"X:{i}\nT:t{i}\nK:D\nABcd|efg{i}|\n\n" for i in range(30)), encoding="utf-8")
    with pytest.raises(ValueError) as error:
        irish.load_tune_types(path=path)
    one_line_error(error, "Z: id:dc-<type>-N")


def test_edited_file_is_reread(tmp_path):
    path = tmp_path / "grow.txt"
    path.write_text("abc " * 100, encoding="utf-8")
    first = irish.load_language_model(path=path, sequence_length=10).info.fingerprint
    path.write_text("abd " * 120, encoding="utf-8")
    second = irish.load_language_model(path=path, sequence_length=10)
    assert second.info.fingerprint != first and "d" in second.info.vocabulary

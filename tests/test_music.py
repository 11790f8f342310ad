"""zoo/inference/music.py: splitting generated text into tunes, ABC -> MIDI -> WAV, valid-song rate."""

import json

import numpy as np
import pytest
import scipy.io.wavfile

from datasets import irish
from zoo.inference import music

# Parses as ABC (music21 makes a score of it) but holds no notes.
NO_NOTES = "X:1\nT:Only a title\n"
GARBAGE = "qq#~~ )(*& zzz"


@pytest.fixture(scope="module")
def good_tunes():
    """Two real tunes from the held-out songs of the bundled dataset."""
    return list(irish.split_songs()["validation"][:2])


def test_split_tunes_cuts_at_blank_lines_and_x_lines():
    text = "X:1\nK:G\nabc|\n\n  \nX:2\nK:D\ndef|\nX:3\nK:A\nfed|\n\n\n"
    assert music.split_tunes(text) == ["X:1\nK:G\nabc|", "X:2\nK:D\ndef|", "X:3\nK:A\nfed|"]
    assert music.split_tunes(" \n\n\t\n") == []
    # Text before the first X: is a (probably broken) tune of its own.
    assert music.split_tunes("ab|\nX:9\nK:C\nc|") == ["ab|", "X:9\nK:C\nc|"]


def test_a_tune_from_the_dataset_is_valid_and_renders_to_midi_and_wav(good_tunes, tmp_path):
    record = music.save_tune(good_tunes[0], tmp_path, "tune")

    assert record["valid"] and record["notes"] > 10
    for key, suffix in (("abc", ".abc"), ("mid", ".mid"), ("wav", ".wav")):
        path = tmp_path / f"tune{suffix}"
        assert record[key] == str(path) and path.stat().st_size > 0
    assert (tmp_path / "tune.abc").read_text() == good_tunes[0] + "\n"
    assert (tmp_path / "tune.mid").read_bytes()[:4] == b"MThd"
    rate, audio = scipy.io.wavfile.read(tmp_path / "tune.wav")
    assert rate == music.SAMPLE_RATE and audio.dtype == np.int16
    assert audio.ndim == 1 and len(audio) > rate  # More than a second of sound...
    assert np.abs(audio).max() > 1000  # ...that is not silence.


@pytest.mark.parametrize("tune", ["", "   ", GARBAGE, NO_NOTES])
def test_garbage_empty_and_noteless_tunes_are_not_valid(tune):
    assert not music.is_valid(tune)


def test_valid_song_rate_on_a_mix_of_good_and_bad_tunes(good_tunes, tmp_path):
    tunes = [good_tunes[0], GARBAGE, NO_NOTES, good_tunes[1]]
    assert music.valid_song_rate(tunes) == 0.5
    assert music.valid_song_rate([]) == 0.0

    summary = music.save_tunes(tunes, tmp_path)

    assert (summary["tunes"], summary["valid"], summary["valid_song_rate"]) == (4, 2, 0.5)
    assert summary["rendered"] == 2
    assert [record["valid"] for record in summary["files"]] == [True, False, False, True]
    assert sorted(p.name for p in tmp_path.glob("*.abc")) == [f"tune_0{i}.abc" for i in range(1, 5)]
    assert sorted(p.name for p in tmp_path.glob("*.mid")) == ["tune_01.mid", "tune_04.mid"]
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == ["tune_01.wav", "tune_04.wav"]
    assert json.loads((tmp_path / "tunes.json").read_text())["valid"] == 2


# Three sections that each end in `:|` with no `|:`, as Irish ABC writes them: played AABBCC.
THREE_SECTIONS = "X:1\nM:4/4\nL:1/4\nK:C\nCDEF|GABc:|cBAG|FEDC:|cccc|dddd:|\n"
# Generated tunes that parse and have notes but lost their MIDI before music.playable_score mended them.
# music_lstm: a `[2` with no `[1` and a `:|` that closes nothing; its repeats do not pair up.
UNBALANCED = ("X:38\nT:Mormonta's\nM:6/8\nL:1/8\nK:D Major\nB|AFD DFA|BAB d2B|AFD EFA|BcB AFD:|!\n"
              "[2 E3 cED|AFG AFD|GAB dcB|AFD DED|!\nGBd gdB|dge dBA|G2A B2G|AGF G2:|!\n:|a3 g3|faf d2B|cee ged|!")
# music_lstm: the `[2`...`|]` gives a later bar the first bar's TimeSignature object.
SHARED_METER = "X:17\nT:Lawnty\nM:6/8\nL:1/8\nK:A Dorian\nA|G3 GBd|egf g2B|d2d B2A GEG|AGd BAd |]!"


def test_sections_that_leave_out_their_start_repeat_are_played_twice_each(tmp_path):
    score, balanced = music.playable_score(THREE_SECTIONS)
    assert balanced and score.highestTime == 24  # 6 bars of 4 quarters as written...
    assert score.expandRepeats().highestTime == 48  # ...AABBCC when played, as the MIDI writer plays it.
    record = music.save_tune(THREE_SECTIONS, tmp_path, "sections")
    assert record["rendered"] and record["repeats"] == "balanced" and record["bars"] == 6


@pytest.mark.parametrize("tune, repeats", [(UNBALANCED, "unbalanced"), (SHARED_METER, "balanced")], ids=["unbalanced_repeats", "shared_meter"])
def test_valid_tunes_that_used_to_lose_their_midi_now_play(tune, repeats, tmp_path):
    record = music.save_tune(tune, tmp_path, "tune")
    assert record["valid"] and record["rendered"] and "render_error" not in record
    assert record["repeats"] == repeats
    assert (tmp_path / "tune.mid").read_bytes()[:4] == b"MThd"
    rate, audio = scipy.io.wavfile.read(tmp_path / "tune.wav")
    assert len(audio) > rate and np.abs(audio).max() > 1000


def test_unbalanced_repeats_are_played_once_as_written():
    plain = music.without_repeats(UNBALANCED)
    assert ":" not in music.header_and_body(plain)[1] and "[2" not in plain
    assert music.count_bars(plain) == music.count_bars(UNBALANCED)
    score, balanced = music.playable_score(UNBALANCED)
    assert not balanced and score.expandRepeats().highestTime == score.highestTime


def test_a_tune_is_cut_at_its_last_allowed_bar_line():
    header = "X:1\nM:2/4\nL:1/8\nK:G"
    long_tune = header + "\n" + "|".join(["GABc"] * 70) + "|]"
    assert music.count_bars(long_tune) == 70
    cut, was_cut = music.cap_bars(long_tune)
    assert was_cut and music.count_bars(cut) == music.MAX_BARS
    assert cut.startswith(header) and cut.endswith("GABc|")
    assert music.cap_bars(SHARED_METER) == (SHARED_METER, False)
    assert music.cap_bars(long_tune, max_bars=70) == (long_tune, False)


def test_saving_deletes_nothing(good_tunes, tmp_path):
    """save_tunes only writes; replacing an earlier call's files is `generate`'s job (tests/test_generate.py)."""
    music.save_tunes([GARBAGE, GARBAGE, good_tunes[0]], tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    summary = music.save_tunes([good_tunes[1]], tmp_path)
    assert summary["tunes"] == 1
    assert {"tune_01.abc", "tune_02.abc", "tune_03.abc", "notes.txt"} <= {p.name for p in tmp_path.iterdir()}


def test_a_tune_result_plays_the_same_audio_as_its_wav_and_refuses_an_invalid_tune(good_tunes, tmp_path):
    from zoo import errors
    from zoo.inference import results

    tune = results.Tune(abc=good_tunes[0], valid=True)
    samples = tune.audio()
    music.save_tune(good_tunes[0], tmp_path, "tune")
    rate, written = scipy.io.wavfile.read(tmp_path / "tune.wav")
    assert rate == tune.sample_rate == music.SAMPLE_RATE
    assert samples.ndim == 1 and len(samples) == len(written) and np.isfinite(samples).all()
    # The WAV is the same audio, peak-normalised to 0.9 and rounded to 16 bits.
    np.testing.assert_allclose(samples / np.abs(samples).max() * 0.9 * 32767, written, atol=1.01)
    with pytest.raises(errors.UserError, match="not valid ABC music"):
        results.Tune(abc=GARBAGE, valid=False).audio()


def test_a_tune_shows_as_sheet_music_with_abcjs_and_as_its_text_without(tmp_path, monkeypatch):
    from zoo.inference import results

    tune = "X:1\nT:</script> & <b>\nK:D\n|:dAFA dAFA|"
    library = tmp_path / "abcjs-basic-min.js"
    library.write_text("/* stand-in */ this.ABCJS = {renderAbc: function () {}};")
    page = music.sheet_music_html(tune, library)
    assert library.read_text() in page and "ABCJS.renderAbc(element, " in page
    assert page.count("</script>") == 1  # The title's "</script>" cannot end the script early.
    assert "T:&lt;/script&gt; &amp; &lt;b&gt;" in page  # Shown as text until abcjs draws it.
    monkeypatch.setattr(music, "find_abcjs", lambda: None)
    fallback = results.Tune(abc=tune, valid=True)._repr_html_()
    assert "<script" not in fallback and "T:&lt;/script&gt;" in fallback and "npm install" in fallback


def test_music21s_doubts_about_a_generated_note_are_not_printed(capsys):
    assert music.is_valid("X:1\nT:t\nM:C\nL:1/8\nK:D\n^s dAFA dAFA|")  # music21 reads ^s as C, and says so.
    assert capsys.readouterr().err == ""


def test_a_tune_that_music21_reads_as_several_pieces_is_played_from_its_first(tmp_path):
    tune = "X:1\nM:4/4\nL:1/4\nK:G\nGABc|dcBA|\nX:2\nK:D\nDEFG|]"  # music21 makes an Opus of two scores.
    record = music.save_tune(tune, tmp_path, "two")
    assert record["valid"] and record["rendered"] and record["notes"] == 8

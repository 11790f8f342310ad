"""Generated ABC text -> tunes -> .abc, .mid and .wav files, and the valid-song rate.

    tunes = music.split_tunes(generated_text)
    summary = music.save_tunes(tunes, "runs/music_lstm/generated")
    summary["valid_song_rate"]     # share of tunes that parse and have notes

A tune is valid when music21 parses it as ABC and the result contains at least
one note. Each tune is saved as `tune_NN.abc`; each valid one also as
`tune_NN.mid` (written by music21) and `tune_NN.wav` (pretty_midi's sine-wave
synthesizer, or FluidSynth when pyfluidsynth and a SoundFont are available),
written with scipy. A valid tune that music21 still cannot write as MIDI (it
happens with odd generated headers) stays valid, is counted in "rendered" as
not rendered, and its error is recorded. music21, pretty_midi and scipy are
imported on first use.

In a notebook, `audio(tune)` gives the samples for IPython.display.Audio and
`sheet_music_html(tune)` the tune drawn by abcjs (the `Tune` result uses both).
"""

import contextlib
import html
import io
import json
import os
import pathlib
import re
import tempfile
import uuid
import warnings

import numpy as np

from zoo import errors

SAMPLE_RATE = 16000
# abcjs (pinned in package.json), as `npm install` leaves it in the zoo's checkout (the page's path too).
ABCJS = pathlib.Path("node_modules") / "abcjs" / "dist" / "abcjs-basic-min.js"
# Generated tunes are separated like the training data: a blank line, or a new
# `X:` (reference number) line that starts the next tune.
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_TUNE_START = re.compile(r"(?m)^(?=X:)")


def split_tunes(text: str) -> list:
    """The tunes in generated text: pieces between blank lines or before `X:` lines.

    Whitespace-only pieces are dropped; every other piece counts as a tune,
    valid or not (garbage is a generated tune that failed).
    """
    tunes = []
    for block in _BLANK_LINE.split(text.replace("\r\n", "\n")):
        tunes.extend(piece.strip() for piece in _TUNE_START.split(block) if piece.strip())
    return tunes


def parse_tune(tune: str):
    """The music21 Score of an ABC tune, or None when it does not parse or has no notes."""
    if not tune.strip():
        return None
    import music21

    try:
        # music21 also writes its doubts about a note straight to stderr ("abcFormat: WARNING: ..."):
        # for a generated tune that is noise, not a message for the user.
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            # parseData, not parse: a short string is never taken for a file path.
            score = music21.converter.parseData(tune, format="abc")
        if len(score.flatten().notes) == 0:
            return None
    except Exception:  # noqa: BLE001 - music21 raises many types on malformed ABC
        return None
    return score


def is_valid(tune: str) -> bool:
    """True when the tune parses as ABC and contains at least one note."""
    return parse_tune(tune) is not None


def valid_song_rate(tunes) -> float:
    """Share of `tunes` that parse and contain notes (0.0 for no tunes)."""
    tunes = list(tunes)
    if not tunes:
        return 0.0
    return sum(is_valid(tune) for tune in tunes) / len(tunes)


def synthesize(midi_path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Audio (float, mono) of a MIDI file, synthesized by pretty_midi.

    Uses FluidSynth when pyfluidsynth and a SoundFont (env ZOO_SOUNDFONT) are
    available, else pretty_midi's sine-wave synthesizer.
    """
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(str(midi_path))
    soundfont = os.environ.get("ZOO_SOUNDFONT")
    if soundfont and os.path.isfile(soundfont):
        try:
            return midi.fluidsynth(fs=sample_rate, sf2_path=soundfont)
        except ImportError:
            pass
    return midi.synthesize(fs=sample_rate)


def write_wav(path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Writes mono audio as 16-bit PCM, peak-normalised (scipy.io.wavfile)."""
    import scipy.io.wavfile

    audio = np.asarray(audio, dtype=np.float64)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0:
        audio = audio / peak * 0.9
    scipy.io.wavfile.write(str(path), sample_rate, (audio * 32767).astype(np.int16))


def save_tune(tune: str, out_dir, stem: str, sample_rate: int = SAMPLE_RATE) -> dict:
    """Saves one tune as STEM.abc, plus STEM.mid and STEM.wav when it is valid.

    Returns {"abc": path, "valid": bool, "notes": n, "rendered": bool, and the
    "mid"/"wav" paths when rendered, or "render_error"}.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    abc_path = out_dir / f"{stem}.abc"
    abc_path.write_text(tune + "\n", encoding="utf-8")
    record = {"abc": str(abc_path), "valid": False, "notes": 0, "rendered": False}
    score = parse_tune(tune)
    if score is None:
        return record
    record.update(valid=True, notes=len(score.flatten().notes))
    midi_path = out_dir / f"{stem}.mid"
    wav_path = out_dir / f"{stem}.wav"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score.write("midi", fp=str(midi_path))
        write_wav(wav_path, synthesize(midi_path, sample_rate), sample_rate)
    except Exception as error:  # noqa: BLE001 - a tune music21 reads but cannot render
        record["render_error"] = f"{type(error).__name__}: {error}".splitlines()[0]
        for path in (midi_path, wav_path):
            path.unlink(missing_ok=True)
        return record
    record.update(rendered=True, mid=str(midi_path), wav=str(wav_path))
    return record


def save_tunes(tunes, out_dir, sample_rate: int = SAMPLE_RATE) -> dict:
    """Saves every tune (tune_01.abc, ...) and writes out_dir/tunes.json.

    Returns {"tunes": n, "valid": k, "valid_song_rate": k / n, "rendered": r,
    "files": [records]}: k tunes parse and have notes, r of them were written
    as .mid and .wav.
    """
    tunes = list(tunes)
    out_dir = pathlib.Path(out_dir)
    width = max(2, len(str(len(tunes))))
    records = [
        save_tune(tune, out_dir, f"tune_{index:0{width}d}", sample_rate)
        for index, tune in enumerate(tunes, start=1)
    ]
    valid = sum(record["valid"] for record in records)
    summary = {
        "tunes": len(tunes),
        "valid": valid,
        "valid_song_rate": valid / len(tunes) if tunes else 0.0,
        "rendered": sum(record["rendered"] for record in records),
        "files": records,
    }
    pathlib.Path(out_dir).mkdir(parents=True, exist_ok=True)
    (pathlib.Path(out_dir) / "tunes.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def audio(tune: str, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The tune's audio (float, mono), through a temporary MIDI file, as save_tune renders it.

    Raises:
        errors.UserError: the tune is not valid (music21 finds no notes in it).
    """
    score = parse_tune(tune)
    if score is None:
        raise errors.UserError("This tune is not valid ABC music (music21 finds no notes in it), so it has no audio.")
    with tempfile.TemporaryDirectory() as folder:
        midi_path = pathlib.Path(folder) / "tune.mid"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score.write("midi", fp=str(midi_path))
        return synthesize(midi_path, sample_rate)


def find_abcjs():
    """abcjs-basic-min.js from `npm install` in the working folder or the zoo's checkout, or None."""
    from zoo.hub import pretrained

    return next((path for path in (ABCJS, pretrained.ROOT / ABCJS) if path.is_file()), None)


def sheet_music_html(tune: str, abcjs=None) -> str:
    """HTML that draws the tune as sheet music with abcjs, in a notebook's output, with no network.

    The library is embedded in the HTML (about 0.5 MB), since a notebook's output
    cannot load a local file. Until the script runs (an untrusted notebook never
    runs it) the ABC text shows. Without abcjs, the ABC text and how to get it.
    """
    abcjs = abcjs or find_abcjs()
    text = f"<pre>{html.escape(tune)}</pre>"
    if abcjs is None:
        return text + "<p><small>Sheet music: run <code>npm install</code> in the zoo's checkout (abcjs, package.json).</small></p>"
    element = f"zoo-tune-{uuid.uuid4().hex}"

    def script_text(value) -> str:  # A JSON string that cannot close the <script> element.
        return json.dumps(value).replace("</", "<\\/")

    # The library is UMD: with no define/module/exports in reach it sets window.ABCJS. Its
    # element may not be in the page yet when the script runs, so it looks again a few times.
    return (
        f'<div id="{element}">{text}</div>\n<script>\n'
        f"(function (define, module, exports) {{\n{pathlib.Path(abcjs).read_text(encoding='utf-8')}\n}}).call(window);\n"
        f"(function draw(tries) {{ var element = document.getElementById({script_text(element)});\n"
        f"  if (element) {{ ABCJS.renderAbc(element, {script_text(tune)}, {{ responsive: \"resize\" }}); }}\n"
        f"  else if (tries < 50) {{ setTimeout(function () {{ draw(tries + 1); }}, 100); }} }})(0);\n</script>"
    )

"""Generated ABC text -> tunes -> .abc, .mid and .wav files, and the valid-song rate.

    tunes = [music.cap_bars(tune)[0] for tune in music.split_tunes(generated_text)]
    summary = music.save_tunes(tunes, "runs/music_lstm/generated")
    summary["valid_song_rate"]     # share of tunes that parse and have notes

A tune is valid when music21 parses it as ABC and the result contains at least
one note. Each tune is saved as `tune_NN.abc`; each valid one also as
`tune_NN.mid` (written by music21) and `tune_NN.wav` (pretty_midi's sine-wave
synthesizer, or FluidSynth when pyfluidsynth and a SoundFont are available),
written with scipy. music21, pretty_midi and scipy are imported on first use.

A tune ends where the model ends it (a blank line or a new `X:`), and at the
latest at its MAX_BARS-th bar line (`cap_bars`): the longest tune in the
training file has 63. Before music21 writes the MIDI, `playable_score` mends
two things in what its ABC reader builds, so that every valid tune plays:

- Repeats. Irish ABC leaves out the `|:` of a section: `A :| B :|` is played
  AABB. music21 takes every such `:|` back to the start of the tune, so a
  four-part tune was played 36 times over its written length and its MIDI
  file grew past pretty_midi's tick limit. The missing `|:` is put back at
  the start of each section (after the previous `:|`, `||` or `|]`). A tune
  whose repeats still do not pair up (a `[2` with no `[1`, say) is played as
  written, once through, and its record says `"repeats": "unbalanced"`.
- Shared meter objects. At a second ending music21's reader puts the tune's
  first TimeSignature object into a later bar as well, and its MIDI writer
  then refuses to move the same object twice; the later bar gets a copy.

In a notebook, `audio(tune)` gives the samples for IPython.display.Audio and
`sheet_music_html(tune)` the tune drawn by abcjs (the `Tune` result uses both).
"""

import contextlib
import copy
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
MAX_BARS = 64  # A tune is cut after this many bar lines; the longest in data/irish.abc has 63.
# A bar line: |, ||, |], [|, with repeat colons on either side (:|, |:, ::).
BAR_LINE = re.compile(r"::|:*\[?\|+\]?:*")
_ENDING_NUMBER = re.compile(r"(?<=\|)\[?[1-9]|\[[1-9]")  # |1, [1, |[2: the number of a first or second ending
_SECTION_END = ("double", "final", "light-light", "light-heavy")  # ||, |]: a section ends without a repeat
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


def header_and_body(tune: str) -> tuple:
    """(header, body) of an ABC tune: the body is what follows the first K: line ("" if none)."""
    lines = tune.split("\n")
    for index, line in enumerate(lines):
        if line.startswith("K:"):
            return "\n".join(lines[: index + 1]), "\n".join(lines[index + 1:])
    return tune, ""


def count_bars(tune: str) -> int:
    """Bar lines in the tune's body (a pickup before the first one counts as a bar)."""
    return len(BAR_LINE.findall(header_and_body(tune)[1]))


def cap_bars(tune: str, max_bars: int = MAX_BARS) -> tuple:
    """(tune, cut): the tune up to and including its `max_bars`-th bar line, and whether it was longer."""
    header, body = header_and_body(tune)
    bar_lines = list(BAR_LINE.finditer(body))
    if len(bar_lines) <= max_bars:
        return tune, False
    return f"{header}\n{body[: bar_lines[max_bars - 1].end()]}", True


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
        if isinstance(score, music21.stream.Opus):  # The reader found an X: inside the text: the first piece with notes.
            score = next(piece for piece in score.scores if len(piece.flatten().notes))
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


def _copy_shared_signatures(score) -> None:
    """Gives every bar its own meter, key and tempo objects (music21 reuses one object in two bars)."""
    import music21

    seen = set()
    for measure in score.recurse().getElementsByClass(music21.stream.Measure):
        for element in list(measure.getElementsByClass(("TimeSignature", "KeySignature", "MetronomeMark"))):
            if id(element) in seen:
                measure.replace(element, copy.deepcopy(element))
            seen.add(id(element))


def _mark_section_starts(score) -> None:
    """Puts back the `|:` that a section ending in `:|` leaves out (after the previous section's end)."""
    import music21

    def is_repeat(barline, direction):
        return isinstance(barline, music21.bar.Repeat) and barline.direction == direction

    for part in score.parts or [score]:
        measures = list(part.getElementsByClass(music21.stream.Measure))
        for before, measure in zip(measures, measures[1:]):
            # music21's reader sometimes hangs a `:|` on the left of the next bar: move it to the bar it ends.
            if is_repeat(measure.leftBarline, "end") and not isinstance(before.rightBarline, music21.bar.Repeat):
                before.rightBarline, measure.leftBarline = music21.bar.Repeat(direction="end"), None
        section_start, started = 0, False
        for index, measure in enumerate(measures):
            if is_repeat(measure.leftBarline, "start"):
                section_start, started = index, True
            right = measure.rightBarline
            if is_repeat(right, "end") and not started and measures[section_start].leftBarline is None:
                measures[section_start].leftBarline = music21.bar.Repeat(direction="start")
            if is_repeat(right, "end") or (right is not None and right.type in _SECTION_END):
                section_start, started = index + 1, False


def without_repeats(tune: str) -> str:
    """The tune with its repeat signs and ending numbers taken out: played once, as written."""
    header, body = header_and_body(tune)
    body = BAR_LINE.sub(lambda match: "|]" if match.group().endswith("]") else "|", body)
    return f"{header}\n{_ENDING_NUMBER.sub('', body)}"


def playable_score(tune: str, score=None):
    """(score, repeats_balanced): the valid tune as music21's MIDI writer can take it (module docstring).

    `score` is the tune's parse_tune(), when the caller has it already (it is changed in place).
    Raises ValueError when the tune is not valid.
    """
    score = score if score is not None else parse_tune(tune)
    if score is None:
        raise ValueError("not a valid tune: it does not parse as ABC, or has no notes")
    _copy_shared_signatures(score)
    _mark_section_starts(score)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score.expandRepeats()  # What the MIDI writer does first; it raises on repeats that do not pair up.
        return score, True
    except Exception:  # noqa: BLE001 - music21's ExpanderException, or others on odd repeat marks
        score = parse_tune(without_repeats(tune))
        if score is None:
            raise
        _copy_shared_signatures(score)
        return score, False


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

    Returns {"abc": path, "valid": bool, "notes": n, "bars": bar lines, "rendered": bool,
    and for a valid tune "repeats" ("balanced", or "unbalanced": played as written) and
    the "mid"/"wav" paths when rendered, or "render_error"}.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    abc_path = out_dir / f"{stem}.abc"
    abc_path.write_text(tune + "\n", encoding="utf-8")
    record = {"abc": str(abc_path), "valid": False, "notes": 0, "bars": count_bars(tune), "rendered": False}
    score = parse_tune(tune)
    if score is None:
        return record
    record.update(valid=True, notes=len(score.flatten().notes))
    midi_path = out_dir / f"{stem}.mid"
    wav_path = out_dir / f"{stem}.wav"
    try:
        score, balanced = playable_score(tune, score)
        record["repeats"] = "balanced" if balanced else "unbalanced"
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
    score, _ = playable_score(tune, score)
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

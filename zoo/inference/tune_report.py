"""Generated tunes beside the training tunes: does the model write tunes, and does it copy them?

    training = tune_report.training_tunes(loaded.info)     # the file the recipe loaded
    report = tune_report.compare([tune.abc for tune in generation.tunes], training)
    print(tune_report.format_report(report))

The measures follow folk-rnn's evaluation of generated ABC against its
training population (Sturm et al. 2016; Sturm & Ben-Tal 2017):

- valid: music21 parses the tune and it has notes (music.is_valid).
- bars in meter: of a valid tune's inner bars, the share whose notes add up to
  the meter (M:). The tune's first and last bar and the bars on either side of
  a repeat or double bar line are left out: that is where a tune puts its
  pickup and the short bar that completes it. The bars are music21's: it
  fills a bar that holds too much up to the meter and starts a new one with
  the rest, so an overfull bar counts as one full bar and one short one.
- balanced repeats: the share of valid tunes whose repeats pair up, once the
  `|:` that Irish ABC leaves out is put back (music.playable_score).
- meters, keys and lengths: the M: and K: fields and the bar lines of each
  tune, beside the same counts over the training tunes; a distribution is
  summed up by its total variation distance from the training one (0: the
  same shares, 1: nothing in common).
- novelty: for each valid tune, the longest stretch of its body (what follows
  K:) found verbatim in the body of any training tune, as a share of the
  body's length; the median and the worst (largest) tune. 1.0 is a tune
  copied whole. `baseline` gives the same measure for held-out real tunes
  against the other tunes in the file: what a tune nobody copied shares.

Parsing takes music21 about half a second a tune, so the training side of
valid, bars in meter and balanced repeats is measured on TRAINING_SAMPLE
tunes spread evenly through the file; meters, keys, lengths and novelty use
every training tune.
"""

import collections
import statistics

from zoo.inference import music

TRAINING_SAMPLE = 100
_INNER = ("regular", None)  # Bar lines that neither start nor end a section.


def training_tunes(info) -> list:
    """The tunes of the ABC file a language model was trained on (info.extras["source"])."""
    import pathlib

    source = (info.extras or {}).get("source")
    if not source or not pathlib.Path(source).is_file():
        raise ValueError(f"the model's dataset names no ABC file to compare with (source={source!r})")
    return [tune for tune in music.split_tunes(pathlib.Path(source).read_text(encoding="utf-8")) if tune.startswith("X:")]


def header_field(tune: str, letter: str) -> str:
    """The value of the first `letter:` header line ("" if none), e.g. "6/8" for M."""
    header = music.header_and_body(tune)[0]
    for line in header.split("\n"):
        if line.startswith(f"{letter}:"):
            return line[2:].strip()
    return ""


def bars_in_meter(score) -> tuple:
    """(inner bars whose notes add up to the meter, inner bars checked) of a parsed tune."""
    import music21

    matching = checked = 0
    for part in score.parts or [score]:
        # music21 may end a tune with an empty bar after its last bar line: it is no bar of the tune.
        measures = [measure for measure in part.getElementsByClass(music21.stream.Measure) if measure.notesAndRests]
        for index in range(1, len(measures) - 1):
            measure = measures[index]
            around = (measures[index - 1].rightBarline, measure.leftBarline, measure.rightBarline)
            if any(not (barline is None or barline.type in _INNER) for barline in around):
                continue
            meter = measure.getContextByClass(music21.meter.TimeSignature)
            if meter is None:
                continue
            checked += 1
            filled = sum(element.quarterLength for element in measure.flatten().notesAndRests)
            matching += abs(filled - meter.barDuration.quarterLength) < 1e-6
    return matching, checked


def longest_verbatim(text: str, corpus: str) -> int:
    """The length of the longest substring of `text` that occurs in `corpus`.

    Two pointers: if text[start:end] occurs, so does every piece of it, so the
    end never has to move back. About 2 * len(text) substring searches.
    """
    longest, end = 0, 0
    for start in range(len(text)):
        end = max(end, start)
        while end < len(text) and text[start:end + 1] in corpus:
            end += 1
        longest = max(longest, end - start)
    return longest


def _body(tune: str) -> str:
    return music.header_and_body(tune)[1].strip()


def describe(tune: str, parse: bool = True) -> dict:
    """The per-tune measures of the module docstring, except novelty (only the text's with parse=False)."""
    record = {"valid": None, "meter": header_field(tune, "M"), "key": header_field(tune, "K"),
              "bars": music.count_bars(tune)}
    if not parse:
        return record
    record["valid"] = False
    score = music.parse_tune(tune)
    if score is None:
        return record
    matching, checked = bars_in_meter(score)
    _, balanced = music.playable_score(tune, score)
    record.update(valid=True, bars_in_meter=matching, bars_checked=checked, repeats_balanced=balanced)
    return record


def novelty(tunes, reference_tunes) -> list:
    """For each tune, the longest stretch of its body found verbatim in a reference tune's body, over its length."""
    corpus = "\x00".join(_body(tune) for tune in reference_tunes)
    shares = []
    for tune in tunes:
        body = _body(tune)
        shares.append(longest_verbatim(body, corpus) / len(body) if body else 0.0)
    return shares


def _shares(values) -> dict:
    counts = collections.Counter(values)
    total = sum(counts.values())
    return {value: count / total for value, count in counts.most_common()} if total else {}


def total_variation(first: dict, second: dict) -> float:
    """Half the summed difference of two {value: share} distributions (0: same, 1: disjoint)."""
    return 0.5 * sum(abs(first.get(key, 0.0) - second.get(key, 0.0)) for key in set(first) | set(second))


def _population(records) -> dict:
    parsed = [record for record in records if record["valid"] is not None]
    valid = [record for record in parsed if record["valid"]]
    checked = sum(record["bars_checked"] for record in valid)
    bars = [record["bars"] for record in records]
    return {
        "tunes": len(records),
        "parsed": len(parsed),
        "valid": len(valid) / len(parsed) if parsed else 0.0,
        "bars_in_meter": sum(record["bars_in_meter"] for record in valid) / checked if checked else 0.0,
        "balanced_repeats": sum(record["repeats_balanced"] for record in valid) / len(valid) if valid else 0.0,
        "meters": _shares(record["meter"] for record in records),
        "keys": _shares(record["key"] for record in records),
        "bars": {"median": statistics.median(bars), "quartiles": statistics.quantiles(bars, n=4)} if len(bars) > 1 else {},
    }


def describe_training(training) -> dict:
    """The training side of the report (measured once, then passed to `compare` as `training_population`)."""
    training = list(training)
    step = max(1, len(training) // TRAINING_SAMPLE)
    return _population([describe(tune, parse=index % step == 0 and index // step < TRAINING_SAMPLE)
                        for index, tune in enumerate(training)])


def compare(tunes, training, baseline_tunes=(), training_population=None) -> dict:
    """The tune report of `tunes` (ABC texts) against `training` (the training file's tunes).

    `baseline_tunes`: held-out real tunes, whose novelty is measured against
    the training tunes other than themselves. `training_population`:
    describe_training(training), if it was measured already.
    """
    tunes, training = list(tunes), list(training)
    records = [describe(tune) for tune in tunes]
    report = {"generated": _population(records), "training": training_population or describe_training(training)}
    valid_tunes = [tune for tune, record in zip(tunes, records) if record["valid"]]
    shares = novelty(valid_tunes, training)
    for side in ("meters", "keys"):
        report["generated"][f"{side}_distance"] = total_variation(report["generated"][side], report["training"][side])
    report["generated"]["novelty"] = _summary(shares)
    if baseline_tunes:
        held_out = {_body(tune) for tune in baseline_tunes}
        others = [tune for tune in training if _body(tune) not in held_out]
        report["baseline_novelty"] = _summary(novelty(baseline_tunes, others))
    return report


def _summary(shares) -> dict:
    return {"median": statistics.median(shares), "worst": max(shares), "tunes": len(shares)} if shares else {}


TABLE_COLUMNS = ("valid | bars in meter | balanced repeats | meter distance | key distance "
                 "| bars: median (middle half) | novelty: median, worst")


def table_row(label: str, population: dict, novelty: str = "", valid: str = "") -> str:
    """One markdown row of TABLE_COLUMNS for a population (`compare`'s "generated" or "training"),
    after the `label` cell(s); `valid` replaces the valid share."""
    bars = population["bars"]
    middle = "-".join(f"{value:g}" for value in bars["quartiles"][::2]) if bars else ""
    distances = (f"{population['meters_distance']:.2f} | {population['keys_distance']:.2f}"
                 if "meters_distance" in population else "0 | 0")
    return (f"| {label} | {valid or format(population['valid'], '.0%')} | {population['bars_in_meter']:.0%} | "
            f"{population['balanced_repeats']:.0%} | {distances} | {bars.get('median', 0):g} ({middle}) | {novelty} |")


def novelty_cell(summary: dict) -> str:
    """"median, worst" of a novelty summary (`_summary`), as shares."""
    return f"{summary['median']:.0%}, {summary['worst']:.0%}" if summary else ""


def format_report(report, top: int = 4) -> str:
    """The report as a few lines of text."""
    generated, training = report["generated"], report["training"]

    def shares(side):
        return ", ".join(f"{value or '?'} {generated[side].get(value, 0):.0%} ({training[side].get(value, 0):.0%})"
                         for value in list(training[side])[:top])

    lines = [
        f"{generated['tunes']} tunes; in brackets the {training['tunes']} training tunes "
        f"({training['parsed']} of them for valid, bars in meter and repeats)",
        f"valid {generated['valid']:.0%} ({training['valid']:.0%}); bars in meter {generated['bars_in_meter']:.0%} "
        f"({training['bars_in_meter']:.0%}); balanced repeats {generated['balanced_repeats']:.0%} ({training['balanced_repeats']:.0%})",
        f"meters: {shares('meters')}; distance {generated['meters_distance']:.2f}",
        f"keys: {shares('keys')}; distance {generated['keys_distance']:.2f}",
    ]
    if generated["bars"]:
        quartiles = "-".join(f"{value:g}" for value in generated["bars"]["quartiles"][::2])
        train_quartiles = "-".join(f"{value:g}" for value in training["bars"]["quartiles"][::2])
        lines.append(f"bars: median {generated['bars']['median']:g}, middle half {quartiles} "
                     f"({training['bars']['median']:g}, {train_quartiles})")
    if generated["novelty"]:
        novel = generated["novelty"]
        line = (f"novelty: longest stretch found verbatim in a training tune, median {novel['median']:.0%} "
                f"of a tune's body, worst {novel['worst']:.0%}")
        if report.get("baseline_novelty"):
            line += f" (held-out real tunes: {report['baseline_novelty']['median']:.0%}, {report['baseline_novelty']['worst']:.0%})"
        lines.append(line)
    return "\n".join(lines)


# A music model's card reports its own tunes (zoo ship, zoo ship --card-only): at each
# temperature, CARD_TUNES tunes drawn from the shipped weights as CARD_COMMAND draws them.
CARD_TUNES = 60
CARD_LENGTH = 600
CARD_TEMPERATURES = (0.8, 1.0)
CARD_COMMAND = ("python -m zoo generate {name} --pretrained --num-tunes {tunes} --length {length} "
                "--temperature {temperature:g} --seed 0 --report")


def card_sections(name: str, loaded, tunes=None) -> list:
    """The card section of a music model's own tunes: [{"title": "Tunes", "rows", "created",
    "markdown"}], or [] for a model that writes no ABC tunes (a text model, or one that does not
    generate). `loaded`: what zoo.load returns. Each row holds the temperature, the command that
    draws the same tunes, the valid count and the report against the training file.
    """
    import datetime

    import zoo

    if loaded.recipe.hook("generate") is None:
        return []
    tunes = tunes or CARD_TUNES
    rows, training, population = [], None, None
    for temperature in CARD_TEMPERATURES:
        generation = zoo.generate(loaded, length=CARD_LENGTH, temperature=temperature, seed=0, num_tunes=tunes)
        if not generation.tunes:
            return []
        if training is None:
            training = training_tunes(loaded.info)
            population = describe_training(training)
        rows.append({
            "temperature": temperature,
            "command": CARD_COMMAND.format(name=name, tunes=tunes, length=CARD_LENGTH, temperature=temperature),
            "valid": sum(tune.valid for tune in generation.tunes),
            "tunes": len(generation.tunes),
            "report": compare([tune.abc for tune in generation.tunes], training,
                              loaded.info.extras.get("validation_songs", ()), population),
        })
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [{"title": "Tunes", "created": created, "rows": rows, "markdown": _card_markdown(rows, created)}]


def _card_markdown(rows, created: str) -> str:
    training, held_out = rows[0]["report"]["training"], rows[0]["report"].get("baseline_novelty")
    lines = [
        f"The shipped weights' own tunes ({created}), beside the {training['tunes']} tunes of the training file the "
        "recipe loads (zoo/inference/tune_report.py). Each row's tunes are drawn by its command (seeds 0 to "
        f"{rows[0]['tunes'] - 1}, the first tune of each sample, cut at bar line {music.MAX_BARS}). Valid: parses "
        "and has notes. Meter and key distance: total variation from the training shares. Novelty: the longest "
        "stretch of a tune's body found verbatim in a training tune, as a share of the body.",
        "",
        f"| temperature | {TABLE_COLUMNS} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        generated = row["report"]["generated"]
        valid = f"{row['valid']}/{row['tunes']} ({row['valid'] / row['tunes']:.0%})"
        lines.append(table_row(f"{row['temperature']:g}", generated, novelty_cell(generated["novelty"]), valid))
    held_out_cell = f"held-out real tunes: {novelty_cell(held_out)}" if held_out else ""
    lines.append(table_row("training tunes", training, held_out_cell, f"{training['valid']:.0%} of {training['parsed']} parsed"))
    lines += ["", "Commands:", ""] + [f"- `{row['command']}`" for row in rows]
    return "\n".join(lines)

"""zoo/inference/tune_report.py: the measures that set generated tunes beside the training tunes."""

import pytest

from zoo.inference import tune_report

# Bar 2 holds 5 quarters in 4/4: music21 fills a bar with 4 of them and puts the fifth in a short bar of
# its own. The first and last bars are left out (pickup, and its complement): 3 of 5 inner bars fill the meter.
TUNE = "X:1\nT:Test\nM:4/4\nL:1/4\nK:G Major\nD|GABc|GABcd|cBAG|FGAB|G3|]"
OFF_METER = ("X:2\nM:6/8\nL:1/8\nK:D Major\nA|dfa afd|dfa afd afd|dfa|gfe dcB:|!\n", 1)


def test_longest_verbatim_finds_the_longest_shared_stretch():
    corpus = "abcdef\x00xyzabc"
    assert tune_report.longest_verbatim("zzabcdeq", corpus) == 5  # "abcde"
    assert tune_report.longest_verbatim("qqq", corpus) == 0
    assert tune_report.longest_verbatim("xyzabcdef", corpus) == 6  # Never across the \x00 between tunes.
    assert tune_report.longest_verbatim("", corpus) == 0


def test_novelty_is_one_for_a_copied_tune_and_small_for_a_new_one():
    training = [TUNE, "X:3\nM:2/4\nL:1/8\nK:A Dorian\nABcd|efga|]"]
    copied = TUNE.replace("T:Test", "T:Another title")  # Same body, other header: still a copy.
    new = "X:9\nM:4/4\nL:1/4\nK:G Major\nzzzz|^f^f^f^f|]"
    assert tune_report.novelty([copied, new], training) == [1.0, pytest.approx(1 / len("zzzz|^f^f^f^f|]"), abs=0.2)]


def test_bars_in_meter_counts_only_inner_bars_that_fill_the_meter():
    from zoo.inference import music

    assert tune_report.bars_in_meter(music.parse_tune(TUNE)) == (3, 5)
    record = tune_report.describe(TUNE)
    assert (record["meter"], record["key"], record["bars"]) == ("4/4", "G Major", 6)
    assert record["valid"] and record["repeats_balanced"] and record["bars_in_meter"] == 3


def test_total_variation_and_the_report_text():
    assert tune_report.total_variation({"a": 1.0}, {"a": 1.0}) == 0
    assert tune_report.total_variation({"a": 1.0}, {"b": 1.0}) == 1
    assert tune_report.total_variation({"a": 0.5, "b": 0.5}, {"a": 1.0}) == 0.5
    garbage = "X:5\nL:1/8\nK:G\nq~~"
    report = tune_report.compare([TUNE, garbage], [TUNE, OFF_METER[0]] * 2)
    generated, training = report["generated"], report["training"]
    assert generated["valid"] == 0.5 and generated["bars_in_meter"] == 0.6
    assert generated["meters"] == {"4/4": 0.5, "": 0.5} and training["meters"] == {"4/4": 0.5, "6/8": 0.5}
    assert generated["meters_distance"] == 0.5 and generated["novelty"]["worst"] == 1.0
    text = tune_report.format_report(report)
    assert "valid 50% (100%)" in text and "novelty" in text

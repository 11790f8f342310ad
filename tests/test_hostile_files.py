"""Files the zoo reads are data, never code, and a damaged one is one line naming it.

Each test forges or damages a copy of a file the zoo reads (the pretrained
manifest, a card, a run's config.json, a ship's seed record, a search's state)
or feeds an input that overflows float32, and checks the command ends in one
line on stderr with exit code 2, runs nothing it was handed, and changes
nothing. The checkout's own files are never touched.
"""

import json
import pathlib
import re
import shutil

import pytest

from zoo.commands import cli
from zoo import files
from zoo.hub import pretrained

ROOT = pathlib.Path(__file__).resolve().parent.parent

PAYLOAD = """\
import pathlib
pathlib.Path({marker!r}).write_text("the manifest ran this file")
"""


@pytest.fixture
def forged(tmp_path, monkeypatch):
    """Writes a manifest (a copy of the shipped one, edited by `forge`) and points the zoo at it."""
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "payload_ran"
    (tmp_path / "sub").mkdir()
    for where in (tmp_path / "x.py", tmp_path / "sub" / "x.py", tmp_path / "digits_mlp.py"):
        where.write_text(PAYLOAD.format(marker=str(marker)))
    manifest = tmp_path / "manifest.json"
    monkeypatch.setattr(pretrained, "MANIFEST", manifest)

    def forge(edit):
        shipped = json.loads((ROOT / "pretrained" / "manifest.json").read_text())
        edit(shipped["models"])
        manifest.write_text(json.dumps(shipped))
        return manifest

    forge.marker = marker
    return forge


def _recipe_field(value):
    def edit(models):
        models["digits_mlp"]["recipe"] = value
    return edit


def _model_key(key):
    def edit(models):
        models[key] = models["digits_mlp"]
    return edit


FORGERIES = {
    "recipe_field_absolute_path": lambda tmp: _recipe_field(str(tmp / "x.py")),
    "recipe_field_file_in_working_folder": lambda tmp: _recipe_field("x.py"),
    "recipe_field_dotted_module": lambda tmp: _recipe_field("os.path"),
    "model_key_path": lambda tmp: _model_key("sub/x.py"),
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
@pytest.mark.parametrize("command", ["evaluate", "predict", "gallery"])
def test_a_forged_manifest_runs_no_code_and_is_one_line(forged, tmp_path, capsys, forgery, command):
    manifest = forged(FORGERIES[forgery](tmp_path))
    (tmp_path / "row.csv").write_text(",".join(["0"] * 64))
    argv = {
        "evaluate": ["evaluate", "digits_mlp", "--pretrained"],
        "predict": ["predict", "digits_mlp", "--pretrained", "--input", str(tmp_path / "row.csv")],
        "gallery": ["gallery", "--out", str(tmp_path / "site"), "--abcjs", str(tmp_path / "x.py")],
    }[command]
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1, error
    assert str(manifest) in error and "is not one of the zoo's recipes" in error
    assert not forged.marker.exists(), "the forged manifest made the zoo run a file"
    assert not (tmp_path / "site").exists()


def test_the_gallery_refuses_a_card_that_fails_its_hash(tmp_path, monkeypatch):
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "pretrained" / "perceptron_gates", root / "pretrained" / "perceptron_gates")
    card = root / "pretrained" / "perceptron_gates" / "card.json"
    forged = json.loads(card.read_text())
    forged["headline"] = "accuracy 1.000 ± 0.000 (forged)"
    card.write_text(json.dumps(forged))
    manifest = root / "pretrained" / "manifest.json"
    manifest.write_text(json.dumps({"models": {"perceptron_gates": pretrained.read_manifest()["models"]["perceptron_gates"]}}))
    with pytest.raises(pretrained.errors.UserError, match=r"card\.json for 'perceptron_gates' fails its check"):
        pretrained.read_card("perceptron_gates", manifest, root)
    # And the untouched card reads as it was shipped.
    assert pretrained.read_card("perceptron_gates")["name"] == "perceptron_gates"


DAMAGES = {
    "truncated": lambda text: text.encode()[: len(text) // 2],
    "deep": lambda text: b"[" * 100_000 + b"]" * 100_000,
    "not_utf8": lambda text: text.encode().replace(b'"', b'"\xff', 1),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_manifest_is_one_line_naming_it(tmp_path, monkeypatch, capsys, damage):
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(DAMAGES[damage]((ROOT / "pretrained" / "manifest.json").read_text()))
    monkeypatch.setattr(pretrained, "MANIFEST", manifest)
    for argv in (["evaluate", "digits_mlp", "--pretrained"], ["list"]):
        assert cli.main(argv) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and str(manifest) in error, error


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_run_config_is_one_line_naming_it(tmp_path, capsys, damage):
    run = tmp_path / "run"
    run.mkdir()
    config = {"recipe": "perceptron_gates", "config": {"seed": 0}}
    (run / "config.json").write_bytes(DAMAGES[damage](json.dumps(config)))
    for argv in (["evaluate", "perceptron_gates", "--workdir", str(run)], ["train", "perceptron_gates", "--workdir", str(run)]):
        assert cli.main(argv) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and str(run / "config.json") in error, error


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_read_json_names_the_file_for_every_damage(tmp_path, damage):
    path = tmp_path / "record.json"
    path.write_bytes(DAMAGES[damage]('{"files": ["a.png"]}'))
    with pytest.raises(files.errors.UserError, match=re.escape(str(path))):
        files.read_json(path, "pass another --out")


def test_a_damaged_ship_seed_record_is_one_line_naming_it(tmp_path):
    from zoo.hub import ship as cards

    seed = tmp_path / "ship" / "seed_0"
    seed.mkdir(parents=True)
    (seed / "ship_seed.json").write_bytes(b"[" * 100_000)
    with pytest.raises(files.errors.UserError, match=re.escape(str(seed / "ship_seed.json"))):
        cards.ship("perceptron_gates", seeds=[0], workdir=tmp_path / "ship", verbose=False,
                   destination=tmp_path / "out" / "perceptron_gates", manifest_path=tmp_path / "out" / "manifest.json")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["binary_mlp", "regression_mlp"])
def test_values_beyond_float32_are_refused_in_one_line(tmp_path, capsys, name):
    size = {"binary_mlp": 30, "regression_mlp": 10}[name]
    values = tmp_path / "row.csv"
    values.write_text(",".join(["1e300"] * size) + "\n")
    assert cli.main(["predict", name, "--pretrained", "--input", str(values)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "too large for the model" in captured.err, captured.err


ABSOLUTE = re.compile(rb"(?<![\w.:/])/(?:home|root|tmp|work|Users|usr|opt|var|mnt|srv)/")


def test_no_shipped_file_carries_a_path_of_the_machine_that_made_it():
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "pretrained").rglob("*"))
        if path.is_file() and not path.name.endswith(".h5") and ABSOLUTE.search(path.read_bytes())
    ]
    assert offenders == []


@pytest.mark.parametrize("damage", sorted(DAMAGES))
@pytest.mark.parametrize("record, command", [("generation.json", "generate"), ("gallery.json", "gallery")])
def test_a_damaged_output_record_is_one_line_naming_it(tmp_path, damage, record, command):
    from zoo import outputs

    (tmp_path / record).write_bytes(DAMAGES[damage]('{"files": ["generated.txt"]}'))
    with pytest.raises(files.errors.UserError, match=re.escape(str(tmp_path / record))):
        outputs.check(tmp_path, ["generated.txt"], record, command)

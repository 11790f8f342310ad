"""`python -m zoo gallery` in a real headless Chromium: no console errors, every image decoded,
every tune's sheet music rendered as SVG by abcjs, every audio player with a finite duration.

Needs Debian's chromium and abcjs from npm (`make test` installs both when it can); without
them the browser test is skipped with the command that fixes it.
"""

import json
import shutil

import pytest

from zoo.commands import cli
from zoo.page import gallery
from zoo.hub import pretrained

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ABCJS = pretrained.ROOT / gallery.ABCJS
RECIPES = "music_lstm,music_transformer,playground_mlp,digits_mlp"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not ABCJS.exists():
        pytest.skip(f"abcjs is missing ({ABCJS}); install it with: npm install")
    out = tmp_path_factory.mktemp("gallery") / "site"
    assert cli.main(["gallery", "--out", str(out), "--only", RECIPES, "--tunes", "1", "--length", "400"]) == 0
    return out


def test_the_gallery_lists_every_chosen_recipe_with_its_card_and_playable_tunes(site):
    page = (site / "index.html").read_text()
    for name in RECIPES.split(","):
        card = json.loads((pretrained.PRETRAINED_DIR / name / "card.json").read_text())
        assert f'<section id="{name}">' in page and card["headline"] in page and card["command"] in page
        section = page.split(f'<section id="{name}">')[1].split("</section>")[0]
        # Curves come from a local run when there is one; otherwise the page says how to get them.
        assert f"assets/{name}_curves.png" in section or f"make ship MODEL={name}" in section
    record = json.loads((site / gallery.RECORD).read_text())
    on_disk = sorted(str(path.relative_to(site)) for path in site.rglob("*") if path.is_file() and path.name not in (gallery.RECORD, ".lock"))
    assert sorted(record["files"]) == on_disk
    wavs = [name for name in record["files"] if name.endswith(".wav")]
    assert {name.split("_tune_")[0] for name in wavs} == {"assets/music_lstm", "assets/music_transformer"}
    assert "assets/playground_mlp_boundary.png" in record["files"] and "assets/music_transformer_attention.png" in record["files"]


def test_a_stranger_in_the_out_folder_is_refused_and_kept(tmp_path, capsys):
    if not ABCJS.exists():
        pytest.skip(f"abcjs is missing ({ABCJS}); install it with: npm install")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "index.html").write_text("my own page")
    assert cli.main(["gallery", "--out", str(mine), "--only", "digits_mlp"]) == 2
    assert "index.html, which gallery did not write" in capsys.readouterr().err
    assert (mine / "index.html").read_text() == "my own page"
    assert sorted(path.name for path in mine.iterdir()) == [".lock", "index.html"]


CHECK = """async () => {
  const images = [...document.images].map(image => ({src: image.getAttribute("src"), ok: image.complete && image.naturalWidth > 0}));
  const sheets = [...document.querySelectorAll(".abc")].map(block => block.querySelectorAll("svg").length);
  const audio = await Promise.all([...document.querySelectorAll("audio")].map(element => new Promise(resolve => {
    const done = () => resolve({src: element.getAttribute("src"), duration: element.duration});
    if (element.readyState >= 1) { done(); return; }
    element.addEventListener("loadedmetadata", done);
    element.addEventListener("error", () => resolve({src: element.getAttribute("src"), duration: null, error: String(element.error && element.error.code)}));
  })));
  return {images, sheets, audio};
}"""


def test_the_page_renders_in_headless_chromium(site):
    if CHROMIUM is None:
        pytest.skip("chromium is missing; install it with: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="install the requirements: pip install -r requirements.txt")
    errors = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=gallery.CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto((site / "index.html").as_uri(), wait_until="load")
            found = page.evaluate(CHECK)
        finally:
            browser.close()
    assert errors == []
    assert len(found["images"]) >= 2 and all(image["ok"] for image in found["images"]), found["images"]
    assert len(found["sheets"]) == 2 and all(count >= 1 for count in found["sheets"]), found["sheets"]
    assert len(found["audio"]) == 2, found["audio"]
    for audio in found["audio"]:
        assert audio["duration"] is not None and 0 < audio["duration"] < float("inf"), audio


def test_a_rerun_replaces_its_own_files_and_a_record_cannot_reach_outside(tmp_path):
    if not ABCJS.exists():
        pytest.skip(f"abcjs is missing ({ABCJS}); install it with: npm install")
    site, victim = tmp_path / "site", tmp_path / "victim.txt"
    argv = ["gallery", "--out", str(site), "--only", "digits_mlp"]
    assert cli.main(argv) == 0
    (site / "index.html").write_text("stale")
    assert cli.main(argv) == 0  # Its own file: replaced.
    assert "digits_mlp" in (site / "index.html").read_text()
    victim.write_text("keep me")
    record = json.loads((site / gallery.RECORD).read_text())
    (site / gallery.RECORD).write_text(json.dumps({**record, "files": [*record["files"], "../victim.txt"]}))
    assert cli.main(argv) == 2
    assert victim.read_text() == "keep me" and (site / "index.html").exists()

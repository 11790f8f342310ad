"""`python -m zoo gallery`: the zoo at a glance, a static site that opens from disk.

    python -m zoo gallery [--out site] [--tunes 3] [--length 600] [--seed 0] [--only music_lstm,...]
    make gallery                     # then open site/index.html
    python -m zoo gallery --tunes 2 --screenshot docs/gallery.png    # the README's picture (chromium)

For every shipped checkpoint (pretrained/manifest.json): its card's headline
(mean ± std over the seeds), the command that made it and its parameters; the
training curves when a local run has them (`make ship` leaves them in
runs/ship/NAME/seed_S/curves.png, the shipped checkpoints do not carry them);
the attention map of each transformer and the decision boundary of
playground_mlp, drawn from the shipped weights; and for each music recipe a
few tunes sampled from the shipped weights, each as sheet music (abcjs) and an
`<audio controls>` player with its WAV. A sample whose first tune does not
parse into notes is skipped and the next seed is drawn, up to 4 draws per tune
kept; the page says how many draws it took.

abcjs comes from the npm registry (`npm install` in the checkout, pinned in
package.json) and is copied into the site, so the page needs no network. The
site's files are listed in OUT/gallery.json; a rerun replaces those and
refuses to touch any other file in OUT.
"""

import functools
import html
import importlib.util
import pathlib
import shutil
import tempfile
import time

from zoo import errors
from zoo import outputs
from zoo.engine import rundir

RECORD = "gallery.json"
ABCJS = pathlib.Path("node_modules") / "abcjs" / "dist" / "abcjs-basic-min.js"
ATTENTION_TEXT = {"music_transformer": "X:1\nK:D\n|:dAFA dAFA|", "sentiment_transformer": "K:D\n|:dAFA dAFA|"}
DRAWS_PER_TUNE = 4


def find_abcjs(path=None) -> pathlib.Path:
    from zoo.hub import pretrained

    candidates = [path] if path else [ABCJS, pretrained.ROOT / ABCJS]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise errors.MissingFileError(
        f"{candidates[0]} does not exist: the gallery renders sheet music with abcjs; run `npm install` "
        "in the zoo's checkout (package.json pins it), or pass --abcjs PATH."
    )


def make(out, only=None, abcjs=None, tunes: int = 3, length: int = 600, temperature: float = 0.8, seed: int = 0,
         screenshot_png=None) -> dict:
    """Builds the site in `out` (every shipped checkpoint, or the comma-separated `only`).

    Returns {"names", "tunes" (kept), "seconds", "screenshot_of" (the section in `screenshot_png`, or None)}.
    """
    from zoo.hub import pretrained
    from zoo.inference import generate

    out = pathlib.Path(out)
    if not 1 <= tunes <= 20:
        raise errors.UserError(f"--tunes {tunes}: use 1 to 20.")
    generate.check_request(length, temperature)
    shipped = pretrained.read_manifest()["models"]
    names = sorted(shipped) if not only else [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in shipped]
    if unknown or not names:
        raise errors.UserError(f"--only {only!r}: {', '.join(unknown) or 'no name'} not shipped; choose from {', '.join(sorted(shipped))}.")
    abcjs = find_abcjs(abcjs)
    if screenshot_png:
        check_screenshot(screenshot_png)  # Before minutes of drawing, not after.
    outputs.check(out, [], RECORD, "gallery")  # A forged record: said before the folder is touched.
    started = time.perf_counter()
    with outputs.Outputs(out, RECORD, "gallery") as outs:
        outputs.check(out, ["index.html"], RECORD, "gallery")  # A stranger in the way: before minutes of drawing.
        page = build(outs, names, abcjs, tunes, length, temperature, seed)
    result = {"names": names, "tunes": page["tunes"], "seconds": time.perf_counter() - started, "screenshot_of": None}
    if screenshot_png:
        result["screenshot_of"] = next((name for name in names if name.startswith("music_")), names[0])
        screenshot(out / "index.html", screenshot_png, result["screenshot_of"])
    return result


# Chromium flags for a machine with a closed network, as root, with no screen.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def check_screenshot(png: pathlib.Path) -> str:
    """Chromium's path, once chromium and playwright are there and `png` is free; else one line."""
    if png.suffix.lower() != ".png":
        raise errors.UserError(f"--screenshot {png} is not a .png path; pass e.g. --screenshot docs/gallery.png.")
    if png.exists():
        raise errors.UserError(f"--screenshot {png} exists; the gallery never replaces a file; pass a new path.")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise errors.MissingFileError("--screenshot needs chromium; install it with: apt-get install -y chromium")
    if importlib.util.find_spec("playwright") is None:
        raise errors.MissingFileError("--screenshot needs playwright; install the requirements: pip install -r requirements.txt")
    return chromium


def screenshot(page_path: pathlib.Path, png: pathlib.Path, section: str, width: int = 1100, height: int = 1020) -> None:
    """A PNG of `section` (and what follows it) as headless Chromium draws the page."""
    chromium = check_screenshot(png)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            top = page.evaluate("id => document.getElementById(id).getBoundingClientRect().top + window.scrollY", section)
            png.parent.mkdir(parents=True, exist_ok=True)
            clip = {"x": 0, "y": max(0, top - 10), "width": width, "height": height}  # In page coordinates.
            page.screenshot(path=str(png), full_page=True, clip=clip)
        finally:
            browser.close()


def build(outs: outputs.Outputs, names, abcjs: pathlib.Path, tunes: int, length: int, temperature: float, seed: int) -> dict:
    """Draws every figure and tune into the out folder's scratch folder, then claims the names and moves them in.

    The record lists the files before they move in (outputs.Outputs.claim), so a build killed
    halfway leaves only files a rerun knows as its own (some listed ones may be missing).
    """
    from zoo.hub import pretrained
    from zoo.engine import registry
    from zoo.inference import loading

    scratch = outs.scratch
    (scratch / "assets").mkdir()
    shutil.copy(abcjs, scratch / "assets" / "abcjs-basic-min.js")
    sections, tune_count = [], 0
    for name in names:
        card = pretrained.read_card(name)  # Its sha256 checked against the manifest.
        recipe = registry.get_recipe(name)
        # The shipped model, loaded (and its hash checked) once, and only if a figure or a tune needs it.
        shipped = functools.lru_cache(maxsize=1)(lambda recipe=recipe: loading.load(recipe, pretrained=True))
        figures = _figures(recipe, card, shipped, scratch / "assets")
        music = _tunes(recipe, shipped, scratch / "assets", tunes, length, temperature, seed) if recipe.hook("generate") and _is_abc(recipe) else []
        tune_count += sum(1 for tune in music if tune.get("wav"))
        sections.append(_section(card, figures, music))
    (scratch / "index.html").write_text(_page(sections), encoding="utf-8")
    written = sorted(str(path.relative_to(scratch)) for path in scratch.rglob("*") if path.is_file())
    outs.claim(written)
    for name in written:
        outs.place(name)
    outs.finish({"recipes": list(names)})
    return {"files": written, "tunes": tune_count}


def _is_abc(recipe) -> bool:
    """Whether the recipe's shipped data is ABC tunes (the music recipes' default dataset)."""
    return recipe.Config().dataset == "irish"


def _figures(recipe, card: dict, shipped, assets: pathlib.Path) -> list:
    """(title, file name) of the figures drawn for `recipe`: local curves, attention, decision boundary.

    `shipped()` gives the loaded shipped checkpoint.
    """
    import numpy as np

    from zoo.inference import attention as attention_map

    figures = []
    curves = _local_curves(recipe.name, card)
    if curves is not None:
        shutil.copy(curves, assets / f"{recipe.name}_curves.png")
        figures.append((f"training curves ({curves.parent.name}, a local run)", f"assets/{recipe.name}_curves.png"))
    hook = recipe.hook("attention_maps")
    report = recipe.hook("report") if recipe.name == "playground_mlp" else None
    if hook is None and report is None:
        return figures
    loaded = shipped()
    if hook is not None and recipe.name in ATTENTION_TEXT:
        tokens, weights = hook(loaded.model, loaded.info, loaded.config, ATTENTION_TEXT[recipe.name], 1)
        path = assets / f"{recipe.name}_attention.png"
        title = f"{recipe.name}: block 1, {len(tokens)} tokens, {np.shape(weights)[0]} heads"
        attention_map.plot_attention(tokens, weights, path, title)
        figures.append(("attention of block 1, per head (shipped weights)", f"assets/{path.name}"))
    if report is not None:
        with tempfile.TemporaryDirectory() as scratch:
            drawn = report(loaded.model, loaded.splits, loaded.config, scratch)
            shutil.move(drawn["decision_boundary"], assets / f"{recipe.name}_boundary.png")
        figures.append(("decision boundary (shipped weights, test points)", f"assets/{recipe.name}_boundary.png"))
    return figures


def _local_curves(name: str, card: dict):
    """curves.png of the shipped seed's run, if `make ship` left it here; else of runs/NAME; else None."""
    for path in (rundir.default_workdir("ship", name, f"seed_{card.get('shipped_seed')}", "curves.png"), rundir.default_workdir(name, "curves.png")):
        if path.is_file():
            return path
    return None


def _tunes(recipe, shipped, assets: pathlib.Path, count: int, length: int, temperature: float, seed: int) -> list:
    """Up to `count` tunes that parse and play, drawing at most DRAWS_PER_TUNE samples per tune kept."""
    from zoo.inference import generate, music

    loaded = shipped()
    kept, draws = [], 0
    while len(kept) < count and draws < DRAWS_PER_TUNE * count:
        drawn = generate.generate(loaded, length=length, temperature=temperature, seed=seed + draws, num_tunes=1).tunes[0]
        draws += 1
        if not drawn.valid:
            continue
        tune = drawn.abc
        stem = f"{recipe.name}_tune_{len(kept) + 1}"
        record = music.save_tune(tune, assets, stem)
        if not record.get("rendered"):
            continue
        pathlib.Path(record["mid"]).unlink()  # The page plays the WAV; the MIDI stays out of the site.
        kept.append({"abc": tune, "wav": f"assets/{stem}.wav", "abc_file": f"assets/{stem}.abc", "seed": seed + draws - 1})
    return [{"draws": draws, **tune} for tune in kept] or [{"draws": draws}]


def _section(card: dict, figures: list, tunes: list) -> str:
    escape = html.escape
    mean_std = ", ".join(
        f"{metric} {values['mean']:.3f} ± {values['std']:.3f}"
        for metric, values in card.get("test_metrics", {}).items()
        if isinstance(values, dict) and "mean" in values
    )
    parts = [
        f'<section id="{escape(card["name"])}">',
        f"<h2>{escape(card['name'])}</h2>",
        f"<p>{escape(card.get('summary', ''))}</p>",
        f"<p class=headline>{escape(card.get('headline', ''))} <span>on the {escape(card.get('split', 'test'))} split over seeds "
        f"{escape(', '.join(map(str, card.get('seeds', []))))}; {card.get('parameters', 0):,} parameters</span></p>",
        f"<p class=metrics>{escape(mean_std)}</p>",
        f"<pre><code>{escape(card.get('command', ''))}</code></pre>",
    ]
    if not any(path.endswith("_curves.png") for _, path in figures):
        parts.append(
            f"<p class=note>Training curves: the shipped checkpoint does not carry them; <code>make ship "
            f"MODEL={escape(card['name'])}</code> (or <code>make train</code>) draws them here, and the gallery shows them.</p>"
        )
    if figures:
        parts.append('<div class="figures">')
        for title, path in figures:
            parts.append(f'<figure><img src="{escape(path)}" alt="{escape(title)}"><figcaption>{escape(title)}</figcaption></figure>')
        parts.append("</div>")
    played = [tune for tune in tunes if tune.get("wav")]
    if tunes:
        parts.append(
            f"<h3>Tunes sampled from the shipped weights</h3><p class=note>{len(played)} kept of {tunes[0]['draws'] if not played else played[-1]['draws']} "
            "draws: a draw whose first tune does not parse into notes is skipped.</p>"
        )
    for index, tune in enumerate(played, start=1):
        parts.append(
            f'<div class="tune"><h4>Tune {index} (seed {tune["seed"]})</h4>'
            f'<div class="abc" data-abc="{escape(tune["abc"])}"></div>'
            f'<audio controls preload="metadata" src="{escape(tune["wav"])}"></audio> '
            f'<a href="{escape(tune["abc_file"])}">ABC</a></div>'
        )
    parts.append("</section>")
    return "\n".join(parts)


def _page(sections) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>The zoo: every shipped checkpoint</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }}
section {{ border-top: 1px solid #ccc; padding: 0.5em 0 1.5em; }}
.headline {{ font-size: 1.3em; font-weight: 600; }} .headline span, .note {{ font-size: 0.75em; font-weight: normal; color: #555; }}
.metrics {{ color: #444; }} pre {{ background: #f4f4f4; padding: 0.5em; overflow-x: auto; }}
.figures {{ display: flex; flex-wrap: wrap; gap: 1em; }} figure {{ margin: 0; max-width: 100%; }} img {{ max-width: 100%; max-height: 420px; }}
.tune {{ margin: 1em 0; }} .abc svg {{ max-width: 100%; }}
</style>
</head>
<body>
<h1>The zoo</h1>
<p>Every shipped checkpoint, its model card's numbers and the command that made them. Written by
<code>python -m zoo gallery</code>; it opens from disk and needs no network.</p>
{chr(10).join(sections)}
<script src="assets/abcjs-basic-min.js"></script>
<script>
for (const block of document.querySelectorAll(".abc")) {{
  ABCJS.renderAbc(block, block.dataset.abc, {{ responsive: "resize" }});
}}
</script>
</body>
</html>
"""

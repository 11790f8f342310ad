"""`python -m zoo gallery`: the zoo in the browser, a static site in the order of the lectures.

    python -m zoo gallery [--out site] [--only digits_cnn,...]     # then open site/index.html from disk
    make gallery
    python -m zoo gallery --screenshots docs/     # also the README's two pictures (needs chromium)

Every shipped checkpoint runs live in the page. Nothing is converted: the
zoo's layers are written a second time in JavaScript (layers/js/, the same
names and maths as layers/*.py, tested against Keras by tests/layers/), and
the page runs each model's Keras functional graph over the weights exported
from the hash-checked checkpoint (zoo/page/weights.py). The page's sections
follow lectures 1-2 (zoo/page/lectures.py); each gives the idea, its recipes
with their cards' numbers, a command to try and a live cell
(zoo/page/static/page.js).

The page opens from file:// with no server: Chromium refuses `fetch` and ES
modules there, so every model and every datum is a classic <script>. Its
JavaScript interface, which tests/test_gallery.py drives in headless Chromium:

    await zoo.ready                      # every model loaded
    zoo.models                           # the names that run in the page
    await zoo.run(name, input)           # the model's raw output for one example, a flat array
    await zoo.translate(name, text)      # greedy translation
    await zoo.generate(name, {prompt, length, temperature, seed})   # ABC text

abcjs (sheet music, and its synth for playing) comes from the npm registry
(`npm install`, pinned in package.json) and is copied into the site. The
site's files are listed in OUT/gallery.json; a rerun replaces those and
refuses to touch any other file in OUT.
"""

import html
import importlib.util
import json
import pathlib
import shutil
import time

from zoo import errors
from zoo import outputs

RECORD = "gallery.json"
ABCJS = pathlib.Path("node_modules") / "abcjs" / "dist" / "abcjs-basic-min.js"
STATIC = pathlib.Path(__file__).parent / "static"
# Chromium flags for a machine with a closed network, as root, with no screen.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
SCREENSHOTS = ("page_digits.png", "page_translation.png")
EXAMPLES = {"digits": 10, "translation": 12}  # Test examples the page offers to load into its cells.


def find_abcjs(path=None) -> pathlib.Path:
    from zoo.hub import pretrained

    candidates = [path] if path else [ABCJS, pretrained.ROOT / ABCJS]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise errors.MissingFileError(
        f"{candidates[0]} does not exist: the page renders and plays sheet music with abcjs; run `npm install` "
        "in the zoo's checkout (package.json pins it), or pass --abcjs PATH."
    )


def make(out, only=None, abcjs=None, screenshots=None, loaded=None) -> dict:
    """Builds the site in `out` (every shipped checkpoint, or the comma-separated `only`).

    `loaded`: a dict of shipped checkpoints already loaded, by name, that the build
    reuses and fills (a caller that goes on using the models loads each once).
    Returns {"names", "files", "seconds", "screenshots" (paths written, or [])}.
    """
    from zoo.hub import pretrained

    out = pathlib.Path(out)
    shipped = pretrained.read_manifest()["models"]
    names = sorted(shipped) if not only else [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in shipped]
    if unknown or not names:
        raise errors.UserError(f"--only {only!r}: {', '.join(unknown) or 'no name'} not shipped; choose from {', '.join(sorted(shipped))}.")
    abcjs = find_abcjs(abcjs)
    shots = []
    if screenshots is not None:
        shots = [pathlib.Path(screenshots) / name for name in SCREENSHOTS]
        for png in shots:
            check_screenshot(png)  # Before the build, not after.
    outputs.check(out, [], RECORD, "gallery")  # A forged record: said before the folder is touched.
    started = time.perf_counter()
    with outputs.Outputs(out, RECORD, "gallery") as outs:
        outputs.check(out, ["index.html"], RECORD, "gallery")  # A stranger in the way: before the build.
        files = build(outs, names, abcjs, {} if loaded is None else loaded)
    seconds = time.perf_counter() - started
    if shots:
        take_screenshots(out / "index.html", shots)
    return {"names": names, "files": files, "seconds": seconds, "screenshots": shots}


# ---------------------------------------------------------------- the build


def build(outs: outputs.Outputs, names, abcjs: pathlib.Path, loaded: dict) -> list:
    """Writes the site into the out folder's scratch folder, then claims the names and moves them in.

    The record lists the files before they move in (outputs.Outputs.claim), so a build killed
    halfway leaves only files a rerun knows as its own.
    """
    from zoo.hub import pretrained
    from zoo.inference import loading
    from zoo.page import lectures, weights

    scratch = outs.scratch
    for folder in ("assets", "js", "models", "figures"):
        (scratch / folder).mkdir()
    shutil.copy(abcjs, scratch / "assets" / "abcjs-basic-min.js")
    layer_scripts = _layer_scripts()
    for script in layer_scripts:
        shutil.copy(script, scratch / "js" / script.name)
    for name in ("page.js", "page.css"):
        shutil.copy(STATIC / name, scratch / "assets" / name)
    data = {"models": {}, "built_by": "python -m zoo gallery"}
    for name in names:
        if name not in loaded:
            loaded[name] = loading.load(name, pretrained=True)  # Every file's sha256 checked against the manifest.
        card = pretrained.read_card(name)
        weights.write_script(weights.export(loaded[name]), scratch / "models" / f"{name}.js")
        data["models"][name] = _model_data(name, card, loaded[name])
    data.update(_cell_data({name: loaded[name] for name in names}))
    figures = _copy_figures(scratch / "figures", lectures.SECTIONS)
    (scratch / "assets" / "data.js").write_text("globalThis.ZOO_DATA = " + json.dumps(data, separators=(",", ":")) + ";\n", encoding="utf-8")
    page = _page(names, data["models"], figures, [f"js/{script.name}" for script in layer_scripts])
    (scratch / "index.html").write_text(page, encoding="utf-8")
    written = sorted(str(path.relative_to(scratch)) for path in scratch.rglob("*") if path.is_file())
    outs.claim(written)
    for name in written:
        outs.place(name)
    outs.finish({"recipes": list(names)})
    return written


def _layer_scripts() -> list:
    """layers/js/*.js in the order their index loads them (each attaches to globalThis.ZooLayers)."""
    import layers

    folder = pathlib.Path(layers.__file__).parent / "js"
    return [folder / name for name in json.loads((folder / "index.json").read_text())["files"]]


def _model_data(name: str, card: dict, loaded) -> dict:
    """What the page needs of one model: its card's numbers, its inputs, and how to read and write its tokens."""
    info = loaded.info
    extras = info.extras or {}
    kept = ("source_length", "target_length", "window", "horizon", "unit", "max_length", "keep_key", "image_shape",
            "pixel_max", "feature_range", "gate", "truth_table", "padding_id", "unknown_id", "separator")
    metrics = {
        metric: {"mean": values["mean"], "std": values["std"]}
        for metric, values in card.get("test_metrics", {}).items()
        if isinstance(values, dict) and "mean" in values
    }
    return {
        "task": card.get("task"),
        "summary": card.get("summary", ""),
        "headline": card.get("headline", ""),
        "metrics": metrics,
        "report": {key: value["mean"] for key, value in (card.get("report") or {}).items() if isinstance(value, dict) and "mean" in value},
        "split": card.get("split", "test"),
        "shipped_metrics": card.get("shipped_test_metrics", {}),
        "seeds": card.get("seeds", []),
        "shipped_seed": card.get("shipped_seed"),
        "parameters": card.get("parameters"),
        "command": card.get("command", ""),
        "train_command": card.get("train_command", ""),
        "dataset": info.name,
        "num_examples": dict(info.num_examples),
        "inputs": [{"name": tensor.name, "shape": list(tensor.shape[1:]), "dtype": str(tensor.dtype)} for tensor in loaded.model.inputs],
        "vocabulary": list(info.vocabulary),
        "class_names": list(info.class_names),
        "extras": {key: extras[key] for key in kept if key in extras},
        "curves": _curves(name, card),
    }


def _curves(name: str, card: dict):
    """Each shipped seed's per-epoch metrics, when the checkpoint ships them (`ship` does); else None."""
    from zoo.hub import pretrained, ship

    specs = pretrained.read_manifest()["models"][name]["files"]
    curves = {}
    for role, spec in sorted(specs.items()):
        if role.startswith(ship.CURVES_ROLE):
            lines = pretrained.read_verified(name, role, spec).decode("utf-8").splitlines()  # Its sha256 checked.
            by_epoch = {}  # The last record of each (epoch, split): the epoch's own evaluation.
            for record in (json.loads(line) for line in lines if line.strip()):
                by_epoch.setdefault(record["epoch"], {})[record["split"]] = record["loss"]
            epochs = sorted(epoch for epoch, losses in by_epoch.items() if {"train", "validation"} <= losses.keys())
            curves[role[len(ship.CURVES_ROLE):]] = [{"epoch": epoch, "loss": by_epoch[epoch]["train"], "val_loss": by_epoch[epoch]["validation"]} for epoch in epochs]
    return curves or None


def _cell_data(models: dict) -> dict:
    """The data the live cells read: test splits, points and series, as the models take them."""
    import numpy as np

    def split(name, count=None):
        batch = next(iter(models[name].splits.test.batch(100_000).as_numpy_iterator()))
        return tuple(np.asarray(part)[:count] for part in batch) if count else batch

    def rounded(values):
        return np.round(np.asarray(values, np.float64), 6).tolist()

    data = {}
    for name in ("binary_mlp", "regression_mlp"):
        if name in models:
            features, targets = split(name)
            data[f"{name}_test"] = {"inputs": rounded(features), "targets": rounded(targets)}
    if "playground_mlp" in models:
        points, labels = split("playground_mlp")
        data["playground_test"] = {"points": rounded(points), "labels": labels.astype(int).tolist()}
    for name in ("digits_mlp", "digits_cnn"):
        if name in models:
            pixels, labels = split(name, EXAMPLES["digits"])
            data["digits_examples"] = {"pixels": rounded(pixels), "labels": labels.astype(int).tolist()}
            break
    translation = next((name for name in models if models[name].info.name == "translation_en_es"), None)
    if translation is not None:
        pairs = models[translation].info.extras["pairs"]["test"][: EXAMPLES["translation"]]
        data["translation_examples"] = [{"english": english, "spanish": spanish} for _, _, english, spanish in pairs]
    forecaster = next((name for name in ("forecast_lstm", "forecast_hybrid") if name in models), None)
    if forecaster is not None:  # Both read the same series and share its test origins.
        from datasets import series

        extras = models[forecaster].info.extras
        dates, values = series.series(models[forecaster].info.name)
        data["series"] = {
            "name": models[forecaster].info.name,
            "dates": [str(date)[:7] for date in dates],
            "values": rounded(values),
            "origins": {key: list(map(int, value)) for key, value in extras["origins"].items()},
        }
    return data


def _copy_figures(folder: pathlib.Path, sections) -> dict:
    """docs/ figures the sections name, copied in; {relative docs path: site path} of those found."""
    from zoo.hub import pretrained

    found = {}
    for section in sections:
        for path, _, _ in section["figures"]:
            source = pretrained.ROOT / "docs" / path
            if source.is_file():
                target = folder / path.replace("/", "_")
                shutil.copy(source, target)
                found[path] = f"figures/{target.name}"
    return found


# ---------------------------------------------------------------- the page


def _card_block(name: str, model: dict) -> str:
    escape = html.escape
    metrics = ", ".join(f"{metric} {values['mean']:.3f} ± {values['std']:.3f}" for metric, values in model["metrics"].items())
    report = ", ".join(f"{key} {value:.3f}" for key, value in model["report"].items())
    seeds = ", ".join(map(str, model["seeds"]))
    curves = (
        f'<canvas class="curves" data-model="{escape(name)}" width="360" height="180"></canvas>'
        if model["curves"]
        else f'<p class=note>Training curves: the shipped runs of {escape(name)} did not keep their metrics; '
        f"<code>make ship MODEL={escape(name)}</code> keeps each seed's <code>metrics.jsonl</code>, and the page draws them.</p>"
    )
    return (
        f'<div class="card" id="card-{escape(name)}"><h3><code>{escape(name)}</code></h3>'
        f"<p>{escape(model['summary'])}</p>"
        f"<p class=headline>{escape(model['headline'])} <span>on the {escape(model['split'])} split, mean ± std over seeds {escape(seeds)}; "
        f"{model['parameters'] or 0:,} parameters</span></p>"
        f"<p class=metrics>{escape(metrics)}{'; ' + escape(report) if report else ''}</p>"
        f"<p class=note>Trained with <code>{escape(model['train_command'])}</code> for each seed; shipped with "
        f"<code>{escape(model['command'])}</code>. Source: <code>recipes/{escape(name)}.py</code>.</p>"
        f"{curves}</div>"
    )


def _section(section: dict, names, models: dict, figures: dict) -> str:
    escape = html.escape
    present = [name for name in section["recipes"] if name in names]
    parts = [
        f'<section id="{section["id"]}">',
        f"<h2>{escape(section['title'])}</h2>",
        f"<p class=idea>{escape(section['idea'])}</p>",
        '<div class="cards">' + "".join(_card_block(name, models[name]) for name in present) + "</div>",
        f"<p class=try>Try this: <code>{escape(section['try'])}</code></p>",
    ]
    for cell in section["cell"].split():
        parts.append(f'<div class="cell" data-cell="{cell}"></div>')
    shown = [(figures[path], title, command) for path, title, command in section["figures"] if path in figures]
    if shown:
        parts.append('<div class="figures">')
        for src, title, command in shown:
            parts.append(f'<figure><img src="{escape(src)}" alt="{escape(title)}"><figcaption>{escape(title)}: '
                         f"<code>{escape(command)}</code></figcaption></figure>")
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _page(names, models: dict, figures: dict, layer_scripts) -> str:
    from zoo.page import lectures

    sections = "\n".join(_section(section, names, models, figures) for section in lectures.SECTIONS)
    contents = "".join(f'<li><a href="#{section["id"]}">{html.escape(section["title"])}</a></li>' for section in lectures.SECTIONS)
    scripts = "\n".join(
        f'<script src="{html.escape(src)}"></script>'
        for src in ["assets/abcjs-basic-min.js", *layer_scripts, *(f"models/{name}.js" for name in names), "assets/data.js", "assets/page.js"]
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The zoo: lectures 1-2 of MIT 6.S191, live</title>
<link rel="stylesheet" href="assets/page.css">
</head>
<body>
<header>
<h1>The zoo, live</h1>
<p>Lectures 1–2 of MIT 6.S191, one idea at a time. Every model on this page runs in your browser from its
shipped weights, through the zoo's own layers written a second time in JavaScript (<code>layers/js/</code>,
the twins of <code>layers/*.py</code>, checked against Keras). No server, no network, no converter.
Written by <code>python -m zoo gallery</code>. <span id="status">Loading the models…</span></p>
<ol class="contents">{contents}</ol>
</header>
{sections}
{scripts}
</body>
</html>
"""


# ---------------------------------------------------------------- screenshots


def check_screenshot(png: pathlib.Path) -> str:
    """Chromium's path, once chromium and playwright are there and `png` is free; else one line."""
    if png.exists():
        raise errors.UserError(f"--screenshots: {png} exists; the gallery never replaces a file; pass another folder.")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise errors.MissingFileError("--screenshots needs chromium; install it with: apt-get install -y chromium")
    if importlib.util.find_spec("playwright") is None:
        raise errors.MissingFileError("--screenshots needs playwright; install the requirements: pip install -r requirements.txt")
    return chromium


def take_screenshots(page_path: pathlib.Path, pngs) -> None:
    """The README's two pictures, taken as a learner would make them: a drawn digit, a typed translation."""
    from playwright.sync_api import sync_playwright

    chromium = check_screenshot(pngs[0])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            page.evaluate("() => zoo.ready")
            draw_digit(page, SEVEN)
            _shoot(page, "#vision .cell[data-cell=digits]", pngs[0])
            page.fill("#translate-text", "Tuesday, March 3, 1987")
            page.click("#translate-go")
            page.wait_for_selector("#translate-map canvas")
            _shoot(page, "#many-to-many .cell[data-cell=translate]", pngs[1])
        finally:
            browser.close()


# A seven, drawn as strokes on the 8 x 8 grid: (column, row) points joined by the mouse.
SEVEN = (((1, 1), (6, 1), (6, 2), (4, 4), (3, 6), (3, 7)),)


def draw_digit(page, strokes) -> None:
    """Draws `strokes` on the digit grid with the mouse, a stroke per press."""
    grid = page.locator("#digit-grid")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    cell = box["width"] / 8
    page.click("#digit-clear")
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + (x + 0.5) * cell, box["y"] + (y + 0.5) * cell)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + (x + 0.5) * cell, box["y"] + (y + 0.5) * cell, steps=8)
        page.mouse.up()


def _shoot(page, selector: str, png: pathlib.Path) -> None:
    element = page.locator(selector)
    element.scroll_into_view_if_needed()
    png.parent.mkdir(parents=True, exist_ok=True)
    element.screenshot(path=str(png))

"""`python -m zoo gallery` in a real headless Chromium: every shipped model runs in the page and
agrees with Keras, and every live cell works when driven as a person would drive it.

One site is built for the module (every shipped checkpoint) and opened once; each test drives
that page. Needs Debian's chromium, playwright and abcjs from npm (`make test` installs them when
it can); without them the browser tests are skipped with the command that fixes it.
"""

import json
import shutil

import numpy as np
import pytest

from zoo.commands import cli
from zoo.hub import pretrained, ship
from zoo.page import gallery

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ABCJS = pretrained.ROOT / gallery.ABCJS
EXAMPLES = 20  # Test-split examples per model compared with Keras (perceptron_gates' test split has 4: all of them).
SENTENCES = 50  # Test sentences per translation model compared with the zoo's own greedy decoding.

pytestmark = pytest.mark.slow


def needs_abcjs():
    if not ABCJS.exists():
        pytest.skip(f"abcjs is missing ({ABCJS}); install it with: npm install")


@pytest.fixture(scope="module")
def shipped():
    return {}  # Every shipped checkpoint, loaded once by the build and reused by the tests.


@pytest.fixture(scope="module")
def site(tmp_path_factory, shipped):
    needs_abcjs()
    out = tmp_path_factory.mktemp("gallery") / "site"
    made = gallery.make(out, loaded=shipped)
    assert made["names"] == sorted(pretrained.read_manifest()["models"]) == sorted(shipped)
    return out


@pytest.fixture(scope="module")
def page(site):
    if CHROMIUM is None:
        pytest.skip("chromium is missing; install it with: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="install the requirements: pip install -r requirements.txt")
    errors = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=gallery.CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1100, "height": 900})
            tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            tab.on("pageerror", lambda error: errors.append(str(error)))
            tab.goto((site / "index.html").as_uri(), wait_until="load")
            tab.evaluate("() => zoo.ready")
            tab.errors = errors
            yield tab
        finally:
            browser.close()
    assert errors == [], errors  # No console error in any test of the module.


LM_TOKENS = 50  # A language model reads the first 50 ids of each 100-id test window (the page's JS is slow per token).


def _cases(name, loaded):
    """(inputs for zoo.run, Keras's outputs) for EXAMPLES test examples of one shipped model."""
    features, _ = next(iter(loaded.splits.test.batch(EXAMPLES).as_numpy_iterator()))
    model = loaded.model
    if isinstance(features, tuple):  # Translation: the target so far is <start> and the real tokens.
        source, target = features
        given = [row[: max(1, int(np.count_nonzero(row)))] for row in target]
        expected = [None] * len(source)
        for length in sorted({len(row) for row in given}):  # One Keras call per target length.
            rows = [index for index, row in enumerate(given) if len(row) == length]
            logits = np.asarray(model([source[rows], np.stack([given[index] for index in rows])], training=False))
            for row, index in enumerate(rows):
                expected[index] = logits[row, -1]
        return [{"source": s.tolist(), "target": g.tolist()} for s, g in zip(source, given)], expected
    if loaded.info.vocabulary and loaded.recipe.task == "language_model":
        features = features[:, :LM_TOKENS]
    outputs = np.asarray(model(features, training=False))
    if outputs.ndim == 3:  # A language model: the logits of the token after the last id.
        outputs = outputs[:, -1]
    if loaded.info.vocabulary and loaded.recipe.task != "language_model":
        # A classifier of padded ids: the page is given the real ids only, and its mask handling
        # must give what Keras gave on the padded row.
        features = [row[: int(np.max(np.nonzero(row)[0])) + 1] for row in features]
    return [np.asarray(row).ravel().tolist() for row in features], [row.ravel() for row in outputs]


def test_every_shipped_model_runs_in_the_page_and_matches_keras(page, shipped):
    names = page.evaluate("() => zoo.models")
    assert names == sorted(pretrained.read_manifest()["models"])  # Every shipped checkpoint: all have offline data.
    for name in names:
        inputs, expected = _cases(name, shipped[name])
        got = page.evaluate("async ([name, inputs]) => { const out = []; for (const x of inputs) out.push(await zoo.run(name, x)); return out; }",
                            [name, inputs])
        assert len(got) == min(EXAMPLES, shipped[name].info.num_examples["test"]), name
        difference = max(float(np.max(np.abs(np.asarray(g, np.float64) - e))) for g, e in zip(got, expected))
        assert difference <= 1e-4, f"{name}: max abs diff {difference:.2e}"


def keras_attention(loaded, inputs) -> dict:
    """Keras's attention probabilities for one example, by the names the page's runner records them under."""
    import keras

    import layers
    from datasets import translation
    from recipes import _transformer

    model, scores = loaded.model, {}
    if loaded.recipe.name == "music_transformer":  # A causal LM's blocks: the page's attention cell.
        blocks = [layer for layer in model.layers if isinstance(layer, layers.TransformerBlock)]
        for number, block in enumerate(blocks, start=1):
            scores[block.name] = np.asarray(_transformer.attention_weights(model, inputs[0][0], number, causal=True))[None]
    else:  # Translation: which source token each target token reads (the page's alignment map).
        source_mask = keras.ops.not_equal(inputs[0], translation.PADDING_ID)
        for attention in [layer for layer in model.layers if isinstance(layer, (layers.CrossAttention, layers.DecoderBlock))]:
            if isinstance(attention, layers.CrossAttention):
                query, value = keras.Model(model.inputs, attention.input)(inputs)
                _, found = attention(query, value, value_mask=source_mask, return_attention_scores=True)
                scores[attention.name] = np.asarray(found)
            else:
                target, encoded = keras.Model(model.inputs, attention.input)(inputs)
                hidden, _ = attention._self_attention_sublayer(target, None, True, False, None, None)
                _, found = attention.cross_attention(attention.cross_attention_norm(hidden), encoded, value_mask=source_mask, return_attention_scores=True)
                scores[f"{attention.name}/cross_attention"] = np.asarray(found)
    return scores


SCORES = """([name, inputs]) => {
  const scores = {};
  ZooLayers.Model.fromExport(ZOO_MODELS[name]).predict(inputs.map((x) => ZooLayers.tensor.tensor(x.shape, x.data)), {scores});
  return Object.fromEntries(Object.entries(scores).map(([key, value]) => [key, {shape: value.shape, data: Array.from(value.data)}]));
}"""


def test_the_pages_attention_maps_are_keras_attention(page, shipped):
    for name in ("music_transformer", "translate_lstm_attention", "translate_transformer"):
        features, _ = next(iter(shipped[name].splits.test.batch(1).as_numpy_iterator()))
        inputs = [features[:, :40]] if name == "music_transformer" else [features[0], features[1][:, : int(np.count_nonzero(features[1]))]]
        expected = keras_attention(shipped[name], inputs)
        got = page.evaluate(SCORES, [name, [{"shape": list(x.shape), "data": x.ravel().tolist()} for x in inputs]])
        for key, value in expected.items():
            assert got[key]["shape"] == list(value.shape), (name, key)
            assert np.max(np.abs(np.asarray(got[key]["data"]) - value.ravel())) <= 1e-5, (name, key)


STEPS = """(name) => {
  // The prompt in one call, then one token per call with the state kept: the logits must be those
  // of one call on the whole sequence (what the page's sampler relies on).
  const model = ZooLayers.Model.fromExport(ZOO_MODELS[name]), ids = Array.from({length: 30}, (_, i) => 3 + (i * 7) % 60);
  const whole = model.predict([ZooLayers.tensor.tensor([1, 30], ids)])[0];
  const state = {}, width = whole.shape[2];
  let worst = 0;
  const check = (out, from) => out.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - whole.data[from * width + i])); });
  check(model.predict([ZooLayers.tensor.tensor([1, 10], ids.slice(0, 10))], {state})[0], 0);
  for (let t = 10; t < 30; t++) check(model.predict([ZooLayers.tensor.tensor([1, 1], [ids[t]])], {state})[0], t);
  return worst;
}"""


def test_sampling_one_token_at_a_time_gives_the_whole_sequences_logits(page):
    for name in ("music_rnn", "music_lstm", "music_transformer"):
        assert page.evaluate(STEPS, name) <= 1e-5, name


def test_the_export_keeps_every_weight_bit_for_bit(site, shipped):
    import base64

    text = (site / "models" / "translate_lstm_attention.js").read_text()
    prefix = 'globalThis.ZOO_MODELS = globalThis.ZOO_MODELS || {};\nZOO_MODELS["translate_lstm_attention"] = '
    assert text.startswith(prefix) and text.endswith(";\n")
    exported = json.loads(text[len(prefix) : -2])
    model = shipped["translate_lstm_attention"].model
    assert exported["graph"] == json.loads(json.dumps(model.get_config()))
    with_weights = [layer for layer in model.layers if layer.weights]
    assert list(exported["weights"]) == [layer.name for layer in with_weights]
    for layer in with_weights:
        for record, variable in zip(exported["weights"][layer.name], layer.weights, strict=True):
            values = np.frombuffer(base64.b64decode(record["data"]), dtype="<f4").reshape(record["shape"])
            np.testing.assert_array_equal(values, variable.numpy())  # Exact: no decimal rounding.


def test_translate_in_the_page_equals_the_zoos_greedy_translation(page, shipped):
    from recipes import _translation
    from datasets import translation

    for name in ("translate_lstm", "translate_lstm_attention", "translate_transformer"):
        loaded = shipped[name]
        pairs = loaded.info.extras["pairs"]["test"][:SENTENCES]
        english = [source for _, _, source, _ in pairs]
        ids = np.stack([translation.encode_source(text, loaded.info.vocabulary, loaded.info.extras["source_length"]) for text in english])
        decoded = _translation.greedy(loaded.model, loaded.recipe.module.decoder_steps, ids, loaded.info.extras["target_length"])
        ours = [translation.decode_target(row, loaded.info.vocabulary) for row in decoded]
        got = page.evaluate("async ([name, texts]) => { const out = []; for (const t of texts) out.push(await zoo.translate(name, t)); return out; }",
                            [name, english])
        assert got == ours, name


def test_generate_is_seeded_abc_from_each_language_model(page):
    for name in ("music_rnn", "music_lstm", "music_transformer"):
        first, again, other = page.evaluate(
            "async (name) => [await zoo.generate(name, {prompt: 'X:', length: 120, temperature: 0.8, seed: 3}),"
            " await zoo.generate(name, {prompt: 'X:', length: 120, temperature: 0.8, seed: 3}),"
            " await zoo.generate(name, {prompt: 'X:', length: 120, temperature: 0.8, seed: 4})]", name)
        assert first.startswith("X:") and len(first) == 122 and first == again and first != other, name


def test_the_gates_cell_shows_a_single_perceptron_failing_xor_and_the_hidden_layer_solving_it(page):
    page.select_option("#gate", "and")
    assert "4 of 4 rows right" in page.inner_text("[data-cell=gates] .panel >> nth=0")
    page.select_option("#gate", "xor")
    assert "4 of 4 rows right" not in page.inner_text("[data-cell=gates] .panel >> nth=0")
    shipped_panel = page.locator("[data-cell=gates] .panel >> nth=1")
    shipped_panel.locator("table").wait_for()
    assert shipped_panel.locator("tr.wrong").count() == 0 and shipped_panel.locator("tr.right").count() == 4


def test_the_boundary_cell_classifies_a_clicked_point_as_the_model_does(page, shipped):
    canvas = page.locator("#boundary")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5)
    text = page.inner_text("#boundary-point")
    x, y = (float(value) for value in text.split(")")[0].strip("(").split(","))
    logit = float(np.asarray(shipped["playground_mlp"].model(np.array([[x, y]], np.float32)))[0, 0])
    assert f"class {int(logit > 0)}" in text


def test_the_losses_cell_recomputes_each_cards_test_loss(page):
    page.click("#losses-go")
    rows = page.locator("#losses tr").all_inner_texts()[1:]
    assert len(rows) == 2
    for row in rows:
        name, _, here, card, *_ = row.split("\t")
        assert abs(float(here) - float(card)) <= 2e-4, row


def slide(page, selector, value):
    """Moves a range slider as a person's drag would end: its value, then its input event."""
    page.eval_on_selector(selector, "(slider, value) => { slider.value = value; slider.dispatchEvent(new Event('input')); }", str(value))


def test_the_descent_cell_diverges_only_when_the_step_is_too_large(page):
    page.select_option("#descent-optimizer", "sgd")
    slide(page, "#descent-rate", -2)
    assert "diverged" not in page.inner_text("[data-cell=descent] .note")
    slide(page, "#descent-rate", -0.5)
    assert "diverged" in page.inner_text("[data-cell=descent] .note")


def test_the_digits_cell_reads_a_drawing_and_shows_the_cnns_feature_maps(page, shipped):
    gallery.draw_digit(page, gallery.SEVEN)
    page.wait_for_selector("#digit-digits_cnn h4")
    assert page.locator("#digit-maps canvas").count() >= 16
    page.select_option("#digit-example", "3")
    pixels, _ = next(iter(shipped["digits_cnn"].splits.test.batch(4).as_numpy_iterator()))
    for name in ("digits_mlp", "digits_cnn"):
        page.wait_for_function(f"() => document.querySelector('#digit-{name}').dataset.answer !== undefined")
        expected = int(np.argmax(np.asarray(shipped[name].model(pixels[3:4]))))
        assert page.get_attribute(f"#digit-{name}", "data-answer") == str(expected), name


def test_the_music_cell_samples_engraves_and_plays_a_tune_under_a_minute(page):
    page.select_option("#music-model", "music_lstm")
    page.fill("#music-seed", "2")
    page.click("#music-sample")
    page.wait_for_selector("#music-sheet svg", timeout=60_000)
    assert 0 < float(page.get_attribute("#music-sheet", "data-seconds")) <= 60
    page.click("#music-play")
    page.wait_for_function("() => document.querySelector('#music-sheet').dataset.played !== undefined", timeout=30_000)
    page.click("#music-play")  # Stop.
    page.click("#music-send")  # The tune goes to the tune-type cell, which classifies it.
    page.wait_for_selector("#tunetype-sentiment_lstm h4")


def test_the_attention_cell_draws_every_head_of_every_block(page):
    page.fill("#attention-text", "X:1\nK:G\n|:GABc dedB|")
    page.click("#attention-go")
    page.wait_for_selector("#attention-maps canvas")
    config = pretrained.read_card("music_transformer")["config"]
    assert page.locator("#attention-maps canvas").count() == config["num_heads"] * config["num_blocks"]


def test_the_tune_type_cell_agrees_with_keras(page, shipped):
    from datasets import irish

    tune = "X:1\nT:Test\nM:6/8\nL:1/8\nK:D\n|:dAF AFA|dAF G2E|FAd fed|e3 e2f|"
    page.fill("#tunetype-text", tune)
    page.click("#tunetype-go")
    for name in ("sentiment_lstm", "sentiment_transformer"):
        info = shipped[name].info
        ids = irish.encode_tune(tune, info.vocabulary, info.extras["max_length"], info.extras["keep_key"])
        expected = info.class_names[int(np.argmax(np.asarray(shipped[name].model(ids[None]))))]
        page.wait_for_function(f"() => document.querySelector('#tunetype-{name}').dataset.answer !== undefined")
        assert page.get_attribute(f"#tunetype-{name}", "data-answer") == expected, name


def test_the_translate_cell_gives_each_models_spanish_and_an_alignment(page):
    import zoo

    page.fill("#translate-text", "Tuesday, March 3, 1987")
    page.click("#translate-go")
    page.wait_for_selector("#translate-map canvas")
    for name in ("translate_lstm", "translate_lstm_attention", "translate_transformer"):
        got = page.inner_text(f"#translate-out td[data-model={name}]")
        assert got == zoo.translate(name, "Tuesday, March 3, 1987").text, name
    assert page.locator("#translate-map canvas").count() == 2


def test_the_forecast_cell_draws_the_models_forecast_from_the_chosen_origin(page, shipped):
    from datasets import series

    for name in ("forecast_lstm", "forecast_hybrid"):
        loaded = shipped[name]
        page.select_option("#forecast-model", name)
        first, count = loaded.info.extras["origins"]["test"]
        origin = first + count // 2
        slide(page, "#forecast-origin", origin)
        _, values = series.series(loaded.info.name)
        window, horizon = loaded.info.extras["window"], loaded.info.extras["horizon"]
        forecast = np.asarray(loaded.model(np.asarray(values[origin - window : origin], np.float32)[None]))[0]
        mae = float(np.mean(np.abs(forecast - values[origin : origin + horizon])))
        assert abs(float(page.get_attribute("#forecast-readout", "data-mae")) - mae) < 1e-3, name
        assert f"{window} months {name} reads" in page.inner_text("#forecast-readout")


def test_every_number_on_the_page_comes_from_a_card(site):
    data = json.loads((site / "assets" / "data.js").read_text().split("=", 1)[1].rstrip().rstrip(";"))
    for name, model in data["models"].items():
        card = pretrained.read_card(name)
        assert model["headline"] == card["headline"]
        for metric, values in model["metrics"].items():
            assert values["mean"] == card["test_metrics"][metric]["mean"] and values["std"] == card["test_metrics"][metric]["std"]
    page = (site / "index.html").read_text()
    for name in data["models"]:
        assert f'id="card-{name}"' in page and pretrained.read_card(name)["headline"] in page
    # The curves are the shipped runs' own: one per seed of the card, whose lowest validation
    # loss is the one the card reports for that seed.
    shipped_files = {name: entry["files"] for name, entry in pretrained.read_manifest()["models"].items()}
    for name, model in data["models"].items():
        card, files = pretrained.read_card(name), shipped_files[name]
        if not any(role.startswith(ship.CURVES_ROLE) for role in files):
            assert model["curves"] is None, name
            continue
        assert sorted(map(int, model["curves"])) == card["seeds"], name
        for run in card["per_seed"]:
            lowest = min(point["val_loss"] for point in model["curves"][str(run["seed"])])
            assert lowest == pytest.approx(run["best_validation"]["loss"], rel=1e-6), (name, run["seed"])
        assert f'<canvas class="curves" data-model="{name}"' in page, name
    record = json.loads((site / gallery.RECORD).read_text())
    on_disk = sorted(str(path.relative_to(site)) for path in site.rglob("*") if path.is_file() and path.name not in (gallery.RECORD, ".lock"))
    assert sorted(record["files"]) == on_disk


def test_a_stranger_in_the_out_folder_is_refused_and_kept(tmp_path, capsys):
    needs_abcjs()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "index.html").write_text("my own page")
    assert cli.main(["gallery", "--out", str(mine), "--only", "digits_mlp"]) == 2
    assert "index.html, which gallery did not write" in capsys.readouterr().err
    assert (mine / "index.html").read_text() == "my own page"
    assert sorted(path.name for path in mine.iterdir()) == [".lock", "index.html"]


def test_a_rerun_replaces_its_own_files_and_a_record_cannot_reach_outside(tmp_path):
    needs_abcjs()
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

"""Shipped checkpoints: cards stay true, files verify themselves, predict and export work.

Every checkpoint in pretrained/manifest.json is evaluated on its test split and
compared with its generated card, so retraining without reshipping (or editing a
card by hand) fails here.
"""

import functools
import http.server
import io
import json
import pathlib
import shutil
import sys
import threading

import numpy as np
import pytest
import tensorflow as tf

from zoo import files
from zoo.commands import cli
from zoo.hub import pretrained, ship
from zoo.engine import registry, runs, trainer

pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")

MANIFEST = pretrained.read_manifest()
SHIPPED = sorted(MANIFEST["models"])
# Recipes whose default dataset is offline: each must ship a checkpoint
# (a recipe whose default data is a tfds download, which needs internet).
MUST_SHIP = (
    "perceptron_gates", "playground_mlp", "digits_mlp", "digits_cnn", "binary_mlp", "regression_mlp",
    "music_rnn", "music_lstm", "music_transformer", "sentiment_lstm", "sentiment_transformer", "forecast_lstm",
    "translate_transformer", "translate_lstm", "translate_lstm_attention",
)


def _close(actual, expected, tolerance=2e-3):
    return abs(actual - expected) <= tolerance * max(1.0, abs(expected))


def test_the_offline_recipes_ship_a_checkpoint():
    assert set(MUST_SHIP) <= set(SHIPPED)
    for name in SHIPPED:
        assert name in registry.list_recipes(), f"{name} is shipped but is no recipe"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_matches_its_card(name):
    entry = MANIFEST["models"][name]
    card_dir = pretrained.ROOT / "pretrained" / name
    card = json.loads((card_dir / "card.json").read_text())
    # The manifest, the card and the file agree on what was shipped.
    assert entry["headline"] == card["headline"]
    assert entry["files"]["weights"]["sha256"] == card["weights"]["sha256"]
    assert entry["files"]["weights"]["bytes"] <= 8 * 2**20
    markdown = (card_dir / "MODEL_CARD.md").read_text()
    assert card["headline"] in markdown and card["command"] in markdown
    assert len(card["seeds"]) >= 3 and card["shipped_seed"] in card["seeds"]
    # Every seed's training curves ship (the page draws them), hash-checked, and they are the runs the
    # card summarises: each holds the validation record the card gives as that seed's best.
    for record in card["per_seed"]:
        role = f"{ship.CURVES_ROLE}{record['seed']}"
        assert role in entry["files"], f"{name} ships no training curves for seed {record['seed']}"
        lines = pretrained.read_verified(name, role, entry["files"][role]).decode().splitlines()
        assert record["best_validation"] in [json.loads(line) for line in lines], f"{name} seed {record['seed']}"

    loaded = pretrained.load(name)
    assert loaded.model.count_params() == card["parameters"]
    assert loaded.info.fingerprint == card["dataset"]["fingerprint"]
    metrics = runs.evaluate_model(loaded.recipe, loaded.model, loaded.splits, "test")
    for metric, value in card["shipped_test_metrics"].items():
        assert _close(metrics[metric], value), f"{name} {metric}: evaluated {metrics[metric]}, card says {value}"
    # The shipped seed is one of the seeds the card's mean ± std summarises.
    headline = card["headline_metric"]
    shipped_index = card["seeds"].index(card["shipped_seed"])
    summary = card["test_metrics"][headline]
    assert _close(metrics[headline], summary["values"][shipped_index])
    assert _close(summary["mean"], float(np.mean(summary["values"])), 1e-6)


@pytest.mark.parametrize("name", SHIPPED)
def test_card_command_still_gives_the_shipped_config(name):
    """A recipe whose defaults changed after shipping makes its card's command lie: reship it."""
    from zoo.engine import config as config_lib

    card = json.loads((pretrained.ROOT / "pretrained" / name / "card.json").read_text())
    recipe = registry.get_recipe(card["recipe"])
    now = config_lib.to_dict(
        config_lib.make_config(recipe.Config, {**card["overrides"], "seed": str(card["shipped_seed"])})
    )
    # A key added to the recipes after shipping is filled with its default when
    # loading too (config_lib.from_dict); compare the keys the card recorded.
    changed = config_lib.differences(card["config"], {key: now[key] for key in card["config"] if key in now})
    assert not changed, f"{name}: `{card['command']}` now trains another config ({'; '.join(changed)}); reship it"


def test_list_shows_the_headline(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in SHIPPED:
        row = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert f"yes ({MANIFEST['models'][name]['headline']})" in row


def test_evaluate_pretrained_cli(capsys):
    assert cli.main(["evaluate", "perceptron_gates", "--pretrained"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    card = json.loads((pretrained.ROOT / "pretrained/perceptron_gates/card.json").read_text())
    assert record["weights"] == "pretrained"
    assert _close(record["loss"], card["shipped_test_metrics"]["loss"])


def test_load_pretrained_is_exported_and_unknown_names_fail():
    import zoo

    model = zoo.load_pretrained("perceptron_gates")
    outputs = np.asarray(model(np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")))
    assert ((outputs.reshape(-1) > 0) == [False, True, True, False]).all()  # XOR
    with pytest.raises(ValueError, match="No pretrained checkpoint for 'nope'"):
        pretrained.load("nope")


# ------------------------------------------------------------ verification


@pytest.fixture
def private_copy(tmp_path):
    """A manifest with perceptron_gates's files copied under tmp_path (the real ones stay untouched)."""
    entry = json.loads(json.dumps(MANIFEST["models"]["perceptron_gates"]))
    for role, spec in entry["files"].items():
        target = tmp_path / spec["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(pretrained.ROOT / spec["path"], target)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"models": {"perceptron_gates": entry}}))
    return tmp_path, manifest, entry


def _no_model_building(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the model was built from an unverified file")

    monkeypatch.setattr(runs, "load_model", refuse)


def test_private_copy_loads(private_copy):
    root, manifest, _ = private_copy
    loaded = pretrained.load("perceptron_gates", manifest_path=manifest, root=root)
    assert loaded.config.gate == "xor"


def test_keras_archive_gives_weights_only(private_copy):
    """A .keras file is read for its weights; its config (which could name code) is never deserialized."""
    root, manifest, entry = private_copy
    model = pretrained.load("perceptron_gates", manifest_path=manifest, root=root).model
    archive = root / "pretrained" / "perceptron_gates" / "model.keras"
    model.save(archive)
    entry["files"]["weights"] = {"path": str(archive.relative_to(root)), "sha256": files.sha256_file(archive)}
    manifest.write_text(json.dumps({"models": {"perceptron_gates": entry}}))
    loaded = pretrained.load("perceptron_gates", manifest_path=manifest, root=root)
    for a, b in zip(loaded.model.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_tampered_weights_are_refused_before_reading(private_copy, monkeypatch):
    root, manifest, entry = private_copy
    weights = root / entry["files"]["weights"]["path"]
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    _no_model_building(monkeypatch)
    with pytest.raises(ValueError) as error:
        pretrained.load("perceptron_gates", manifest_path=manifest, root=root)
    message = str(error.value)
    assert "\n" not in message
    assert "model.weights.h5" in message and entry["files"]["weights"]["sha256"][:12] in message
    assert files.sha256_file(weights)[:12] in message and "git checkout" in message


def test_truncated_weights_are_refused(private_copy, monkeypatch):
    root, manifest, entry = private_copy
    weights = root / entry["files"]["weights"]["path"]
    weights.write_bytes(weights.read_bytes()[:100])
    _no_model_building(monkeypatch)
    with pytest.raises(ValueError, match=r"fails its check: sha256 [0-9a-f]{12}\.\.\. but the manifest expects"):
        pretrained.load("perceptron_gates", manifest_path=manifest, root=root)


def test_tampered_config_is_refused(private_copy, monkeypatch):
    root, manifest, entry = private_copy
    config = root / entry["files"]["config"]["path"]
    config.write_text(config.read_text().replace('"hidden_units": 8', '"hidden_units": 9'))
    _no_model_building(monkeypatch)
    with pytest.raises(ValueError, match="config file .*config.json"):
        pretrained.load("perceptron_gates", manifest_path=manifest, root=root)


def test_missing_weights_are_refused(private_copy):
    root, manifest, entry = private_copy
    (root / entry["files"]["weights"]["path"]).unlink()
    with pytest.raises(FileNotFoundError, match="weights file for 'perceptron_gates' is missing"):
        pretrained.load("perceptron_gates", manifest_path=manifest, root=root)


def test_missing_hash_is_refused(private_copy):
    root, manifest, entry = private_copy
    del entry["files"]["weights"]["sha256"]
    manifest.write_text(json.dumps({"models": {"perceptron_gates": entry}}))
    with pytest.raises(ValueError, match="no valid sha256"):
        pretrained.load("perceptron_gates", manifest_path=manifest, root=root)


# ------------------------------------------------------------ URL + cache


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def http_server(tmp_path):
    """A loopback HTTP server on a random port serving tmp_path/served."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_CountingHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}", server.requests
    server.shutdown()
    server.server_close()


def _url_manifest(private_copy, served, base_url):
    root, manifest, entry = private_copy
    weights = root / entry["files"]["weights"]["path"]
    shutil.copy(weights, served / "model.weights.h5")
    entry["files"]["weights"] = {"url": f"{base_url}/model.weights.h5", "sha256": entry["files"]["weights"]["sha256"]}
    manifest.write_text(json.dumps({"models": {"perceptron_gates": entry}}))
    weights.unlink()  # Only the server has it now.
    return root, manifest


def test_url_download_once_into_the_cache(private_copy, http_server, tmp_path, monkeypatch):
    served, base_url, requests = http_server
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    root, manifest = _url_manifest(private_copy, served, base_url)
    first = pretrained.load("perceptron_gates", manifest_path=manifest, root=root)
    second = pretrained.load("perceptron_gates", manifest_path=manifest, root=root)
    assert requests == ["/model.weights.h5"]  # Downloaded once, then read from the cache.
    assert (tmp_path / "cache" / "perceptron_gates" / "model.weights.h5").is_file()
    for a, b in zip(first.model.get_weights(), second.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_url_mismatch_is_refused_and_not_cached(private_copy, http_server, tmp_path, monkeypatch):
    served, base_url, requests = http_server
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    root, manifest = _url_manifest(private_copy, served, base_url)
    (served / "model.weights.h5").write_bytes(b"not the weights the manifest names")
    _no_model_building(monkeypatch)
    with pytest.raises(ValueError, match="does not match the manifest .*deleted it"):
        pretrained.load("perceptron_gates", manifest_path=manifest, root=root)
    assert not (tmp_path / "cache" / "perceptron_gates" / "model.weights.h5").exists()
    assert requests == ["/model.weights.h5"]


def test_url_unreachable_is_one_line(private_copy, http_server, tmp_path, monkeypatch):
    served, base_url, _ = http_server
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    root, manifest = _url_manifest(private_copy, served, base_url)
    (served / "model.weights.h5").unlink()  # 404
    with pytest.raises(FileNotFoundError, match="Cannot download the weights file") as error:
        pretrained.load("perceptron_gates", manifest_path=manifest, root=root)
    assert "\n" not in str(error.value)


# ------------------------------------------------------------ predict


def _run(argv, capsys, monkeypatch, stdin=b""):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@functools.lru_cache(maxsize=None)
def _digits_test():
    from datasets import digits

    features, labels = next(iter(digits.load().test.batch(1000).as_numpy_iterator()))
    return features, labels


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_predict_digit_from_test_split_csv(capsys, monkeypatch, tmp_path, name):
    features, labels = _digits_test()
    model = pretrained.load_pretrained(name)
    logits = np.asarray(model(features[:1]))[0]
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    csv = tmp_path / "digit.csv"
    csv.write_text("\n".join(",".join(f"{v:.6f}" for v in row) for row in features[0].reshape(8, 8)))  # 8 lines of 8
    code, out, err = _run(["predict", name, "--pretrained", "--input", str(csv)], capsys, monkeypatch)
    assert code == 0, err
    assert out.strip() == f"class {labels[0]} (probability {probabilities.max():.4f})"
    # scikit-learn's raw 0..16 counts on stdin give the same answer.
    raw = ",".join(str(int(round(v * 16))) for v in features[0])
    code, out_raw, err = _run(["predict", name, "--pretrained"], capsys, monkeypatch, raw.encode())
    assert code == 0, err
    assert out_raw.split()[1] == str(labels[0])


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_predict_digit_from_png(capsys, monkeypatch, tmp_path, name):
    features, labels = _digits_test()
    model = pretrained.load_pretrained(name)
    predicted = np.argmax(np.asarray(model(features)), axis=-1)
    index = int(np.flatnonzero(predicted == labels)[1])  # a digit the checkpoint gets right
    # 32x32, dark ink on white paper: each 8x8 cell becomes a 4x4 block.
    ink = np.kron(features[index].reshape(8, 8), np.ones((4, 4)))  # (32, 32), 0..1
    paper = np.round(255 * (1.0 - ink)).astype(np.uint8)[..., None]  # (32, 32, 1)
    png = tmp_path / "digit.png"
    png.write_bytes(tf.io.encode_png(paper).numpy())
    code, out, err = _run(["predict", name, "--pretrained", "--input", str(png)], capsys, monkeypatch)
    assert code == 0, err
    assert out.split()[1] == str(labels[index])


def test_png_reading_matches_the_dataset_scale():
    from datasets import digits
    from zoo.inference import predict

    info = digits.load().info
    features, _ = _digits_test()
    ink = np.kron(features[5].reshape(8, 8), np.ones((4, 4)))  # (32, 32), 0..1
    light_paper = np.round(255 * (1.0 - ink)).astype(np.uint8)[..., None]  # dark ink on white
    dark_paper = np.round(255 * ink).astype(np.uint8)[..., None]  # white ink on black, like the data
    transparent = np.zeros((32, 32, 4), np.uint8)  # black ink whose alpha is the ink
    transparent[..., 3] = np.round(255 * ink)
    for image in (light_paper, dark_paper, np.repeat(light_paper, 3, axis=-1), transparent):
        parsed = predict.parse_features(info, tf.io.encode_png(image).numpy())
        assert parsed.shape == (1, 64)
        np.testing.assert_allclose(parsed[0], features[5], atol=1 / 255)


@pytest.mark.parametrize(
    "argv, stdin, fragment",
    [
        (["predict", "digits_mlp", "--pretrained"], b"1,2,3", "Expected 64 numbers"),
        (["predict", "digits_mlp", "--pretrained"], b",".join([b"0.5"] * 63 + [b"abc"]), "'abc' is not a number"),
        (["predict", "digits_mlp", "--pretrained"], b"\x89PNG\r\n\x1a\nbroken", "PNG cannot be decoded"),
        (["predict", "digits_mlp", "--pretrained"], b"", "is empty"),
        (["predict", "digits_mlp", "--pretrained"], b",".join([b"20"] * 64), "Pixel values must lie"),
        (["predict", "binary_mlp", "--pretrained"], b"1,2", "Expected 30 numbers"),
        (["predict", "perceptron_gates", "--pretrained"], b"1,nan", "not a finite number"),
        (["predict", "digits_mlp", "--pretrained", "--input", "/no/such.csv"], b"", "does not exist"),
        (["predict", "no_such_recipe", "--pretrained"], b"1", "Unknown recipe"),
    ],
)
def test_predict_bad_input_is_one_line_exit_2(argv, stdin, fragment, capsys, monkeypatch):
    code, out, err = _run(argv, capsys, monkeypatch, stdin)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and fragment in err


def test_predict_refuses_language_models(capsys, monkeypatch):
    language_models = [n for n in registry.list_recipes() if registry.get_recipe(n).task == "language_model"]
    if not language_models:
        pytest.skip("no language-model recipe")
    code, _, err = _run(["predict", language_models[0], "--pretrained"], capsys, monkeypatch, b"X:1")
    assert code == 2 and "generate" in err


def test_predict_breast_cancer_row_in_raw_units(capsys, monkeypatch):
    import sklearn.datasets

    from datasets import breast_cancer

    splits = breast_cancer.load()
    bunch = sklearn.datasets.load_breast_cancer()
    features, labels = next(iter(splits.test.batch(1000).as_numpy_iterator()))
    mean = np.asarray(splits.info.extras["feature_mean"])
    std = np.asarray(splits.info.extras["feature_std"])
    raw = features[:2] * std + mean  # two rows in the data's own units, one per line
    text = "\n".join(",".join(repr(float(v)) for v in row) for row in raw)
    code, out, err = _run(["predict", "binary_mlp", "--pretrained"], capsys, monkeypatch, text.encode())
    assert code == 0, err
    model = pretrained.load_pretrained("binary_mlp")
    logits = np.asarray(model(features[:2])).reshape(-1)
    names = [str(n) for n in bunch.target_names]
    lines = out.strip().splitlines()
    assert len(lines) == 2
    for line, logit in zip(lines, logits):
        assert line.startswith(f"class {names[int(logit > 0)]} (probability ")


def test_predict_regression_in_original_units(capsys, monkeypatch):
    from datasets import diabetes

    splits = diabetes.load()
    features, _ = next(iter(splits.test.batch(1).as_numpy_iterator()))
    extras = splits.info.extras
    raw = features[0] * np.asarray(extras["feature_std"]) + np.asarray(extras["feature_mean"])
    code, out, err = _run(
        ["predict", "regression_mlp", "--pretrained"], capsys, monkeypatch, ",".join(map(repr, map(float, raw))).encode()
    )
    assert code == 0, err
    model = pretrained.load_pretrained("regression_mlp")
    expected = float(np.asarray(model(features))[0, 0]) * extras["target_std"] + extras["target_mean"]
    value = float(out.split()[1])
    assert abs(value - expected) <= 1e-3 * abs(expected) + 0.05
    assert 20 < value < 400  # disease progression is on this scale, not the standardized one


TUNE_RECIPES = [n for n in SHIPPED if n.startswith("sentiment_")]


@pytest.mark.parametrize("name", TUNE_RECIPES)
def test_predict_tune_type(name, capsys, monkeypatch):
    from datasets import irish

    loaded = pretrained.load(name)
    monkeypatch.setattr(pretrained, "load", lambda *args, **kwargs: loaded)  # load once
    features, labels = next(iter(loaded.splits.test.batch(1).as_numpy_iterator()))
    vocabulary = loaded.info.vocabulary
    # A test-split tune with header lines (which predict must strip) in front.
    tune = "X:1\nT:Test\nM:6/8\n" + "".join(vocabulary[i] for i in features[0] if i > 1)
    np.testing.assert_array_equal(
        irish.encode_tune(tune, vocabulary, loaded.info.extras["max_length"], loaded.info.extras["keep_key"]), features[0]
    )
    code, out, err = _run(["predict", name, "--pretrained"], capsys, monkeypatch, tune.encode())
    assert code == 0, err
    logits = loaded.model.predict(features, verbose=0)[0]
    if logits.shape[-1] == 1:
        expected = loaded.info.class_names[int(logits[0] > 0)]
    else:
        expected = loaded.info.class_names[int(np.argmax(logits))]
    assert out.startswith(f"class {expected} (probability ")


# ------------------------------------------------------------ export


@pytest.mark.parametrize("name", [name for name in ("digits_mlp", "digits_cnn") if name in SHIPPED])
def test_export_savedmodel_and_tflite_match_keras(tmp_path, capsys, name):
    features, _ = _digits_test()
    batch = features[:16]
    model = pretrained.load_pretrained(name)
    expected = np.asarray(model(batch))

    assert cli.main(["export", name, "--pretrained", "--format", "savedmodel", "--out", str(tmp_path)]) == 0
    served = tf.saved_model.load(str(tmp_path / "savedmodel"))
    np.testing.assert_allclose(np.asarray(served.serve(batch)), expected, atol=1e-5)
    signature = served.signatures["serving_default"]
    (output,) = signature(tf.constant(batch)).values()
    np.testing.assert_allclose(np.asarray(output), expected, atol=1e-5)

    assert cli.main(["export", name, "--pretrained", "--format", "tflite", "--out", str(tmp_path)]) == 0
    assert "(converted with builtins)" in capsys.readouterr().out  # free batch axis, no Flex ops
    interpreter = tf.lite.Interpreter(model_path=str(tmp_path / "model.tflite"))
    (input_detail,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(input_detail["index"], batch.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_detail["index"], batch)
    interpreter.invoke()
    (output_detail,) = interpreter.get_output_details()
    np.testing.assert_allclose(interpreter.get_tensor(output_detail["index"]), expected, atol=1e-5)


def test_export_refuses_to_overwrite_a_foreign_directory(tmp_path):
    (tmp_path / "savedmodel").mkdir()
    (tmp_path / "savedmodel" / "notes.txt").write_text("mine")
    code = cli.main(["export", "perceptron_gates", "--pretrained", "--format", "savedmodel", "--out", str(tmp_path)])
    assert code == 2
    assert (tmp_path / "savedmodel" / "notes.txt").read_text() == "mine"


RECURRENT = [name for name in ("music_lstm", "sentiment_lstm") if name in SHIPPED][:1]


@pytest.mark.parametrize("name", RECURRENT)
def test_export_lstm_tflite_matches_keras(name, tmp_path):
    from zoo.inference import export

    loaded = pretrained.load(name)
    features, _ = next(iter(loaded.splits.test.batch(1).as_numpy_iterator()))
    expected = np.asarray(loaded.model(features))
    path, how = export.export_tflite(loaded.model, tmp_path / "model.tflite", loaded.info)
    # The RNN loop lowers to TFLite builtins once its shapes are static (batch 1).
    assert how == "builtins, batch size 1"
    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    (input_detail,) = interpreter.get_input_details()
    assert list(input_detail["shape"]) == [1, *loaded.info.input_shape]
    interpreter.set_tensor(input_detail["index"], features.astype(input_detail["dtype"]))
    interpreter.invoke()
    (output_detail,) = interpreter.get_output_details()
    np.testing.assert_allclose(interpreter.get_tensor(output_detail["index"]), expected, atol=1e-5)


# ------------------------------------------------------------ ship


def test_ship_writes_card_manifest_and_reuses_finished_seeds(tmp_path, monkeypatch, capsys):
    from zoo.hub import ship as cards

    destination = tmp_path / "pretrained" / "perceptron_gates"
    manifest = tmp_path / "manifest.json"
    options = dict(workdir=tmp_path / "runs", verbose=False, destination=destination, manifest_path=manifest)
    card = cards.ship("perceptron_gates", ["gate=and", "hidden_units=0", "epochs=2", "repeats=2"], [0, 1], **options)

    values = [record["test"]["accuracy"] for record in card["per_seed"]]
    assert card["test_metrics"]["accuracy"]["values"] == values
    assert card["test_metrics"]["accuracy"]["mean"] == pytest.approx(np.mean(values))
    assert card["test_metrics"]["accuracy"]["std"] == pytest.approx(np.std(values, ddof=1))
    best = min(card["per_seed"], key=lambda record: record["best_validation"]["loss"])
    assert card["shipped_seed"] == best["seed"]
    assert card["command"] == "python -m zoo ship perceptron_gates --seeds 0,1 gate=and hidden_units=0 epochs=2 repeats=2"
    assert card["parameters"] == 3  # one perceptron: two weights and a bias
    assert card["dataset"]["fingerprint"] and card["versions"]["tensorflow"] == tf.__version__
    assert json.loads((destination / "card.json").read_text()) == card
    assert card["headline"] in (destination / "MODEL_CARD.md").read_text()

    entry = pretrained.read_manifest(manifest)["models"]["perceptron_gates"]
    assert entry["headline"] == card["headline"]
    assert entry["files"]["weights"]["sha256"] == files.sha256_file(destination / "model.weights.h5")
    loaded = pretrained.load("perceptron_gates", manifest_path=manifest)
    assert loaded.config.gate == "and" and loaded.config.seed == card["shipped_seed"]
    # Each seed's training curves ship too, hash-checked like every file (the page draws them).
    for seed in (0, 1):
        spec = entry["files"][f"{cards.CURVES_ROLE}{seed}"]
        shipped_curves = pretrained.read_verified("perceptron_gates", f"{cards.CURVES_ROLE}{seed}", spec, root=tmp_path).decode()
        assert shipped_curves == (tmp_path / "runs" / f"seed_{seed}" / "metrics.jsonl").read_text()
        assert {json.loads(line)["split"] for line in shipped_curves.splitlines()} >= {"train", "validation"}

    # A second ship with the same config trains nothing: the card comes from the recorded runs.
    def no_training(*args, **kwargs):
        raise AssertionError("retrained a finished seed")

    monkeypatch.setattr(trainer, "train", no_training)
    again = cards.ship("perceptron_gates", ["gate=and", "hidden_units=0", "epochs=2", "repeats=2"], [0, 1], **options)
    assert again["test_metrics"] == card["test_metrics"]


def test_card_only_adds_the_tune_report_and_keeps_every_other_file(tmp_path, monkeypatch):
    """`zoo ship music_rnn --card-only` on a private copy: the card gains its tunes, nothing else changes."""
    from zoo.hub import ship as cards

    from zoo.inference import tune_report

    monkeypatch.setattr(tune_report, "CARD_TUNES", 3)
    # The training tunes' row parses a sample of them (music21, about 0.25 s a tune); its
    # statistics are tested in tests/test_tune_report.py, here only that the card gets the row.
    monkeypatch.setattr(tune_report, "TRAINING_SAMPLE", 8)
    entry = json.loads(json.dumps(MANIFEST["models"]["music_rnn"]))
    for spec in entry["files"].values():
        (tmp_path / spec["path"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(pretrained.ROOT / spec["path"], tmp_path / spec["path"])
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"models": {"music_rnn": entry}}))
    destination = tmp_path / "pretrained" / "music_rnn"
    before = {path.name: path.read_bytes() for path in destination.iterdir()}

    card = cards.refresh_card("music_rnn", tune_report.card_sections, destination=destination, manifest_path=manifest, root=tmp_path)

    (section,) = card["sections"]
    rows = section["rows"]
    assert [row["temperature"] for row in rows] == [0.8, 1.0] and all(row["tunes"] == 3 for row in rows)
    assert rows[0]["command"] == "python -m zoo generate music_rnn --pretrained --num-tunes 3 --length 600 --temperature 0.8 --seed 0 --report"
    assert all(row["report"]["generated"]["tunes"] == 3 and row["report"]["training"]["tunes"] > 100 for row in rows)
    original = json.loads(before["card.json"])
    assert {key: value for key, value in card.items() if key != "sections"} == {key: value for key, value in original.items() if key != "sections"}
    after = {path.name: path.read_bytes() for path in destination.iterdir()}
    assert after.keys() == before.keys()
    assert {name: data for name, data in after.items() if name not in ("card.json", "MODEL_CARD.md")} == {
        name: data for name, data in before.items() if name not in ("card.json", "MODEL_CARD.md")}
    assert pretrained.read_card("music_rnn", manifest, root=tmp_path) == card  # The manifest names the new card.
    text = after["MODEL_CARD.md"].decode()
    assert "## Tunes" in text and f"| 0.8 | {rows[0]['valid']}/3 (" in text and rows[1]["command"] in text
    assert not list(tmp_path.glob("pretrained/.music_rnn.new")) + list(tmp_path.glob("pretrained/.music_rnn.old"))  # Swapped in.


@pytest.mark.parametrize("name", [name for name in ("music_rnn", "music_lstm", "music_transformer") if name in SHIPPED])
def test_every_music_card_reports_its_tunes_and_writes_valid_ones(name):
    """The card's tune report: at temperature 0.8 at least 95% of the shipped model's tunes are valid."""
    (section,) = [section for section in pretrained.read_card(name)["sections"] if section["title"] == "Tunes"]
    first = section["rows"][0]
    assert first["temperature"] == 0.8 and first["tunes"] >= 60 and first["valid"] >= 0.95 * first["tunes"]
    assert first["command"].startswith(f"python -m zoo generate {name} --pretrained --num-tunes {first['tunes']} ")


def test_ship_refuses_a_seed_override():
    from zoo.hub import ship as cards

    with pytest.raises(ValueError, match="--seeds"):
        cards.ship("perceptron_gates", ["seed=3"], [0, 1, 2], verbose=False)
    with pytest.raises(ValueError, match="--seeds"):
        cards.parse_seeds("0,x")


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_a_small_digit_drawn_anywhere_on_a_large_canvas_is_read(capsys, monkeypatch, tmp_path, name):
    """A bold digit drawn small and off-centre on a 64x64 canvas (the way a person draws one) is framed
    like the dataset's digits before it is scaled to 8x8: the whole canvas scaled down was misread."""
    features, labels = _digits_test()
    model = pretrained.load_pretrained(name)
    predicted = np.argmax(np.asarray(model(features)), axis=-1)
    right = np.flatnonzero((predicted == labels) & (labels == 3))
    ink = np.kron(features[int(right[0])].reshape(8, 8), np.ones((3, 3)))  # (24, 24), 0..1: a bold 3
    canvas = np.zeros((64, 64))
    canvas[34:58, 6:30] = ink  # the lower left of the canvas
    png = tmp_path / "digit_3.png"
    png.write_bytes(tf.io.encode_png(np.round(255 * (1.0 - canvas)).astype(np.uint8)[..., None]).numpy())
    code, out, err = _run(["predict", name, "--pretrained", "--input", str(png)], capsys, monkeypatch)
    assert code == 0, err
    assert out.split()[1] == "3", out

"""Every shipped model run by the page's JavaScript (layers/js/model.js) in node, against Keras.

Each checkpoint in pretrained/manifest.json is exported with zoo/page/weights.py (the
hash-checked files, as the page gets them) into a temporary folder, with its first
test-split examples (20, or all of a smaller split) and `model(x)` from Keras on them.
`node --test tests/js/models.test.js` then rebuilds each model from the export and
requires max abs diff <= 1e-4; the language models also step token by token, and the
attention maps the page draws (music_transformer's blocks, the translators'
cross-attention) must match Keras's.
"""

import base64
import json
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

from zoo.hub import pretrained
from zoo.inference import loading
from zoo.page import weights

pytestmark = pytest.mark.slow  # Starts node.

ROOT = pathlib.Path(__file__).resolve().parents[1]
NODE = shutil.which("node")
INSTALL = "install Node.js 20 or newer (Debian: apt-get install nodejs)"
SHIPPED = sorted(pretrained.read_manifest()["models"])
EXAMPLES = 20
PROMPT_LENGTH = 10  # Step mode: this many tokens in the first call, then one per call.


def _tensor(value):
    value = np.asarray(value, dtype="float32")
    return {"shape": list(value.shape), "data": value.ravel().tolist()}


def attention_scores(loaded, inputs) -> dict:
    """Keras's attention probabilities for the first example, by the names ZooLayers.Model records them under."""
    import keras

    import layers
    from datasets import translation
    from recipes import _transformer

    model = loaded.model
    first = [x[:1] for x in inputs]
    scores = {}
    blocks = [layer for layer in model.layers if isinstance(layer, layers.TransformerBlock) and not isinstance(layer, layers.DecoderBlock)]
    if loaded.recipe.name == "music_transformer":  # The page's attention cell: a causal LM's blocks.
        for number, block in enumerate(blocks, start=1):
            scores[block.name] = _transformer.attention_weights(model, first[0][0], number, causal=True)[None]
    if len(inputs) == 2:  # Translation: which source tokens each target token reads.
        source_mask = keras.ops.not_equal(first[0], translation.PADDING_ID)
        for attention in [layer for layer in model.layers if isinstance(layer, (layers.CrossAttention, layers.DecoderBlock))]:
            if isinstance(attention, layers.CrossAttention):
                query, value = keras.Model(model.inputs, attention.input)(first)
                _, found = attention(query, value, value_mask=source_mask, return_attention_scores=True)
                scores[attention.name] = found
            else:
                target, encoded = keras.Model(model.inputs, attention.input)(first)
                hidden, _ = attention._self_attention_sublayer(target, None, True, False, None, None)
                _, found = attention.cross_attention(
                    attention.cross_attention_norm(hidden), encoded, value_mask=source_mask, return_attention_scores=True
                )
                scores[f"{attention.name}/cross_attention"] = found
    return {name: _tensor(value) for name, value in scores.items()}


def export_with_fixture(name, folder: pathlib.Path) -> None:
    """NAME.js (what the page loads) and NAME.fixture.json (test-split inputs and Keras's outputs)."""
    loaded = loading.resolve(name)
    model = loaded.model
    weights.write_script(weights.export(name), folder / f"{name}.js")
    features, _ = next(iter(loaded.splits.test.batch(EXAMPLES).as_numpy_iterator()))
    inputs = list(features) if isinstance(features, (tuple, list)) else [features]
    outputs = np.asarray(model(inputs if len(inputs) > 1 else inputs[0], training=False))
    fixture = {
        "input_names": [tensor.name.split(":")[0] for tensor in model.inputs],
        "examples": int(inputs[0].shape[0]),
        "inputs": [_tensor(x) for x in inputs],
        "output": _tensor(outputs),
        # A language model: one input, logits for every position.
        "steps": len(model.inputs) == 1 and len(model.outputs[0].shape) == 3,
        "prompt_length": PROMPT_LENGTH,
        "scores": attention_scores(loaded, inputs),
    }
    (folder / f"{name}.fixture.json").write_text(json.dumps(fixture))


@pytest.fixture(scope="module")
def exported_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("js_models")
    for name in SHIPPED:
        export_with_fixture(name, folder)
    (folder / "names.json").write_text(json.dumps(SHIPPED))
    return folder


def test_every_shipped_model_runs_in_javascript_as_in_keras(request):
    if NODE is None:
        pytest.skip(f"node is missing; {INSTALL}")
    exported_models = request.getfixturevalue("exported_models")  # Only once node is known to be there.
    result = subprocess.run(
        [NODE, "--test", str(ROOT / "tests" / "js" / "models.test.js")],
        env={**os.environ, "ZOO_JS_MODELS": str(exported_models)},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, f"node --test failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    steps = sum(json.loads((exported_models / f"{name}.fixture.json").read_text())["steps"] for name in SHIPPED)
    assert f"# pass {len(SHIPPED) + steps + 3}" in result.stdout and "# fail 0" in result.stdout
    assert steps == 3  # music_rnn, music_lstm, music_transformer
    scored = [name for name in SHIPPED if json.loads((exported_models / f"{name}.fixture.json").read_text())["scores"]]
    assert scored == ["music_transformer", "translate_lstm_attention", "translate_transformer"]


def test_the_export_keeps_every_weight_bit_for_bit(exported_models):
    text = (exported_models / "translate_lstm_attention.js").read_text()
    prefix = 'globalThis.ZOO_MODELS = globalThis.ZOO_MODELS || {};\nZOO_MODELS["translate_lstm_attention"] = '
    assert text.startswith(prefix) and text.endswith(";\n")
    exported = json.loads(text[len(prefix) : -2])
    assert exported["name"] == exported["recipe"] == "translate_lstm_attention"
    model = loading.resolve("translate_lstm_attention").model
    assert exported["graph"] == json.loads(json.dumps(model.get_config()))
    layers_with_weights = [layer for layer in model.layers if layer.weights]
    assert list(exported["weights"]) == [layer.name for layer in layers_with_weights]
    for layer in layers_with_weights:
        records = exported["weights"][layer.name]
        assert [record["name"] for record in records] == [variable.path for variable in layer.weights]
        for record, variable in zip(records, layer.weights):
            values = np.frombuffer(base64.b64decode(record["data"]), dtype="<f4").reshape(record["shape"])
            np.testing.assert_array_equal(values, variable.numpy())  # exact: no decimal rounding

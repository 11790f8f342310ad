"""A shipped checkpoint as the page's JavaScript reads it: the Keras graph and its float32 weights.

    exported = weights.export("digits_cnn")          # a JSON-serializable dict
    weights.write_script(exported, "site/models/digits_cnn.js")

`export` loads the shipped, hash-checked checkpoint (`zoo.inference.loading.resolve`)
and returns

    {"name": "digits_cnn", "recipe": "digits_cnn",
     "graph": model.get_config(),                    # Keras 3's functional graph
     "weights": {layer name: [{"name": variable path, "shape": [...],
                               "data": base64 of the little-endian float32 bytes}, ...]}}

with each layer's weights in the order of its `layer.weights`, which is the order the
JavaScript twins (layers/js/) take in `setWeights`. The bytes are the float32 values
themselves, so nothing is rounded through decimal text. `ZooLayers.Model.fromExport`
(layers/js/model.js) runs the result.

The page opens from file://, where a browser refuses `fetch` of local files, so
`write_script` wraps the dict in a classic script that the page loads with
`<script src>`: it adds the model to `globalThis.ZOO_MODELS` under its name.
"""

import base64
import json

import numpy as np

from zoo import files
from zoo.inference import loading


def layer_weights(layer) -> list:
    """`layer.weights` as [{"name", "shape", "data"}], data the base64 of little-endian float32."""
    records = []
    for variable in layer.weights:
        values = np.asarray(variable.numpy())
        if values.dtype != np.float32:
            raise TypeError(f"{variable.path} is {values.dtype}; the page's JavaScript reads float32 weights only.")
        records.append(
            {
                "name": variable.path,
                "shape": [int(size) for size in values.shape],
                "data": base64.b64encode(values.astype("<f4").tobytes()).decode("ascii"),
            }
        )
    return records


def export(name) -> dict:
    """The shipped checkpoint `name` (or an object `zoo.load` returned) as a JSON-serializable dict."""
    loaded = loading.resolve(name)
    model = loaded.model
    weights = {layer.name: layer_weights(layer) for layer in model.layers if layer.weights}
    return {
        "name": name if isinstance(name, str) else loaded.recipe.name,
        "recipe": loaded.recipe.name,
        "graph": model.get_config(),
        "weights": weights,
    }


def script_text(exported: dict) -> str:
    """The classic script that adds `exported` to `globalThis.ZOO_MODELS` under its name."""
    name = json.dumps(exported["name"])
    body = json.dumps(exported, allow_nan=False, separators=(",", ":"))
    return f"globalThis.ZOO_MODELS = globalThis.ZOO_MODELS || {{}};\nZOO_MODELS[{name}] = {body};\n"


def write_script(exported: dict, path) -> None:
    """Writes `script_text(exported)` to `path` atomically (a kill leaves the old file or the new one)."""
    files.write_atomically(path, script_text(exported))

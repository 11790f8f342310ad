"""Every layer runs on Keras's JAX backend: same outputs as on TensorFlow, finite gradients, .keras files.

The layers are written in `keras.ops` only, so they must work on any Keras
backend. The backend is fixed per process, so this test computes each layer's
outputs here (TensorFlow), then runs tests/layers/jax_backend_check.py once
under KERAS_BACKEND=jax with the same weights. The layers come from
`layers.__all__`: a new layer fails here until it has an example input in
EXAMPLES.
"""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

import layers

pytest.importorskip("jax", reason="jax is pinned in requirements.txt; `make venv` installs it")

HERE = pathlib.Path(__file__).resolve().parent
RNG = np.random.default_rng(0)
# name -> (constructor arguments, example input, call arguments)
EXAMPLES = {
    "Dense": ({"units": 3, "activation": "tanh"}, RNG.normal(size=(2, 5)).astype("float32"), {}),
    "Conv2D": ({"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"},
               RNG.normal(size=(2, 7, 8, 2)).astype("float32"), {}),
    "RNNCell": ({"units": 4, "gradient_clip": 1.0}, RNG.normal(size=(2, 6, 3)).astype("float32"), {}),
    "LSTMCell": ({"units": 4}, RNG.normal(size=(2, 6, 3)).astype("float32"), {}),
    "PositionalEmbedding": ({"vocab_size": 10, "max_length": 8, "output_dim": 4}, RNG.integers(0, 10, size=(2, 5)).astype("int32"), {}),
    "SelfAttention": ({"num_heads": 2, "key_dim": 4}, RNG.normal(size=(2, 5, 8)).astype("float32"), {"use_causal_mask": True}),
    "TransformerBlock": ({"num_heads": 2, "ff_dim": 8}, RNG.normal(size=(2, 5, 8)).astype("float32"), {"use_causal_mask": True}),
    # Layers of two sequences take a tuple of inputs: (query, value) and (target, encoder outputs).
    "CrossAttention": ({"num_heads": 2, "key_dim": 4},
                       (RNG.normal(size=(2, 5, 8)).astype("float32"), RNG.normal(size=(2, 3, 6)).astype("float32")), {}),
    "DecoderBlock": ({"num_heads": 2, "ff_dim": 8},
                     (RNG.normal(size=(2, 5, 8)).astype("float32"), RNG.normal(size=(2, 3, 6)).astype("float32")), {}),
}
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def jax_results(tmp_path_factory):
    directory = tmp_path_factory.mktemp("jax_backend")
    cases = {}
    for name in layers.__all__:
        assert name in EXAMPLES, f"layers.{name} has no example input here: add one to EXAMPLES"
        arguments, inputs, call = EXAMPLES[name]
        keras.utils.set_random_seed(1)
        layer = getattr(layers, name)(**arguments)
        model = keras.layers.RNN(layer, return_sequences=True) if name.endswith("Cell") else layer
        inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        outputs = np.asarray(model(*inputs, **call))
        weights = model.get_weights()
        np.savez(directory / f"{name}.npz", inputs=len(inputs), outputs=outputs, weights=len(weights),
                 **{f"input_{index}": array for index, array in enumerate(inputs)},
                 **{f"weight_{index}": weight for index, weight in enumerate(weights)})
        cases[name] = {"config": layer.get_config(), "call": call}
    (directory / "cases.json").write_text(json.dumps(cases))
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    completed = subprocess.run(
        [sys.executable, str(HERE / "jax_backend_check.py"), str(directory)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads((directory / "results.json").read_text())


def test_it_ran_on_the_jax_backend(jax_results):
    assert jax_results["keras_backend"] == "jax"


@pytest.mark.parametrize("name", layers.__all__)
def test_layer_on_jax_matches_tensorflow_and_differentiates(jax_results, name):
    result = jax_results[name]
    assert result["max_difference"] <= TOLERANCE, result
    assert result["gradients_finite"] and result["gradient_count"] > 0, result
    assert result["keras_round_trip_difference"] == 0.0, result


def test_rnn_cell_gradient_clip_works_on_jax(jax_results):
    lesson = jax_results["RNNCell_clipping"]
    assert lesson["unclipped_over_hand_value"] < 1e-3  # dL/dx_1 = 1.5^59 W_xh @ 1, as by hand.
    assert lesson["unclipped_norm"] > 1e9
    assert lesson["clipped_minus_row_sums"] < 1e-5  # Clipped: every step passes back exactly W_xh @ 1.

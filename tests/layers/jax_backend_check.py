"""Every layer in `layers.__all__` on Keras's JAX backend (run by tests/layers/test_jax_backend.py).

    KERAS_BACKEND=jax python tests/layers/jax_backend_check.py CASES_DIR

CASES_DIR holds, per layer, what the TensorFlow backend computed
(`NAME.npz`: inputs, weights, outputs) and `cases.json` (each layer's config
and call arguments). For each layer this rebuilds it from its config on JAX,
loads the same weights, and records in CASES_DIR/results.json:

- the largest difference between its outputs and TensorFlow's;
- whether `jax.grad` of the summed outputs through `stateless_call` (under `jax.jit`) is finite;
- whether a `.keras` file round trip gives the same outputs;

and, for RNNCell, the gradient-clipping lesson at a small size: over 60 steps
of h_t = x_t W + 1.5 h_{t-1}, the gradient reaching the first input explodes
without `gradient_clip` and equals W's row sums with it.
"""

import json
import os
import pathlib
import sys

import numpy as np

assert os.environ.get("KERAS_BACKEND") == "jax", "run with KERAS_BACKEND=jax"
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

import jax  # noqa: E402
import keras  # noqa: E402

import layers  # noqa: E402


def wrapped(name, layer):
    """The layer as a model that takes the case's input (cells run inside keras.layers.RNN)."""
    return keras.layers.RNN(layer, return_sequences=True) if name.endswith("Cell") else layer


def summed_output_gradients(model, inputs, call_arguments):
    """jax.grad of sum(outputs) with respect to every trainable weight, through stateless_call.

    `inputs` is a tuple: one array, or two for the layers that read two sequences.
    """
    trainable = [variable.value for variable in model.trainable_variables]
    non_trainable = [variable.value for variable in model.non_trainable_variables]

    def loss(trainable_values):
        outputs, _ = model.stateless_call(trainable_values, non_trainable, *inputs, **call_arguments)
        return keras.ops.sum(outputs)

    return jax.jit(jax.grad(loss))(trainable)  # Compiled, as Keras's own JAX trainer runs it: faster than op by op.


def clipping_lesson() -> dict:
    """dL/dx_1 for L = sum(h_T) over a linear RNN with W_hh = 1.5 I, without and with clipping."""
    steps = 60
    x = np.random.default_rng(0).normal(size=(1, steps, 3)).astype("float32")

    def first_input_gradient(gradient_clip):
        keras.utils.set_random_seed(0)
        cell = layers.RNNCell(
            4, activation="linear", recurrent_initializer=keras.initializers.Identity(gain=1.5),
            gradient_clip=gradient_clip,
        )
        rnn = keras.layers.RNN(cell)
        rnn(x)
        values = [variable.value for variable in rnn.trainable_variables]

        def loss(inputs):
            outputs, _ = rnn.stateless_call(values, [], inputs)
            return keras.ops.sum(outputs)

        row_sums = np.asarray(cell.kernel.value).sum(axis=1)  # W_xh @ 1, (input_dim,)
        return np.asarray(jax.grad(loss)(x))[0, 0], row_sums

    exploding, row_sums = first_input_gradient(None)
    clipped, _ = first_input_gradient(1.0)
    return {
        "unclipped_over_hand_value": float(np.max(np.abs(exploding / (1.5 ** (steps - 1) * row_sums) - 1))),
        "unclipped_norm": float(np.linalg.norm(exploding)),
        "clipped_minus_row_sums": float(np.max(np.abs(clipped - row_sums))),
    }


def main(directory: pathlib.Path) -> None:
    cases = json.loads((directory / "cases.json").read_text())
    results = {"keras_backend": keras.backend.backend(), "jax": jax.__version__}
    for name, case in cases.items():
        saved = np.load(directory / f"{name}.npz")
        inputs = tuple(saved[f"input_{index}"] for index in range(int(saved["inputs"])))
        layer = getattr(layers, name).from_config(case["config"])
        model = wrapped(name, layer)
        model(*inputs, **case["call"])  # Builds the weights.
        model.set_weights([saved[f"weight_{index}"] for index in range(int(saved["weights"]))])
        outputs = np.asarray(model(*inputs, **case["call"]))
        gradients = summed_output_gradients(model, inputs, case["call"])
        path = directory / f"{name}.keras"
        symbolic = [keras.Input(array.shape[1:], dtype=str(array.dtype)) for array in inputs]
        keras.Model(symbolic, model(*symbolic)).save(path)
        reloaded = np.asarray(keras.models.load_model(path)(list(inputs) if len(inputs) > 1 else inputs[0]))
        plain = np.asarray(model(*inputs))  # As the file's model calls it: no call arguments.
        results[name] = {
            "max_difference": float(np.max(np.abs(outputs - saved["outputs"]))),
            "gradients_finite": bool(all(np.all(np.isfinite(np.asarray(g))) for g in gradients)),
            "gradient_count": len(gradients),
            "keras_round_trip_difference": float(np.max(np.abs(reloaded - plain))),
        }
    results["RNNCell_clipping"] = clipping_lesson()
    (directory / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))

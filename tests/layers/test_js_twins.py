"""The JavaScript twins of the layers (layers/js/) against their Keras layers, in node.

Each `_cases_*` function below builds a Keras layer (ours from layers/, or keras's
own), gives it random weights and inputs (masks and the key/value cache included),
and records its config, weights, inputs and outputs. The test writes them as JSON into
a temporary folder and runs `node --test tests/layers/js/*.test.js` with
ZOO_JS_FIXTURES naming that folder; each node test rebuilds the layer in JavaScript
from the same config and weights and requires max abs diff <= 1e-5.
"""

import json
import os
import pathlib
import shutil
import subprocess

import keras
import numpy as np
import pytest

import layers

pytestmark = pytest.mark.slow  # Starts node.

ROOT = pathlib.Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "layers" / "js"
JS_TESTS = ROOT / "tests" / "layers" / "js"
NODE = shutil.which("node")
INSTALL = "install Node.js 20 or newer (Debian: apt-get install nodejs)"


def _random(*shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def tensor(value):
    """A numpy array (or tensor) as the JavaScript tensor {shape, data}, exact float32 values."""
    value = np.asarray(keras.ops.convert_to_numpy(value), dtype="float32")
    return {"shape": list(value.shape), "data": value.ravel().tolist()}


def _randomize(layer, seed):
    """Random weights (biases and norms included, so a mix-up cannot hide behind zeros and ones)."""
    weights = [_random(*w.shape, seed=seed + i) * 0.5 for i, w in enumerate(layer.get_weights())]
    layer.set_weights(weights)
    return [tensor(w) for w in weights]


def _case(name, layer, seed=100, **fields):
    """One fixture: the layer's config and weights (randomized here) plus `fields`, filled in by the caller."""
    return {"name": name, "config": layer.get_config(), "weights": _randomize(layer, seed), **fields}


MASK = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=bool)  # (2, 6): the first sequence padded


def _cases_dense():
    cases = []
    x = _random(2, 3, 5, seed=1)
    for activation in ("linear", "relu", "sigmoid", "tanh", "softmax", "step", "sign"):
        layer = layers.Dense(4, activation=activation)
        layer.build(x.shape)
        case = _case(f"dense_{activation}", layer)
        case.update(inputs=tensor(x), expected=tensor(layer(x)))
        cases.append(case)
    layer = layers.Dense(3, use_bias=False)
    layer.build(x.shape)
    case = _case("dense_no_bias", layer)
    case.update(inputs=tensor(x), expected=tensor(layer(x)))
    return cases + [case]


def _cases_conv2d():
    cases = []
    x = _random(2, 7, 6, 3, seed=2)
    for padding in ("same", "valid"):
        for strides in (1, 2):
            for kernel_size in ((3, 2), (2, 3)):  # "same" pads an odd number of rows, then of columns
                layer = layers.Conv2D(4, kernel_size, strides=strides, padding=padding, activation="relu")
                layer.build(x.shape)
                case = _case(f"conv2d_{padding}_stride{strides}_kernel{kernel_size[0]}x{kernel_size[1]}", layer)
                case.update(inputs=tensor(x), expected=tensor(layer(x)))
                cases.append(case)
    return cases


def _rnn_cases(prefix, make_cell):
    """A cell alone for one step, and inside keras.layers.RNN with every option the models use."""
    cases = []
    x = _random(2, 6, 5, seed=3)
    cell = make_cell()
    cell.build((2, 5))
    states = [_random(2, cell.units, seed=4 + i) for i in range(len(cell.get_initial_state(2)))]
    case = _case(f"{prefix}_cell", cell)
    output, new_states = cell(x[:, 0], states)
    case.update(inputs=tensor(x[:, 0]), states=[tensor(s) for s in states], expected=tensor(output), expected_states=[tensor(s) for s in new_states])
    cases.append(case)
    for return_sequences in (True, False):
        for go_backwards in (False, True):
            for masked in (False, True):
                rnn = keras.layers.RNN(make_cell(), return_sequences=return_sequences, return_state=True, go_backwards=go_backwards)
                rnn.build(x.shape)
                mask = MASK if masked else None
                name = f"{prefix}_rnn_seq{int(return_sequences)}_back{int(go_backwards)}_mask{int(masked)}"
                case = _case(name, rnn, seed=200)
                outputs = rnn(x, mask=mask)
                case.update(
                    inputs=tensor(x),
                    mask=None if mask is None else tensor(mask),
                    expected=tensor(outputs[0]),
                    expected_states=[tensor(s) for s in outputs[1:]],
                )
                cases.append(case)
    # An initial state, as the translation decoders get one.
    rnn = keras.layers.RNN(make_cell(), return_sequences=True)
    rnn.build(x.shape)
    case = _case(f"{prefix}_rnn_initial_state", rnn, seed=300)
    case.update(inputs=tensor(x), initial_state=[tensor(s) for s in states], expected=tensor(rnn(x, initial_state=states)))
    cases.append(case)
    return cases


def _cases_rnn_cell():
    cases = _rnn_cases("rnn", lambda: layers.RNNCell(4))
    cell = layers.RNNCell(4, activation="relu", state_clip=0.5)
    cell.build((2, 5))
    x, state = _random(2, 5, seed=5), _random(2, 4, seed=6)
    case = _case("rnn_cell_relu_state_clip", cell)
    output, _ = cell(x, [state])
    case.update(inputs=tensor(x), states=[tensor(state)], expected=tensor(output), expected_states=[tensor(output)])
    return cases + [case]


def _cases_lstm_cell():
    cases = _rnn_cases("lstm", lambda: layers.LSTMCell(4))
    cell = layers.LSTMCell(3, recurrent_activation="hard_sigmoid")
    cell.build((2, 5))
    x, states = _random(2, 5, seed=7), [_random(2, 3, seed=8), _random(2, 3, seed=9)]
    case = _case("lstm_cell_hard_sigmoid", cell)
    output, new_states = cell(x, states)
    case.update(inputs=tensor(x), states=[tensor(s) for s in states], expected=tensor(output), expected_states=[tensor(s) for s in new_states])
    return cases + [case]


def _cases_positional_embedding():
    cases = []
    ids = np.array([[5, 7, 9, 0, 0], [1, 2, 3, 4, 11]], dtype="int32")
    for position in ("learned", "sinusoidal"):
        layer = layers.PositionalEmbedding(vocab_size=12, max_length=40, output_dim=6, position=position, mask_zero=True)
        layer.build(ids.shape)
        for start in (0, 33):
            case = _case(f"positional_{position}_start{start}", layer)
            case.update(
                inputs=tensor(ids),
                start_position=start,
                expected=tensor(layer(ids, start_position=start)),
                expected_mask=tensor(layer.compute_mask(ids)),
            )
            cases.append(case)
    return cases


def _attention_calls(layer, x, mask):
    """Outputs and scores for no mask, causal, padding, and padding + causal."""
    calls = []
    for causal in (False, True):
        for padded in (False, True):
            padding = mask if padded else None
            outputs, scores = layer(x, padding_mask=padding, use_causal_mask=causal, return_attention_scores=True)
            calls.append(
                {
                    "padding_mask": None if padding is None else tensor(padding),
                    "use_causal_mask": causal,
                    "expected": tensor(outputs),
                    "expected_scores": tensor(scores),
                }
            )
    return calls


def _cache_steps(layer, x, cache, lengths, **call_kwargs):
    """Feeds x in pieces of `lengths` through the cache; each piece's outputs and the cache after it."""
    steps, index = [], 0
    for length in lengths:
        piece = x[:, index : index + length]
        outputs, cache = layer(piece, cache=cache, cache_index=index, **call_kwargs)
        flat_cache = [tensor(buffer) for buffer in keras.tree.flatten(cache)]
        steps.append({"index": index, "inputs": tensor(piece), "expected": tensor(outputs), "expected_cache": flat_cache})
        index += length
    return steps


def _cases_self_attention():
    x = _random(2, 6, 8, seed=10)
    cases = []
    for name, kwargs in (("plain", {}), ("value_output_dims", {"value_dim": 3, "output_dim": 5}), ("no_bias", {"use_bias": False})):
        layer = layers.SelfAttention(num_heads=2, key_dim=4, **kwargs)
        layer.build(x.shape)
        case = _case(f"self_attention_{name}", layer)
        case.update(inputs=tensor(x), calls=_attention_calls(layer, x, MASK))
        # The Keras mask (as PositionalEmbedding(mask_zero=True) would attach it) stands in for padding_mask.
        case["keras_mask"] = {"mask": tensor(MASK), "expected": tensor(layer(x, mask=MASK))}
        cases.append(case)
    layer = layers.SelfAttention(num_heads=2, key_dim=4)
    layer.build(x.shape)
    case = _case("self_attention_cache", layer)
    case.update(
        max_length=7,
        steps=_cache_steps(layer, x, layer.init_cache(2, 7), (3, 1, 2)),
        full_causal=tensor(layer(x, use_causal_mask=True)),
    )
    return cases + [case]


def _cases_cross_attention():
    query, value, key = _random(2, 4, 8, seed=11), _random(2, 6, 5, seed=12), _random(2, 6, 7, seed=13)
    query_mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=bool)
    cases = []
    for name, kwargs in (("plain", {}), ("value_output_dims", {"value_dim": 3, "output_dim": 5})):
        layer = layers.CrossAttention(num_heads=2, key_dim=4, **kwargs)
        layer.build(query.shape, value.shape, key.shape)
        case = _case(f"cross_attention_{name}", layer)
        calls = []
        for masks in ({}, {"value_mask": MASK}, {"query_mask": query_mask}, {"value_mask": MASK, "query_mask": query_mask}):
            outputs, scores = layer(query, value, key, return_attention_scores=True, **masks)
            calls.append({**{k: tensor(v) for k, v in masks.items()}, "expected": tensor(outputs), "expected_scores": tensor(scores)})
        memory = layer.precompute(value, key)
        case.update(
            query=tensor(query),
            value=tensor(value),
            key=tensor(key),
            calls=calls,
            memory=[tensor(m) for m in memory],
            expected_memory_call=tensor(layer(query[:, :1], memory=memory, value_mask=MASK)),
        )
        cases.append(case)
    return cases


def _cases_transformer_block():
    x = _random(2, 6, 8, seed=14)
    cases = []
    for activation in ("gelu", "relu"):
        block = layers.TransformerBlock(num_heads=2, ff_dim=16, activation=activation)
        block.build(x.shape)
        case = _case(f"transformer_block_{activation}", block)
        case.update(
            inputs=tensor(x),
            calls=[
                {"use_causal_mask": False, "expected": tensor(block(x))},
                {"use_causal_mask": True, "expected": tensor(block(x, use_causal_mask=True))},
                {"padding_mask": tensor(MASK), "use_causal_mask": False, "expected": tensor(block(x, padding_mask=MASK))},
                {"mask": tensor(MASK), "use_causal_mask": True, "expected": tensor(block(x, mask=MASK, use_causal_mask=True))},
            ],
        )
        cases.append(case)
    block = layers.TransformerBlock(num_heads=2, ff_dim=16, key_dim=3)
    block.build(x.shape)
    case = _case("transformer_block_cache", block)
    case.update(
        max_length=6,
        steps=_cache_steps(block, x, block.init_cache(2, 6), (2, 1, 1, 2), use_causal_mask=True),
        full_causal=tensor(block(x, use_causal_mask=True)),
    )
    return cases + [case]


def _cases_decoder_block():
    target, source = _random(2, 5, 8, seed=15), _random(2, 6, 8, seed=16)
    target_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    block = layers.DecoderBlock(num_heads=2, ff_dim=16)
    block.build(target.shape, source.shape)
    case = _case("decoder_block", block)
    calls = [
        {"expected": tensor(block(target, source))},
        {"encoder_padding_mask": tensor(MASK), "expected": tensor(block(target, source, encoder_padding_mask=MASK))},
        {
            "padding_mask": tensor(target_mask),
            "encoder_padding_mask": tensor(MASK),
            "expected": tensor(block(target, source, padding_mask=target_mask, encoder_padding_mask=MASK)),
        },
        {"encoder_outputs_mask": tensor(MASK), "expected": tensor(block(target, source, encoder_outputs_mask=MASK))},
    ]
    steps = _cache_steps(block, target, block.init_cache(2, 5, source), (2, 1, 2), encoder_padding_mask=MASK)
    case.update(
        inputs=tensor(target),
        encoder_outputs=tensor(source),
        calls=calls,
        max_length=5,
        cache_encoder_padding_mask=tensor(MASK),
        steps=steps,
    )
    return [case]


def _keras_case(name, layer, inputs, call=None, **fields):
    """A keras layer's fixture: its class, config, random weights, inputs and outputs."""
    layer.build([x.shape for x in inputs] if isinstance(inputs, list) else inputs.shape)
    case = _case(name, layer, class_name=type(layer).__name__)
    outputs = call(layer) if call else layer(inputs)
    as_json = [tensor(x) for x in inputs] if isinstance(inputs, list) else tensor(inputs)
    case.update(inputs=as_json, expected=[tensor(o) for o in outputs] if isinstance(outputs, (list, tuple)) else tensor(outputs), **fields)
    return case


def _cases_keras():
    x = _random(2, 6, 5, seed=17)
    images = _random(2, 7, 6, 3, seed=18)
    ids = np.array([[3, 1, 4, 1, 0, 0], [2, 7, 1, 8, 2, 8]], dtype="int32")
    cases = [
        _keras_case("embedding", keras.layers.Embedding(10, 4, mask_zero=True), ids, extra_mask=tensor(ids != 0)),
        _keras_case("dropout", keras.layers.Dropout(0.5), x),
        _keras_case("reshape", keras.layers.Reshape((3, 10)), x),
        _keras_case("flatten", keras.layers.Flatten(), images),
        _keras_case("max_pooling_valid", keras.layers.MaxPooling2D(2), images),
        _keras_case("max_pooling_same_strides", keras.layers.MaxPooling2D((3, 2), strides=(2, 1), padding="same"), images),
        _keras_case("global_average", keras.layers.GlobalAveragePooling1D(), x),
        _keras_case(
            "global_average_masked",
            keras.layers.GlobalAveragePooling1D(),
            x,
            call=lambda layer: layer(x, mask=MASK),
            mask=tensor(MASK),
        ),
        _keras_case("layer_normalization", keras.layers.LayerNormalization(epsilon=1e-5), x),
        _keras_case("layer_normalization_no_center", keras.layers.LayerNormalization(center=False), x),
        _keras_case("concatenate", keras.layers.Concatenate(), [x, _random(2, 6, 3, seed=19)]),
    ]
    for return_state in (False, True):
        bidirectional = keras.layers.Bidirectional(
            keras.layers.RNN(layers.LSTMCell(3), return_sequences=True, return_state=return_state)
        )
        cases.append(
            _keras_case(
                f"bidirectional_state{int(return_state)}",
                bidirectional,
                x,
                call=lambda layer: layer(x, mask=MASK),
                mask=tensor(MASK),
            )
        )
    return cases


FIXTURES = {
    "dense": _cases_dense,
    "conv2d": _cases_conv2d,
    "rnn_cell": _cases_rnn_cell,
    "lstm_cell": _cases_lstm_cell,
    "positional_embedding": _cases_positional_embedding,
    "self_attention": _cases_self_attention,
    "cross_attention": _cases_cross_attention,
    "transformer_block": _cases_transformer_block,
    "decoder_block": _cases_decoder_block,
    "keras": _cases_keras,
}


def write_fixtures(directory: pathlib.Path) -> None:
    for name, make_cases in FIXTURES.items():
        (directory / f"{name}.json").write_text(json.dumps({"cases": make_cases()}))


def run_node_tests(fixtures: pathlib.Path, test_files) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NODE, "--test", *map(str, test_files)],
        env={**os.environ, "ZOO_JS_FIXTURES": str(fixtures)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_every_layer_has_a_javascript_twin_with_a_node_test():
    listed = json.loads((JS_DIR / "index.json").read_text())["files"]
    assert sorted(listed) == sorted(path.name for path in JS_DIR.glob("*.js") if path.name != "index.js")
    for module in sorted(path.stem for path in (ROOT / "layers").glob("[a-z]*.py")):
        assert f"{module}.js" in listed, f"layers/{module}.py has no twin layers/js/{module}.js"
        assert (JS_TESTS / f"{module}.test.js").exists(), f"layers/js/{module}.js has no tests/layers/js/{module}.test.js"
    assert set(FIXTURES) <= {path.name.removesuffix(".test.js") for path in JS_TESTS.glob("*.test.js")}


def test_the_javascript_layers_match_their_keras_twins_in_node(tmp_path):
    if NODE is None:
        pytest.skip(f"node is missing; {INSTALL}")
    write_fixtures(tmp_path)
    result = run_node_tests(tmp_path, sorted(JS_TESTS.glob("*.test.js")))
    assert result.returncode == 0, f"node --test failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout

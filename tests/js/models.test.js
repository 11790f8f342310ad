// Every shipped model through ZooLayers.Model in node, against Keras's model(x).
//
// tests/test_js_models.py exports each checkpoint with zoo/page/weights.py into the
// folder named by ZOO_JS_MODELS (NAME.js, the classic script the page loads) with
// NAME.fixture.json: test-split examples and the Keras model's outputs on them.
// Language models (one input, one row of logits per position) are also run in step
// mode: the first tokens in one call, then one token per call, as the page samples.
"use strict";
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { test } = require("node:test");
const ZooLayers = require("../../layers/js/index.js");

const MODEL_TOLERANCE = 1e-4; // against Keras, through a whole model
const STEP_TOLERANCE = 1e-5; // step mode against the same JavaScript run on the whole sequence

const folder = process.env.ZOO_JS_MODELS;
if (!folder) throw new Error("ZOO_JS_MODELS is not set; run `python -m pytest tests/test_js_models.py`, which exports the models");
const names = JSON.parse(fs.readFileSync(path.join(folder, "names.json"), "utf8"));

function maxAbsDiff(actual, expected, offset = 0) {
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const difference = Math.abs(actual[i] - expected[offset + i]);
    if (!(difference <= worst)) worst = difference;
  }
  return worst;
}

const models = {};
function load(name) {
  if (!models[name]) {
    require(path.join(folder, `${name}.js`)); // the classic script: sets globalThis.ZOO_MODELS[name]
    const exported = globalThis.ZOO_MODELS[name];
    const fixture = JSON.parse(fs.readFileSync(path.join(folder, `${name}.fixture.json`), "utf8"));
    models[name] = { model: ZooLayers.Model.fromExport(exported), fixture };
  }
  return models[name];
}

for (const name of names) {
  test(`${name} matches Keras on the test split`, () => {
    const { model, fixture } = load(name);
    assert.deepEqual(model.inputNames, fixture.input_names);
    const inputs = fixture.inputs.map((x) => ZooLayers.tensor.tensor(x.shape, x.data));
    const [output] = model.predict(inputs);
    assert.deepEqual(output.shape, fixture.output.shape);
    const worst = maxAbsDiff(output.data, fixture.output.data);
    assert.ok(worst <= MODEL_TOLERANCE, `${name}: max abs diff ${worst} > ${MODEL_TOLERANCE} on ${fixture.examples} examples`);
    models[name].full = output;
  });

  if (Object.keys(load(name).fixture.scores).length) {
    test(`${name} attention maps match Keras`, () => {
      const { model, fixture } = load(name);
      const first = fixture.inputs.map((x) => {
        const per = x.data.length / x.shape[0];
        return ZooLayers.tensor.tensor([1].concat(x.shape.slice(1)), x.data.slice(0, per));
      });
      const scores = {};
      model.predict(first, { scores });
      for (const [layer, expected] of Object.entries(fixture.scores)) {
        assert.ok(scores[layer], `${name}: no attention scores recorded for ${layer} (got ${Object.keys(scores)})`);
        assert.deepEqual(scores[layer].shape, expected.shape);
        const worst = maxAbsDiff(scores[layer].data, expected.data);
        assert.ok(worst <= MODEL_TOLERANCE, `${name} ${layer}: attention differs from Keras by ${worst}`);
      }
    });
  }

  if (!load(name).fixture.steps) continue;
  test(`${name} step mode gives the logits of the whole sequence`, () => {
    const { model, fixture } = load(name);
    const [examples, time, vocab] = fixture.output.shape;
    const ids = fixture.inputs[0].data.slice(0, time); // the first example
    const prompt = fixture.prompt_length;
    const state = {};
    const rows = [];
    const [first] = model.predict([ZooLayers.tensor.tensor([1, prompt], ids.slice(0, prompt))], { state });
    for (let t = 0; t < prompt; t++) rows.push(first.data.subarray(t * vocab, (t + 1) * vocab));
    for (let t = prompt; t < time; t++) {
      const [next] = model.predict([ZooLayers.tensor.tensor([1, 1], [ids[t]])], { state });
      rows.push(next.data);
    }
    const whole = load(name).full || model.predict([ZooLayers.tensor.tensor([1, time], ids)])[0];
    rows.forEach((row, t) => {
      const againstWhole = maxAbsDiff(row, whole.data, t * vocab);
      assert.ok(againstWhole <= STEP_TOLERANCE, `${name} position ${t}: step mode differs from the whole sequence by ${againstWhole}`);
      const againstKeras = maxAbsDiff(row, fixture.output.data, t * vocab);
      assert.ok(againstKeras <= MODEL_TOLERANCE, `${name} position ${t}: step mode differs from Keras by ${againstKeras}`);
    });
    assert.ok(examples >= 1);
  });
}

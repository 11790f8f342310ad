// What the node tests of the JavaScript layers share: the fixtures that
// tests/layers/test_js_twins.py writes from Keras, and the comparison.
"use strict";
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const ZooLayers = require("../../../layers/js/index.js");

const TOLERANCE = 1e-5;

/** The cases of one fixture file, from the folder named by ZOO_JS_FIXTURES. */
function cases(name) {
  const folder = process.env.ZOO_JS_FIXTURES;
  if (!folder) {
    throw new Error("ZOO_JS_FIXTURES is not set; run `python -m pytest tests/layers/test_js_twins.py`, which writes the fixtures from Keras");
  }
  return JSON.parse(fs.readFileSync(path.join(folder, `${name}.json`), "utf8")).cases;
}

/** A fixture's {shape, data} as a tensor (null stays null). */
function tensor(json) {
  return json === null || json === undefined ? null : ZooLayers.tensor.tensor(json.shape, json.data);
}

/** Same shape, and every value within TOLERANCE of Keras's. */
function assertClose(actual, expected, what, tolerance = TOLERANCE) {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape [${actual.shape}] != Keras's [${expected.shape}]`);
  let worst = 0;
  let where = -1;
  for (let i = 0; i < expected.data.length; i++) {
    const difference = Math.abs(actual.data[i] - expected.data[i]);
    if (!(difference <= worst)) {
      worst = difference;
      where = i;
    }
  }
  assert.ok(worst <= tolerance, `${what}: max abs diff ${worst} > ${tolerance} at flat index ${where} (${actual.data[where]} vs Keras ${expected.data[where]})`);
  return worst;
}

/** A layer from the fixture's config and weights. */
function build(Layer, fixture) {
  return new Layer(fixture.config).setWeights(fixture.weights.map(tensor));
}

module.exports = { ZooLayers, cases, tensor, assertClose, build, TOLERANCE };

// layers/js/positional_embedding.js against layers/positional_embedding.py
// (learned and sinusoidal positions, a start position, the mask_zero mask).
"use strict";
const assert = require("node:assert/strict");
const { test } = require("node:test");
const { ZooLayers, cases, tensor, assertClose, build } = require("./_helpers.js");

for (const fixture of cases("positional_embedding")) {
  test(fixture.name, () => {
    const layer = build(ZooLayers.PositionalEmbedding, fixture);
    const ids = tensor(fixture.inputs);
    assertClose(layer.call(ids, { startPosition: fixture.start_position }), tensor(fixture.expected), fixture.name);
    assertClose(layer.computeMask(ids), tensor(fixture.expected_mask), `${fixture.name} mask`);
    assert.throws(() => layer.call(ids, { startPosition: layer.maxLength - 1 }), /too long/);
  });
}

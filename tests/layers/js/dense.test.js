// layers/js/dense.js against layers/dense.py (every activation, with and without bias).
"use strict";
const { test } = require("node:test");
const { ZooLayers, cases, tensor, assertClose, build } = require("./_helpers.js");

for (const fixture of cases("dense")) {
  test(fixture.name, () => {
    const layer = build(ZooLayers.Dense, fixture);
    assertClose(layer.call(tensor(fixture.inputs)), tensor(fixture.expected), fixture.name);
  });
}

// layers/js/conv2d.js against layers/conv2d.py ("same" and "valid", strides 1 and 2).
"use strict";
const { test } = require("node:test");
const { ZooLayers, cases, tensor, assertClose, build } = require("./_helpers.js");

for (const fixture of cases("conv2d")) {
  test(fixture.name, () => {
    const layer = build(ZooLayers.Conv2D, fixture);
    assertClose(layer.call(tensor(fixture.inputs)), tensor(fixture.expected), fixture.name);
  });
}

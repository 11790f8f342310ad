// layers/js/keras.js against the keras layers the recipes use: Embedding (mask_zero),
// Dropout, Reshape, Flatten, MaxPooling2D, GlobalAveragePooling1D (with a mask),
// LayerNormalization, Concatenate and Bidirectional (masked, with and without states).
"use strict";
const { test } = require("node:test");
const { ZooLayers, cases, tensor, assertClose } = require("./_helpers.js");

for (const fixture of cases("keras")) {
  test(fixture.name, () => {
    const layer = ZooLayers.Model.makeLayer({ class_name: fixture.class_name, config: fixture.config });
    layer.setWeights(fixture.weights.map(tensor));
    const inputs = Array.isArray(fixture.inputs) ? fixture.inputs.map(tensor) : tensor(fixture.inputs);
    const options = { mask: tensor(fixture.mask) };
    const result = layer.call(inputs, options);
    const outputs = Array.isArray(result) ? result : [result];
    const expected = Array.isArray(fixture.expected) ? fixture.expected : [fixture.expected];
    expected.forEach((want, i) => assertClose(outputs[i], tensor(want), `${fixture.name} output ${i}`));
    if (fixture.extra_mask) assertClose(layer.computeMask(inputs), tensor(fixture.extra_mask), `${fixture.name} mask`);
  });
}

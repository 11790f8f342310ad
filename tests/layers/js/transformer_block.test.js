// layers/js/transformer_block.js against layers/transformer_block.py: gelu and relu,
// causal, padding mask, the Keras mask, and the key/value cache fed in pieces.
"use strict";
const { test } = require("node:test");
const { ZooLayers, cases, tensor, assertClose, build } = require("./_helpers.js");

for (const fixture of cases("transformer_block")) {
  test(fixture.name, () => {
    const block = build(ZooLayers.TransformerBlock, fixture);
    if (fixture.steps) {
      let cache = block.initCache(2, fixture.max_length);
      const pieces = [];
      for (const step of fixture.steps) {
        let outputs;
        [outputs, cache] = block.call(tensor(step.inputs), { useCausalMask: true, cache, cacheIndex: step.index });
        assertClose(outputs, tensor(step.expected), `${fixture.name} at ${step.index}`);
        cache.forEach((buffer, i) => assertClose(buffer, tensor(step.expected_cache[i]), `${fixture.name} cache ${i} at ${step.index}`));
        pieces.push(outputs);
      }
      assertClose(ZooLayers.tensor.concatenate(pieces, 1), tensor(fixture.full_causal), `${fixture.name} pieces vs full causal pass`);
      return;
    }
    const inputs = tensor(fixture.inputs);
    fixture.calls.forEach((call, index) => {
      const options = { useCausalMask: call.use_causal_mask, paddingMask: tensor(call.padding_mask), mask: tensor(call.mask) };
      assertClose(block.call(inputs, options), tensor(call.expected), `${fixture.name} call ${index}`);
    });
  });
}

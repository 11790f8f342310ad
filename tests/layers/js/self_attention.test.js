// layers/js/self_attention.js against layers/self_attention.py: no mask, causal,
// padding, both; the Keras mask; the key/value cache fed in pieces.
"use strict";
const assert = require("node:assert/strict");
const { test } = require("node:test");
const { ZooLayers, cases, tensor, assertClose, build } = require("./_helpers.js");

for (const fixture of cases("self_attention")) {
  test(fixture.name, () => {
    const layer = build(ZooLayers.SelfAttention, fixture);
    if (fixture.steps) {
      let cache = layer.initCache(2, fixture.max_length);
      const pieces = [];
      for (const step of fixture.steps) {
        let outputs;
        [outputs, cache] = layer.call(tensor(step.inputs), { cache, cacheIndex: step.index });
        assertClose(outputs, tensor(step.expected), `${fixture.name} at ${step.index}`);
        cache.forEach((buffer, i) => assertClose(buffer, tensor(step.expected_cache[i]), `${fixture.name} cache ${i} at ${step.index}`));
        pieces.push(outputs);
      }
      // Fed in pieces through the cache == one causal pass over the whole sequence.
      assertClose(ZooLayers.tensor.concatenate(pieces, 1), tensor(fixture.full_causal), `${fixture.name} pieces vs full causal pass`);
      return;
    }
    const inputs = tensor(fixture.inputs);
    for (const call of fixture.calls) {
      const what = `${fixture.name} causal=${call.use_causal_mask} padded=${call.padding_mask !== null}`;
      const [outputs, scores] = layer.call(inputs, { paddingMask: tensor(call.padding_mask), useCausalMask: call.use_causal_mask, returnAttentionScores: true });
      assertClose(outputs, tensor(call.expected), what);
      assertClose(scores, tensor(call.expected_scores), `${what} scores`);
    }
    assertClose(layer.call(inputs, { mask: tensor(fixture.keras_mask.mask) }), tensor(fixture.keras_mask.expected), `${fixture.name} keras mask`);
    assert.throws(() => layer.call(inputs, { paddingMask: tensor(fixture.keras_mask.mask), cache: layer.initCache(2, 6), cacheIndex: 0 }), /cannot be combined/);
  });
}

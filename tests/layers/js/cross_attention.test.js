// layers/js/cross_attention.js against layers/cross_attention.py: a separate key,
// the value and query masks, and the precomputed memory of a fixed source.
"use strict";
const { test } = require("node:test");
const { ZooLayers, cases, tensor, assertClose, build } = require("./_helpers.js");

for (const fixture of cases("cross_attention")) {
  test(fixture.name, () => {
    const layer = build(ZooLayers.CrossAttention, fixture);
    const [query, value, key] = [tensor(fixture.query), tensor(fixture.value), tensor(fixture.key)];
    for (const call of fixture.calls) {
      const what = `${fixture.name} value_mask=${Boolean(call.value_mask)} query_mask=${Boolean(call.query_mask)}`;
      const options = { key, queryMask: tensor(call.query_mask), valueMask: tensor(call.value_mask), returnAttentionScores: true };
      const [outputs, scores] = layer.call(query, value, options);
      assertClose(outputs, tensor(call.expected), what);
      assertClose(scores, tensor(call.expected_scores), `${what} scores`);
    }
    const memory = layer.precompute(value, key);
    memory.forEach((projected, i) => assertClose(projected, tensor(fixture.memory[i]), `${fixture.name} memory ${i}`));
    const first = ZooLayers.tensor.sliceTime(query, 0, 1);
    const valueMask = tensor(fixture.calls[1].value_mask);
    assertClose(layer.call(first, null, { memory, valueMask }), tensor(fixture.expected_memory_call), `${fixture.name} with memory`);
  });
}

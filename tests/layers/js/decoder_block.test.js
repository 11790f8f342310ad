// layers/js/decoder_block.js against layers/decoder_block.py: the target and source
// padding masks (given, or as Keras masks), and decoding through its cache.
"use strict";
const { test } = require("node:test");
const { ZooLayers, cases, tensor, assertClose, build } = require("./_helpers.js");

for (const fixture of cases("decoder_block")) {
  test(fixture.name, () => {
    const block = build(ZooLayers.DecoderBlock, fixture);
    const [target, source] = [tensor(fixture.inputs), tensor(fixture.encoder_outputs)];
    fixture.calls.forEach((call, index) => {
      const options = {
        paddingMask: tensor(call.padding_mask),
        encoderPaddingMask: tensor(call.encoder_padding_mask),
        encoderOutputsMask: tensor(call.encoder_outputs_mask),
      };
      assertClose(block.call(target, source, options), tensor(call.expected), `${fixture.name} call ${index}`);
    });
    let cache = block.initCache(2, fixture.max_length, source);
    const encoderPaddingMask = tensor(fixture.cache_encoder_padding_mask);
    for (const step of fixture.steps) {
      let outputs;
      [outputs, cache] = block.call(tensor(step.inputs), null, { cache, cacheIndex: step.index, encoderPaddingMask });
      assertClose(outputs, tensor(step.expected), `${fixture.name} cached at ${step.index}`);
      const flat = [cache[0][0], cache[0][1], cache[1][0], cache[1][1]];
      flat.forEach((buffer, i) => assertClose(buffer, tensor(step.expected_cache[i]), `${fixture.name} cache ${i} at ${step.index}`));
    }
  });
}

// DecoderBlock: the JavaScript twin of layers/decoder_block.py (pre-norm, as in an
// encoder-decoder translator). A TransformerBlock with a cross-attention sub-block
// between its two:
//
//   x = x + self_attention(layer_norm(x))             # causal
//   x = x + cross_attention(layer_norm(x), source)    # the encoder's outputs, padding hidden
//   x = x + feed_forward(layer_norm(x))
//
// Weights: TransformerBlock's 16, then cross_attention_norm gamma, beta and the 8 of
// CrossAttention. The cache (initCache(batch, maxLength, encoderOutputs)) is
// [[keyCache, valueCache], memory]: the self-attention's buffers and the projected source.
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (typeof module === "object" && typeof require === "function") {
    if (!Z.TransformerBlock) require("./transformer_block.js");
    if (!Z.CrossAttention) require("./cross_attention.js");
  }
  const T = Z.tensor;

  class DecoderBlock extends Z.TransformerBlock {
    build(modelDim) {
      super.build(modelDim);
      this.crossAttentionNorm = new Z.LayerNormalization({ name: "cross_attention_norm", epsilon: this.layerNormEpsilon });
      this.crossAttention = new Z.CrossAttention({
        name: "cross_attention",
        num_heads: this.numHeads,
        key_dim: this.attention.keyDim,
        output_dim: modelDim,
      });
    }

    sublayers() {
      return super.sublayers().concat([
        [this.crossAttentionNorm, 2],
        [this.crossAttention, 8],
      ]);
    }

    initCache(batchSize, maxLength, encoderOutputs) {
      return [super.initCache(batchSize, maxLength), this.crossAttention.precompute(encoderOutputs)];
    }

    /**
     * inputs (batch, target_time, d_model); encoderOutputs (batch, source_time, encoder_dim), or null
     * with options.cache; options: paddingMask, encoderPaddingMask, useCausalMask (default true),
     * cache, cacheIndex, mask, encoderOutputsMask. Returns outputs, or [outputs, cache] with a cache.
     */
    call(inputs, encoderOutputs = null, options = {}) {
      const { useCausalMask = true, cache = null, cacheIndex = null } = options;
      if ((cache === null) === (encoderOutputs === null)) {
        throw new Error(`DecoderBlock ${this.name}: pass either encoderOutputs or a cache from initCache`);
      }
      let paddingMask = options.paddingMask || null;
      if (paddingMask === null && cache === null) paddingMask = options.mask || null;
      const encoderPaddingMask = options.encoderPaddingMask || options.encoderOutputsMask || null;
      const [selfCache, memory] = cache === null ? [null, null] : cache;

      let [outputs, updatedSelfCache] = this.selfAttentionSublayer(inputs, paddingMask, useCausalMask, selfCache, cacheIndex);
      const normalized = this.crossAttentionNorm.call(outputs);
      const attended = this.crossAttention.call(normalized, encoderOutputs, {
        queryMask: paddingMask,
        valueMask: encoderPaddingMask,
        memory,
      });
      outputs = this.feedForwardSublayer(T.add(outputs, attended));
      return cache === null ? outputs : [outputs, [updatedSelfCache, memory]];
    }
  }

  /**
   * The cross-attention probabilities (batch, heads, target_time, source_time): which source
   * tokens each target token reads. Same options as call, without a cache. (JavaScript only:
   * for the page's alignment maps.)
   */
  DecoderBlock.prototype.crossAttentionScores = function (inputs, encoderOutputs, options = {}) {
    const paddingMask = options.paddingMask || options.mask || null;
    const encoderPaddingMask = options.encoderPaddingMask || options.encoderOutputsMask || null;
    const useCausalMask = options.useCausalMask === undefined ? true : options.useCausalMask;
    const [outputs] = this.selfAttentionSublayer(inputs, paddingMask, useCausalMask, null, null);
    const normalized = this.crossAttentionNorm.call(outputs);
    const [, scores] = this.crossAttention.call(normalized, encoderOutputs, {
      queryMask: paddingMask,
      valueMask: encoderPaddingMask,
      returnAttentionScores: true,
    });
    return scores;
  };

  Z.DecoderBlock = DecoderBlock;
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

// TransformerBlock: the JavaScript twin of layers/transformer_block.py (pre-norm, as in GPT-2).
//
//   x = x + attention(layer_norm(x))
//   x = x + feed_forward(layer_norm(x)),  feed_forward(x) = Dense(d_model)(activation(Dense(ff_dim)(x)))
//
// (Dropout is the identity at inference.) Weights, in Python's order:
// attention_norm gamma, beta; the 8 of SelfAttention; feed_forward_norm gamma, beta;
// feed_forward_hidden kernel, bias; feed_forward_output kernel, bias.
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (typeof module === "object" && typeof require === "function") {
    if (!Z.SelfAttention) require("./self_attention.js");
    if (!Z.Dense) require("./dense.js");
    if (!Z.LayerNormalization) require("./keras.js");
  }
  const T = Z.tensor;

  class TransformerBlock {
    /** `config`: num_heads, ff_dim, key_dim, activation, layer_norm_epsilon, name (as in Python). */
    constructor(config) {
      this.name = config.name || "transformer_block";
      this.numHeads = config.num_heads;
      this.ffDim = config.ff_dim;
      this.keyDim = config.key_dim === undefined ? null : config.key_dim;
      this.activation = config.activation || "gelu";
      this.layerNormEpsilon = config.layer_norm_epsilon === undefined ? 1e-5 : config.layer_norm_epsilon;
      if (typeof this.activation !== "string" || !(this.activation in T.ELEMENTWISE)) {
        throw new Error(`TransformerBlock ${this.name}: activation ${JSON.stringify(this.activation)} has no JavaScript twin`);
      }
    }

    /** Makes the sub-layers once d_model (the size of the input's last axis) is known. */
    build(modelDim) {
      const keyDim = this.keyDim === null ? Math.floor(modelDim / this.numHeads) : this.keyDim;
      const norm = (name) => new Z.LayerNormalization({ name, epsilon: this.layerNormEpsilon });
      this.modelDim = modelDim;
      this.attentionNorm = norm("attention_norm");
      this.attention = new Z.SelfAttention({ name: "attention", num_heads: this.numHeads, key_dim: keyDim });
      this.feedForwardNorm = norm("feed_forward_norm");
      this.feedForwardHidden = new Z.Dense({ name: "feed_forward_hidden", units: this.ffDim });
      this.feedForwardOutput = new Z.Dense({ name: "feed_forward_output", units: modelDim });
    }

    /** The sub-layers, in the order their weights come in `setWeights`, with how many each takes. */
    sublayers() {
      return [
        [this.attentionNorm, 2],
        [this.attention, 8],
        [this.feedForwardNorm, 2],
        [this.feedForwardHidden, 2],
        [this.feedForwardOutput, 2],
      ];
    }

    setWeights(weights) {
      this.build(weights[0].shape[0]); // attention_norm's gamma: (d_model,)
      let offset = 0;
      const needed = this.sublayers().reduce((sum, [, count]) => sum + count, 0);
      if (weights.length !== needed) throw new Error(`${this.constructor.name} ${this.name}: expected ${needed} weights, got ${weights.length}`);
      for (const [layer, count] of this.sublayers()) {
        layer.setWeights(weights.slice(offset, offset + count));
        offset += count;
      }
      return this;
    }

    initCache(batchSize, maxLength) {
      return this.attention.initCache(batchSize, maxLength);
    }

    /**
     * inputs (batch, time, d_model); options: paddingMask, useCausalMask, cache, cacheIndex, mask.
     * Returns outputs, or [outputs, cache] with a cache.
     */
    call(inputs, options = {}) {
      const { useCausalMask = false, cache = null, cacheIndex = null } = options;
      let paddingMask = options.paddingMask || null;
      if (paddingMask === null && cache === null) paddingMask = options.mask || null;
      const [attended, updatedCache] = this.selfAttentionSublayer(inputs, paddingMask, useCausalMask, cache, cacheIndex);
      const outputs = this.feedForwardSublayer(attended);
      return cache === null ? outputs : [outputs, updatedCache];
    }

    /**
     * The attention probabilities (batch, heads, time, time) of this block for `inputs`: its own
     * norm and attention with return_attention_scores, as recipes/_transformer.py's
     * attention_weights draws them. (JavaScript only: for the page's attention maps.)
     */
    attentionScores(inputs, options = {}) {
      const paddingMask = options.paddingMask || options.mask || null;
      const normalized = this.attentionNorm.call(inputs);
      const [, scores] = this.attention.call(normalized, { paddingMask, useCausalMask: Boolean(options.useCausalMask), returnAttentionScores: true });
      return scores;
    }

    /** x + attention(layer_norm(x)); returns [outputs, cache or null]. */
    selfAttentionSublayer(inputs, paddingMask, useCausalMask, cache, cacheIndex) {
      const normalized = this.attentionNorm.call(inputs);
      let attended = this.attention.call(normalized, { paddingMask, useCausalMask, cache, cacheIndex });
      let updatedCache = null;
      if (cache !== null) [attended, updatedCache] = attended;
      return [T.add(inputs, attended), updatedCache];
    }

    /** x + feed_forward(layer_norm(x)). */
    feedForwardSublayer(inputs) {
      const normalized = this.feedForwardNorm.call(inputs);
      const hidden = T.activate(this.feedForwardHidden.call(normalized), this.activation);
      return T.add(inputs, this.feedForwardOutput.call(hidden));
    }
  }

  Z.TransformerBlock = TransformerBlock;
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

// CrossAttention: the JavaScript twin of layers/cross_attention.py. Queries come
// from one sequence (the decoder's tokens), keys and values from another (the
// encoder's outputs). It is SelfAttention with the three inputs told apart: the
// projections and the masked softmax are SelfAttention's own code.
//
//   Q_h = X_query W_q[h],  K_h = X_key W_k[h],  V_h = X_value W_v[h]
//   head_h = softmax(Q_h K_h^T / sqrt(key_dim) + mask) V_h
//   outputs = sum_h head_h W_o[h]
//
// valueMask (batch, key_time) hides padded source tokens; queryMask (batch, query_time)
// zeroes a padded query's row of probabilities. precompute(value, key) projects the
// fixed source once; call(query, null, {memory}) reuses it for every new token.
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (!Z.SelfAttention && typeof module === "object" && typeof require === "function") require("./self_attention.js");

  class CrossAttention extends Z.SelfAttention {
    /** [keys (batch, heads, key_time, key_dim), values (batch, heads, key_time, value_dim)]. */
    precompute(value, key = null) {
      key = key === null ? value : key;
      return [this.projectHeads(key, this.keyKernel, this.keyBias), this.projectHeads(value, this.valueKernel, this.valueBias)];
    }

    /**
     * query (batch, query_time, query_dim); value (batch, key_time, value_input_dim), or null with
     * options.memory; options: key, queryMask, valueMask, returnAttentionScores, memory.
     * Returns outputs (batch, query_time, output_dim), or [outputs, scores].
     */
    call(query, value = null, options = {}) {
      const { key = null, queryMask = null, valueMask = null, returnAttentionScores = false, memory = null } = options;
      if ((memory === null) === (value === null)) {
        throw new Error(`CrossAttention ${this.name}: pass either value (and optionally key) or memory from precompute`);
      }
      const projectedQuery = this.projectHeads(query, this.queryKernel, this.queryBias); // (batch, heads, q, key_dim)
      const [projectedKey, projectedValue] = memory === null ? this.precompute(value, key) : memory;
      const mask = queryMask === null && valueMask === null ? null : { queryMask, keyMask: valueMask }; // padded source tokens are never read
      const [outputs, probabilities] = this.attend(projectedQuery, projectedKey, projectedValue, mask, true);
      return returnAttentionScores ? [outputs, probabilities] : outputs;
    }
  }

  Z.CrossAttention = CrossAttention;
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

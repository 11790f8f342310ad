// SelfAttention: the JavaScript twin of layers/self_attention.py (multi-head
// scaled dot-product attention, with the causal and padding masks and a key/value cache).
//
//   Q_h = X W_q[h],  K_h = X W_k[h],  V_h = X W_v[h]
//   head_h = softmax(Q_h K_h^T / sqrt(key_dim) + mask) V_h
//   outputs = sum_h head_h W_o[h]
//
// Weights, in Python's order and keras.layers.MultiHeadAttention's shapes:
// query_kernel (d_model, heads, key_dim), query_bias (heads, key_dim), key_kernel,
// key_bias, value_kernel (d_model, heads, value_dim), value_bias (heads, value_dim),
// output_kernel (heads, value_dim, output_dim), output_bias (output_dim,).
//
// Masked logits are replaced by -1e9 before the softmax, as in Python, so a row
// whose every key is masked comes out uniform; with a padding mask (and no cache)
// the probabilities of masked positions are then set to zero, so a padded query's
// row is all zero.
//
// The cache: `initCache(batch, maxLength)` gives [keyCache, valueCache], zero
// buffers (batch, heads, maxLength, head_dim). `call(newTokens, {cache, cacheIndex})`
// writes the new keys and values at cacheIndex and lets each new token attend to
// the positions up to its own; it returns [outputs, updatedCache].
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (!Z.tensor && typeof module === "object" && typeof require === "function") require("./tensor.js");
  const T = Z.tensor;

  const MASKED_LOGIT = -1e9;

  class SelfAttention {
    /** `config`: num_heads, key_dim, value_dim, use_bias, output_dim, name (as in Python). */
    constructor(config) {
      this.name = config.name || "self_attention";
      this.numHeads = config.num_heads;
      this.keyDim = config.key_dim;
      this.valueDim = config.value_dim === null || config.value_dim === undefined ? this.keyDim : config.value_dim;
      this.useBias = config.use_bias !== false;
      this.outputDim = config.output_dim === undefined ? null : config.output_dim;
    }

    /** Weights as Python's layer.get_weights() (see the top of this file). */
    setWeights(weights) {
      const n = this.numHeads;
      const expected = [];
      for (const [name, headDim] of [["query", this.keyDim], ["key", this.keyDim], ["value", this.valueDim]]) {
        expected.push([`${name}_kernel`, [null, n, headDim]]);
        if (this.useBias) expected.push([`${name}_bias`, [n, headDim]]);
      }
      expected.push(["output_kernel", [n, this.valueDim, this.outputDim]]);
      if (this.useBias) expected.push(["output_bias", [this.outputDim]]);
      const checked = T.checkWeights(`${this.constructor.name} ${this.name}`, weights, expected);
      const next = () => checked.shift();
      const take = () => (this.useBias ? next() : null);
      [this.queryKernel, this.queryBias] = [next(), take()];
      [this.keyKernel, this.keyBias] = [next(), take()];
      [this.valueKernel, this.valueBias] = [next(), take()];
      [this.outputKernel, this.outputBias] = [next(), take()];
      return this;
    }

    initCache(batchSize, maxLength) {
      return [T.zeros([batchSize, this.numHeads, maxLength, this.keyDim]), T.zeros([batchSize, this.numHeads, maxLength, this.valueDim])];
    }

    /** (batch, time, d_model) -> (batch, heads, time, head_dim). */
    projectHeads(inputs, kernel, bias) {
      const [batch, time] = inputs.shape;
      const heads = kernel.shape[1];
      const headDim = kernel.shape[2];
      // (batch, time, d_model) @ (d_model, heads * head_dim) -> (batch, time, heads, head_dim)
      const projected = T.matmulLast(inputs, kernel, bias);
      const out = new Float32Array(projected.data.length);
      const data = projected.data;
      for (let b = 0; b < batch; b++) {
        for (let t = 0; t < time; t++) {
          for (let h = 0; h < heads; h++) {
            const from = ((b * time + t) * heads + h) * headDim;
            const to = ((b * heads + h) * time + t) * headDim;
            for (let d = 0; d < headDim; d++) out[to + d] = data[from + d];
          }
        }
      }
      return { shape: [batch, heads, time, headDim], data: out }; // (batch, heads, time, head_dim)
    }

    /**
     * The attention maths, shared with CrossAttention.
     * query (batch, heads, q, key_dim), key (batch, heads, k, key_dim), value (batch, heads, k, value_dim);
     * mask: null (nothing masked) or {queryMask (batch, q), keyMask (batch, k), causalOffset}, any of
     * them null: query i of sequence b may attend to key j when queryMask[b, i] and keyMask[b, j] are 1
     * and j <= i + causalOffset (the causal mask: offset 0, or the cache index of the first new token);
     * zeroMaskedRows: set masked probabilities to zero after the softmax.
     * Returns [outputs (batch, q, output_dim), probabilities (batch, heads, q, k)].
     */
    attend(query, key, value, mask, zeroMaskedRows) {
      const [batch, heads, queryTime, keyDim] = query.shape;
      const keyTime = key.shape[2];
      const valueDim = value.shape[3];
      const { queryMask = null, keyMask = null, causalOffset = null } = mask || {};
      const scale = Math.fround(1 / Math.sqrt(this.keyDim));
      const probabilities = new Float32Array(batch * heads * queryTime * keyTime);
      const mixed = new Float32Array(batch * queryTime * heads * valueDim); // (batch, q, heads, value_dim)
      const logits = new Float64Array(keyTime);
      const allowed = new Uint8Array(keyTime);
      const scaled = new Float64Array(keyDim);
      const sums = new Float64Array(valueDim);
      const [q, k, v] = [query.data, key.data, value.data];
      for (let b = 0; b < batch; b++) {
        for (let i = 0; i < queryTime; i++) {
          // Which keys query i may see: the same for every head.
          const queryAllowed = queryMask === null || Boolean(queryMask.data[b * queryTime + i]);
          let anyAllowed = false;
          for (let j = 0; j < keyTime; j++) {
            allowed[j] = queryAllowed && (keyMask === null || Boolean(keyMask.data[b * keyTime + j])) && (causalOffset === null || j <= i + causalOffset) ? 1 : 0;
            anyAllowed = anyAllowed || allowed[j] === 1;
          }
          if (zeroMaskedRows && !anyAllowed) continue; // a padded query: its probabilities and output stay zero
          for (let h = 0; h < heads; h++) {
            const keyBase = (b * heads + h) * keyTime;
            const queryRow = ((b * heads + h) * queryTime + i) * keyDim;
            for (let d = 0; d < keyDim; d++) scaled[d] = Math.fround(q[queryRow + d] * scale);
            let max = -Infinity;
            for (let j = 0; j < keyTime; j++) {
              if (allowed[j]) {
                let dot = 0;
                const keyRow = (keyBase + j) * keyDim;
                for (let d = 0; d < keyDim; d++) dot += scaled[d] * k[keyRow + d];
                logits[j] = Math.fround(dot);
              } else {
                logits[j] = MASKED_LOGIT; // as ops.where(mask, logits, -1e9) in Python
              }
              if (logits[j] > max) max = logits[j];
            }
            let total = 0;
            for (let j = 0; j < keyTime; j++) {
              logits[j] = Math.exp(logits[j] - max);
              total += logits[j];
            }
            const probabilityRow = ((b * heads + h) * queryTime + i) * keyTime;
            sums.fill(0);
            for (let j = 0; j < keyTime; j++) {
              const p = zeroMaskedRows && !allowed[j] ? 0 : Math.fround(logits[j] / total);
              probabilities[probabilityRow + j] = p;
              if (p === 0) continue;
              const valueRow = (keyBase + j) * valueDim;
              for (let d = 0; d < valueDim; d++) sums[d] += p * v[valueRow + d];
            }
            const out = ((b * queryTime + i) * heads + h) * valueDim;
            for (let d = 0; d < valueDim; d++) mixed[out + d] = sums[d];
          }
        }
      }
      // (batch, q, heads * value_dim) @ (heads * value_dim, output_dim) -> (batch, q, output_dim)
      const headsTensor = { shape: [batch, queryTime, heads * valueDim], data: mixed };
      const kernel = T.reshape(this.outputKernel, [heads * valueDim, -1]);
      const outputs = T.matmulLast(headsTensor, kernel, this.outputBias);
      return [outputs, { shape: [batch, heads, queryTime, keyTime], data: probabilities }];
    }

    /**
     * inputs (batch, time, d_model); options: paddingMask (batch, time) of 0/1, useCausalMask,
     * returnAttentionScores, cache and cacheIndex (see the top of this file), mask (the Keras
     * mask, used when paddingMask is absent).
     * Returns outputs, or [outputs, scores?, cache?] as the Python layer does.
     */
    call(inputs, options = {}) {
      const { useCausalMask = false, returnAttentionScores = false, cache = null, cacheIndex = null } = options;
      let paddingMask = options.paddingMask || null;
      let query = this.projectHeads(inputs, this.queryKernel, this.queryBias);
      let key = this.projectHeads(inputs, this.keyKernel, this.keyBias);
      let value = this.projectHeads(inputs, this.valueKernel, this.valueBias);
      let mask;
      let updatedCache = null;
      if (cache === null) {
        if (paddingMask === null) paddingMask = options.mask || null;
        // A padded token neither attends nor is attended to; causal: query i sees keys j <= i.
        mask = { queryMask: paddingMask, keyMask: paddingMask, causalOffset: useCausalMask ? 0 : null };
      } else {
        if (paddingMask !== null) throw new Error(`SelfAttention ${this.name}: paddingMask cannot be combined with cache`);
        if (cacheIndex === null || cacheIndex === undefined) throw new Error(`SelfAttention ${this.name}: cache was given without cacheIndex`);
        updatedCache = [writeAt(cache[0], key, cacheIndex), writeAt(cache[1], value, cacheIndex)];
        [key, value] = updatedCache;
        mask = { causalOffset: cacheIndex }; // key position <= query position, cacheIndex + i
      }
      const [outputs, probabilities] = this.attend(query, key, value, mask, paddingMask !== null && cache === null);
      const results = [outputs];
      if (returnAttentionScores) results.push(probabilities);
      if (cache !== null) results.push(updatedCache);
      return results.length === 1 ? results[0] : results;
    }
  }

  /** A copy of `buffer` (batch, heads, max_length, head_dim) with `values` written at position `index`. */
  function writeAt(buffer, values, index) {
    const [batch, heads, maxLength, headDim] = buffer.shape;
    const time = values.shape[2];
    if (index < 0 || index + time > maxLength) {
      throw new Error(`SelfAttention: cannot write ${time} new token(s) at cacheIndex=${index} into a cache of max_length ${maxLength}`);
    }
    const out = Float32Array.from(buffer.data);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        const from = (b * heads + h) * time * headDim;
        out.set(values.data.subarray(from, from + time * headDim), ((b * heads + h) * maxLength + index) * headDim);
      }
    }
    return { shape: buffer.shape.slice(), data: out };
  }

  Z.SelfAttention = SelfAttention;
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

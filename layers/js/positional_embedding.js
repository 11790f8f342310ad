// PositionalEmbedding: the JavaScript twin of layers/positional_embedding.py.
//
//   outputs[b, t] = token_embeddings[token_ids[b, t]] + position_embedding(start_position + t)
//
// The position part is a learned table `position_embeddings` (max_length, output_dim),
// or the fixed sinusoids of "Attention Is All You Need" (position: "sinusoidal"):
// PE[p, 2i] = sin(p / 10000^(2i / d)), PE[p, 2i + 1] = cos(p / 10000^(2i / d)).
// With mask_zero, id 0 is padding: computeMask gives the Keras mask ids != 0.
// `startPosition` lets cached generation embed one new token at position t.
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (!Z.tensor && typeof module === "object" && typeof require === "function") require("./tensor.js");
  const T = Z.tensor;

  const SINUSOID_BASE = 10000;

  class PositionalEmbedding {
    /** `config`: vocab_size, max_length, output_dim, position, mask_zero, name (as in Python). */
    constructor(config) {
      this.name = config.name || "positional_embedding";
      this.vocabSize = config.vocab_size;
      this.maxLength = config.max_length;
      this.outputDim = config.output_dim;
      this.position = config.position || "learned";
      this.maskZero = Boolean(config.mask_zero);
    }

    setWeights(weights) {
      const expected = [["token_embeddings", [this.vocabSize, this.outputDim]]];
      if (this.position === "learned") expected.push(["position_embeddings", [this.maxLength, this.outputDim]]);
      [this.tokenEmbeddings, this.positionEmbeddings = null] = T.checkWeights(`PositionalEmbedding ${this.name}`, weights, expected);
      return this;
    }

    /** The position embedding of `position`, dimension `d` (float32 sinusoids, as in Python). */
    positionValue(position, d) {
      if (this.position === "learned") return this.positionEmbeddings.data[position * this.outputDim + d];
      const even = d - (d % 2);
      const inverseWavelength = Math.fround(Math.pow(SINUSOID_BASE, Math.fround(-even / this.outputDim)));
      const angle = Math.fround(Math.fround(position) * inverseWavelength);
      return d % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }

    /** ids (batch, time) -> (batch, time, output_dim). `options.startPosition` defaults to 0. */
    call(ids, options = {}) {
      const start = options.startPosition || 0;
      const [batch, time] = ids.shape;
      if (start < 0 || start + time > this.maxLength) {
        throw new Error(
          `PositionalEmbedding ${this.name}: the sequence is too long: length ${time} starting at position ${start} ` +
            `ends at ${start + time}, but max_length is ${this.maxLength}`
        );
      }
      const d = this.outputDim;
      const out = new Float32Array(batch * time * d);
      for (let b = 0; b < batch; b++) {
        for (let t = 0; t < time; t++) {
          const id = ids.data[b * time + t];
          if (!(id >= 0 && id < this.vocabSize && Number.isInteger(id))) {
            throw new Error(`PositionalEmbedding ${this.name}: token id ${id} is outside [0, ${this.vocabSize})`);
          }
          const row = (b * time + t) * d;
          for (let j = 0; j < d; j++) {
            out[row + j] = this.tokenEmbeddings.data[id * d + j] + Math.fround(this.positionValue(start + t, j));
          }
        }
      }
      return { shape: [batch, time, d], data: out };
    }

    /** The Keras mask (batch, time): 1 for real tokens, 0 for padding; null without mask_zero. */
    computeMask(ids) {
      if (!this.maskZero) return null;
      return T.map(ids, (id) => (id !== 0 ? 1 : 0));
    }
  }

  Z.PositionalEmbedding = PositionalEmbedding;
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

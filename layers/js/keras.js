// The keras.layers the zoo's recipes put between its own layers, written for the page:
// InputLayer, Embedding, RNN, Bidirectional, Dropout, Reshape, Flatten, MaxPooling2D,
// GlobalAveragePooling1D, LayerNormalization, Concatenate.
//
// Each does at inference what its keras layer does (keras/src/layers/...), with the
// same config keys and weight order. Masks are tensors of 0/1 with shape (batch, time).
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (!Z.tensor && typeof module === "object" && typeof require === "function") require("./tensor.js");
  const T = Z.tensor;

  /** keras.layers.InputLayer: where a model's input enters; nothing to compute. */
  class InputLayer {
    constructor(config) {
      this.name = config.name;
      this.batchShape = config.batch_shape;
      this.dtype = config.dtype;
    }
    setWeights() {
      return this;
    }
  }

  /** keras.layers.Dropout: the identity at inference. */
  class Dropout {
    constructor(config) {
      this.name = config.name;
      this.rate = config.rate;
    }
    setWeights() {
      return this;
    }
    call(inputs) {
      return inputs;
    }
  }

  /** keras.layers.Embedding: row `id` of the table for each token id; mask_zero makes id 0 padding. */
  class Embedding {
    constructor(config) {
      this.name = config.name;
      this.inputDim = config.input_dim;
      this.outputDim = config.output_dim;
      this.maskZero = Boolean(config.mask_zero);
    }
    setWeights(weights) {
      [this.embeddings] = T.checkWeights(`Embedding ${this.name}`, weights, [["embeddings", [this.inputDim, this.outputDim]]]);
      return this;
    }
    /** ids (...) -> (..., output_dim). */
    call(ids) {
      const d = this.outputDim;
      const out = new Float32Array(ids.data.length * d);
      ids.data.forEach((id, index) => {
        if (!(id >= 0 && id < this.inputDim && Number.isInteger(id))) {
          throw new Error(`Embedding ${this.name}: token id ${id} is outside [0, ${this.inputDim})`);
        }
        out.set(this.embeddings.data.subarray(id * d, (id + 1) * d), index * d);
      });
      return { shape: ids.shape.concat([d]), data: out };
    }
    computeMask(ids) {
      return this.maskZero ? T.map(ids, (id) => (id !== 0 ? 1 : 0)) : null;
    }
  }

  /**
   * keras.layers.RNN: runs a cell (ZooLayers.RNNCell or LSTMCell) over the time axis.
   * At a masked step (mask 0) the states are carried over unchanged and the output
   * repeats the previous step's (zeros before the first real step), as keras does
   * with zero_output_for_mask=false. go_backwards reads the sequence from its end
   * and returns the outputs in that reversed order.
   */
  class RNN {
    /** `config`: return_sequences, return_state, go_backwards, zero_output_for_mask, name; `cell`: the cell. */
    constructor(config, cell) {
      this.name = config.name;
      this.cell = cell;
      this.returnSequences = Boolean(config.return_sequences);
      this.returnState = Boolean(config.return_state);
      this.goBackwards = Boolean(config.go_backwards);
      this.zeroOutputForMask = Boolean(config.zero_output_for_mask);
      if (config.stateful) throw new Error(`RNN ${this.name}: stateful RNNs have no JavaScript twin; use predict's step mode`);
    }
    setWeights(weights) {
      this.cell.setWeights(weights);
      return this;
    }
    /**
     * sequences (batch, time, features); options: initialState (array of (batch, units) tensors),
     * mask (batch, time). Returns output, or [output, ...final states] with return_state.
     */
    call(sequences, options = {}) {
      const { output, states } = this.run(sequences, options);
      return this.returnState ? [output].concat(states) : output;
    }
    /** The loop itself: {output (the sequence or the last step), states (the final states)}. */
    run(sequences, options = {}) {
      const [batch, time, features] = sequences.shape;
      const mask = options.mask || null;
      let states = options.initialState || this.cell.getInitialState(batch);
      const units = this.cell.units;
      let previous = T.zeros([batch, units]);
      const outputs = this.returnSequences ? new Float32Array(batch * time * units) : null;
      for (let step = 0; step < time; step++) {
        const t = this.goBackwards ? time - 1 - step : step;
        const inputs = { shape: [batch, features], data: new Float32Array(batch * features) };
        for (let b = 0; b < batch; b++) {
          inputs.data.set(sequences.data.subarray((b * time + t) * features, (b * time + t + 1) * features), b * features);
        }
        let [output, newStates] = this.cell.call(inputs, states);
        if (mask) {
          output = { shape: output.shape, data: Float32Array.from(output.data) };
          newStates = newStates.map((s) => ({ shape: s.shape, data: Float32Array.from(s.data) }));
          for (let b = 0; b < batch; b++) {
            if (mask.data[b * time + t]) continue;
            const keep = this.zeroOutputForMask ? new Float32Array(units) : previous.data.subarray(b * units, (b + 1) * units);
            output.data.set(keep, b * units);
            newStates.forEach((s, k) => s.data.set(states[k].data.subarray(b * units, (b + 1) * units), b * units));
          }
        }
        if (outputs) {
          for (let b = 0; b < batch; b++) outputs.set(output.data.subarray(b * units, (b + 1) * units), (b * time + step) * units);
        }
        previous = output;
        states = newStates;
      }
      return { output: outputs ? { shape: [batch, time, units], data: outputs } : previous, states };
    }
    /** keras: the output keeps the input's mask with return_sequences; states have none. */
    computeMask(inputs, mask) {
      const outputMask = this.returnSequences ? mask : null;
      return this.returnState ? [outputMask].concat(this.cell.stateSize.map(() => null)) : outputMask;
    }
  }

  /** keras.layers.Bidirectional: a forward RNN and one reading backwards, outputs merged. */
  class Bidirectional {
    /** `forward` and `backward` are ZooLayers.RNN (backward with go_backwards); `config`: merge_mode, name. */
    constructor(config, forward, backward) {
      this.name = config.name;
      this.mergeMode = config.merge_mode === undefined ? "concat" : config.merge_mode;
      this.forward = forward;
      this.backward = backward;
      this.returnSequences = forward.returnSequences;
      this.returnState = forward.returnState;
      if (this.mergeMode !== "concat" && this.mergeMode !== "sum" && this.mergeMode !== "ave" && this.mergeMode !== "mul") {
        throw new Error(`Bidirectional ${this.name}: merge_mode ${this.mergeMode} has no JavaScript twin`);
      }
    }
    /** The forward layer's weights, then the backward layer's. */
    setWeights(weights) {
      const half = weights.length / 2;
      this.forward.setWeights(weights.slice(0, half));
      this.backward.setWeights(weights.slice(half));
      return this;
    }
    call(sequences, options = {}) {
      const initialState = options.initialState || null;
      const half = initialState ? initialState.length / 2 : 0;
      let y = this.forward.call(sequences, { mask: options.mask, initialState: initialState ? initialState.slice(0, half) : null });
      let yReverse = this.backward.call(sequences, { mask: options.mask, initialState: initialState ? initialState.slice(half) : null });
      let states = [];
      if (this.returnState) {
        states = y.slice(1).concat(yReverse.slice(1));
        y = y[0];
        yReverse = yReverse[0];
      }
      if (this.returnSequences) yReverse = T.flipTime(yReverse);
      let output;
      if (this.mergeMode === "concat") output = T.concatenate([y, yReverse], -1);
      else {
        const combine = { sum: (a, b) => a + b, ave: (a, b) => (a + b) / 2, mul: (a, b) => a * b }[this.mergeMode];
        output = { shape: y.shape.slice(), data: y.data.map((value, i) => combine(value, yReverse.data[i])) };
      }
      return this.returnState ? [output].concat(states) : output;
    }
    /** keras: the merged output keeps the mask with return_sequences; only the first output gets one. */
    computeMask(inputs, mask) {
      if (Array.isArray(mask)) mask = mask[0];
      return this.returnSequences ? mask : null;
    }
  }

  /** keras.layers.Reshape: the same values with the batch axis kept and `target_shape` after it. */
  class Reshape {
    constructor(config) {
      this.name = config.name;
      this.targetShape = config.target_shape;
    }
    setWeights() {
      return this;
    }
    call(inputs) {
      return T.reshape(inputs, [inputs.shape[0]].concat(this.targetShape));
    }
  }

  /** keras.layers.Flatten: (batch, ...) -> (batch, everything else), row-major (channels last). */
  class Flatten {
    constructor(config) {
      this.name = config.name;
    }
    setWeights() {
      return this;
    }
    call(inputs) {
      return T.reshape(inputs, [inputs.shape[0], -1]);
    }
  }

  /** keras.layers.MaxPooling2D (channels last): the largest value of each pool_size window. */
  class MaxPooling2D {
    constructor(config) {
      const pair = (v) => (Array.isArray(v) ? v : [v, v]);
      this.name = config.name;
      this.poolSize = pair(config.pool_size);
      this.strides = pair(config.strides === null || config.strides === undefined ? config.pool_size : config.strides);
      this.padding = config.padding || "valid";
      if ((config.data_format || "channels_last") !== "channels_last") throw new Error(`MaxPooling2D ${this.name}: only channels_last`);
    }
    setWeights() {
      return this;
    }
    call(inputs) {
      const [batch, height, width, channels] = inputs.shape;
      const [ph, pw] = this.poolSize;
      const [sr, sc] = this.strides;
      let outH, outW, top = 0, left = 0;
      if (this.padding === "same") {
        outH = Math.ceil(height / sr);
        outW = Math.ceil(width / sc);
        top = Math.floor(Math.max((outH - 1) * sr + ph - height, 0) / 2);
        left = Math.floor(Math.max((outW - 1) * sc + pw - width, 0) / 2);
      } else {
        outH = Math.floor((height - ph) / sr) + 1;
        outW = Math.floor((width - pw) / sc) + 1;
      }
      const out = new Float32Array(batch * outH * outW * channels).fill(-Infinity);
      for (let b = 0; b < batch; b++)
        for (let i = 0; i < outH; i++)
          for (let j = 0; j < outW; j++)
            for (let r = 0; r < ph; r++) {
              const y = i * sr + r - top;
              if (y < 0 || y >= height) continue;
              for (let c = 0; c < pw; c++) {
                const x = j * sc + c - left;
                if (x < 0 || x >= width) continue;
                const from = ((b * height + y) * width + x) * channels;
                const to = ((b * outH + i) * outW + j) * channels;
                for (let k = 0; k < channels; k++) if (inputs.data[from + k] > out[to + k]) out[to + k] = inputs.data[from + k];
              }
            }
      return { shape: [batch, outH, outW, channels], data: out };
    }
  }

  /** keras.layers.GlobalAveragePooling1D (channels last): the mean over time, of the real steps only with a mask. */
  class GlobalAveragePooling1D {
    constructor(config) {
      this.name = config.name;
      this.keepdims = Boolean(config.keepdims);
      if ((config.data_format || "channels_last") !== "channels_last") throw new Error(`GlobalAveragePooling1D ${this.name}: only channels_last`);
    }
    setWeights() {
      return this;
    }
    /** inputs (batch, time, features); options.mask (batch, time) -> (batch, features). */
    call(inputs, options = {}) {
      const [batch, time, features] = inputs.shape;
      const mask = options.mask || null;
      const out = new Float32Array(batch * features);
      for (let b = 0; b < batch; b++) {
        const sums = new Float64Array(features);
        let count = 0;
        for (let t = 0; t < time; t++) {
          if (mask && !mask.data[b * time + t]) continue;
          count += 1;
          for (let f = 0; f < features; f++) sums[f] += inputs.data[(b * time + t) * features + f];
        }
        for (let f = 0; f < features; f++) out[b * features + f] = sums[f] / count;
      }
      return { shape: this.keepdims ? [batch, 1, features] : [batch, features], data: out };
    }
    computeMask() {
      return null;
    }
  }

  /** keras.layers.LayerNormalization over the last axis: (x - mean) / sqrt(variance + epsilon) * gamma + beta. */
  class LayerNormalization {
    constructor(config) {
      this.name = config.name;
      this.epsilon = config.epsilon === undefined ? 1e-3 : config.epsilon;
      this.center = config.center !== false;
      this.scale = config.scale !== false;
      this.rmsScaling = Boolean(config.rms_scaling);
      const axis = config.axis === undefined ? [-1] : [].concat(config.axis);
      if (axis.length !== 1 || axis[0] !== -1) throw new Error(`LayerNormalization ${this.name}: only axis=-1 has a JavaScript twin`);
    }
    /** [gamma, beta], as keras builds them (gamma only with scale, beta only with center). */
    setWeights(weights) {
      const expected = [];
      if (this.scale) expected.push(["gamma", [null]]);
      if (this.center) expected.push(["beta", [null]]);
      const checked = T.checkWeights(`LayerNormalization ${this.name}`, weights, expected);
      this.gamma = this.scale ? checked.shift() : null;
      this.beta = this.center ? checked.shift() : null;
      return this;
    }
    call(inputs) {
      const n = inputs.shape[inputs.shape.length - 1];
      const out = new Float32Array(inputs.data.length);
      for (let offset = 0; offset < inputs.data.length; offset += n) {
        let mean = 0;
        for (let j = 0; j < n; j++) mean += inputs.data[offset + j];
        mean /= n;
        let variance = 0;
        for (let j = 0; j < n; j++) {
          const centered = inputs.data[offset + j] - mean;
          variance += centered * centered;
        }
        variance /= n;
        if (this.rmsScaling) {
          // keras: x * rsqrt(mean(x^2) + epsilon) * gamma (no centering)
          let meanSquare = 0;
          for (let j = 0; j < n; j++) meanSquare += inputs.data[offset + j] * inputs.data[offset + j];
          const inverse = 1 / Math.sqrt(meanSquare / n + this.epsilon);
          for (let j = 0; j < n; j++) out[offset + j] = inputs.data[offset + j] * inverse * (this.gamma ? this.gamma.data[j] : 1);
          continue;
        }
        const inverse = 1 / Math.sqrt(variance + this.epsilon);
        for (let j = 0; j < n; j++) {
          const scaled = (inputs.data[offset + j] - mean) * inverse * (this.gamma ? this.gamma.data[j] : 1);
          out[offset + j] = scaled + (this.beta ? this.beta.data[j] : 0);
        }
      }
      return { shape: inputs.shape.slice(), data: out };
    }
  }

  /** keras.layers.Concatenate: joins a list of tensors along `axis` (default -1). */
  class Concatenate {
    constructor(config) {
      this.name = config.name;
      this.axis = config.axis === undefined ? -1 : config.axis;
    }
    setWeights() {
      return this;
    }
    call(inputs) {
      return T.concatenate(inputs, this.axis);
    }
    /** keras: a step is masked out only where every input's mask is 0 (no mask counts as all 1). */
    computeMask(inputs, masks) {
      if (!masks || masks.every((m) => !m)) return null;
      const [batch, time] = inputs[0].shape;
      const out = new Float32Array(batch * time).fill(0);
      inputs.forEach((input, index) => {
        const mask = masks[index];
        for (let i = 0; i < batch * time; i++) if (!mask || mask.data[i]) out[i] = 1;
      });
      return { shape: [batch, time], data: out };
    }
  }

  Object.assign(Z, { InputLayer, Dropout, Embedding, RNN, Bidirectional, Reshape, Flatten, MaxPooling2D, GlobalAveragePooling1D, LayerNormalization, Concatenate });
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

// RNNCell: the JavaScript twin of layers/rnn_cell.py (lecture 2's vanilla recurrent cell).
//
//   h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)
//
// One step: call(inputs (batch, input_dim), [h (batch, units)]) -> [h_t, [h_t]].
// ZooLayers.RNN (keras.js) runs it over a sequence, as keras.layers.RNN does.
// gradient_clip changes only the backward pass, so it has no twin here;
// state_clip bounds the state in the forward pass and is applied.
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (!Z.tensor && typeof module === "object" && typeof require === "function") require("./tensor.js");
  const T = Z.tensor;

  class RNNCell {
    /** `config`: units, activation, use_bias, state_clip, name (as in Python). */
    constructor(config) {
      this.name = config.name || "rnn_cell";
      this.units = config.units;
      this.activation = config.activation || "linear";
      this.useBias = config.use_bias !== false;
      this.stateClip = config.state_clip === undefined ? null : config.state_clip;
      this.stateSize = [this.units];
    }

    setWeights(weights) {
      const u = this.units;
      const expected = [["kernel", [null, u]], ["recurrent_kernel", [u, u]]];
      if (this.useBias) expected.push(["bias", [u]]);
      [this.kernel, this.recurrentKernel, this.bias = null] = T.checkWeights(`RNNCell ${this.name}`, weights, expected);
      return this;
    }

    getInitialState(batchSize) {
      return [T.zeros([batchSize, this.units])];
    }

    call(inputs, states) {
      // (batch, input_dim) @ (input_dim, units) + (batch, units) @ (units, units)
      let preActivation = T.add(T.matmulLast(inputs, this.kernel, this.bias), T.matmulLast(states[0], this.recurrentKernel, null));
      let state = T.activate(preActivation, this.activation);
      if (this.stateClip !== null) {
        const s = this.stateClip;
        state = T.map(state, (v) => Math.min(s, Math.max(-s, v)));
      }
      return [state, [state]];
    }
  }

  Z.RNNCell = RNNCell;
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

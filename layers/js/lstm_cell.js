// LSTMCell: the JavaScript twin of layers/lstm_cell.py (lecture 2's long short-term memory).
//
// From x_t and h_{t-1}, four dense layers z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias,
// whose last axis holds the gates in keras's order (input, forget, candidate, output):
//
//   f = sigmoid(z_f)   forget what no longer matters in c_{t-1}
//   i = sigmoid(z_i)   which new information to store
//   g = tanh(z_g)      the new information
//   c_t = f * c_{t-1} + i * g
//   o = sigmoid(z_o);  h_t = o * tanh(c_t)
//
// One step: call(inputs (batch, input_dim), [h, c]) -> [h_t, [h_t, c_t]].
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (!Z.tensor && typeof module === "object" && typeof require === "function") require("./tensor.js");
  const T = Z.tensor;

  class LSTMCell {
    /** `config`: units, activation, recurrent_activation, use_bias, name (as in Python). */
    constructor(config) {
      this.name = config.name || "lstm_cell";
      this.units = config.units;
      this.activation = config.activation || "linear";
      this.recurrentActivation = config.recurrent_activation || "sigmoid";
      this.useBias = config.use_bias !== false;
      this.stateSize = [this.units, this.units];
    }

    setWeights(weights) {
      const u = this.units;
      const expected = [["kernel", [null, 4 * u]], ["recurrent_kernel", [u, 4 * u]]];
      if (this.useBias) expected.push(["bias", [4 * u]]);
      [this.kernel, this.recurrentKernel, this.bias = null] = T.checkWeights(`LSTMCell ${this.name}`, weights, expected);
      return this;
    }

    getInitialState(batchSize) {
      return [T.zeros([batchSize, this.units]), T.zeros([batchSize, this.units])];
    }

    call(inputs, states) {
      const [previousHidden, previousCell] = states;
      const u = this.units;
      // (batch, input_dim) @ (input_dim, 4u) + (batch, units) @ (units, 4u)
      const z = T.add(T.matmulLast(inputs, this.kernel, this.bias), T.matmulLast(previousHidden, this.recurrentKernel, null));
      const gate = T.ELEMENTWISE[this.recurrentActivation];
      const activation = T.ELEMENTWISE[this.activation];
      const batch = inputs.shape[0];
      const hidden = new Float32Array(batch * u);
      const cell = new Float32Array(batch * u);
      for (let b = 0; b < batch; b++) {
        const row = b * 4 * u; // four (units,) blocks: input, forget, candidate, output
        for (let j = 0; j < u; j++) {
          const inputGate = gate(z.data[row + j]); // store: which new information to keep
          const forgetGate = gate(z.data[row + u + j]); // forget: what to drop from c_{t-1}
          const candidate = activation(z.data[row + 2 * u + j]); // the new information
          const outputGate = gate(z.data[row + 3 * u + j]); // output: what part of the memory to show
          const c = Math.fround(forgetGate * previousCell.data[b * u + j] + inputGate * candidate); // update
          cell[b * u + j] = c;
          hidden[b * u + j] = outputGate * activation(c);
        }
      }
      const h = { shape: [batch, u], data: hidden };
      return [h, [h, { shape: [batch, u], data: cell }]];
    }
  }

  Z.LSTMCell = LSTMCell;
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

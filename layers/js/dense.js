// Dense: the JavaScript twin of layers/dense.py (the perceptron of lecture 1).
//
//   output = activation(inputs @ kernel + bias)
//
// Weights, in the order of the Python layer's `layer.weights`: kernel
// (input_dim, units), then bias (units,) when use_bias. The hard activations
// "step" and "sign" give the same forward values as in Python; their
// straight-through gradient does not matter here (nothing trains in the page).
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (!Z.tensor && typeof module === "object" && typeof require === "function") require("./tensor.js");
  const T = Z.tensor;

  class Dense {
    /** `config` holds the Python layer's get_config() keys: units, activation, use_bias, name. */
    constructor(config) {
      this.name = config.name || "dense";
      this.units = config.units;
      this.activation = config.activation || "linear";
      this.useBias = config.use_bias !== false;
      this.kernel = null;
      this.bias = null;
    }

    /** Weights as Python's layer.get_weights(): [kernel, bias]. */
    setWeights(weights) {
      const expected = [["kernel", [null, this.units]]];
      if (this.useBias) expected.push(["bias", [this.units]]);
      [this.kernel, this.bias = null] = T.checkWeights(`Dense ${this.name}`, weights, expected);
      return this;
    }

    /** inputs (..., input_dim) -> (..., units). */
    call(inputs) {
      // (..., input_dim) @ (input_dim, units) -> (..., units)
      const preActivation = T.matmulLast(inputs, this.kernel, this.bias);
      return T.activate(preActivation, this.activation);
    }
  }

  Z.Dense = Dense;
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

// Conv2D: the JavaScript twin of layers/conv2d.py. A convolution is one small
// Dense layer applied to every (kh, kw, channels) window of the image:
//
//   patches = every window, flattened in (row, column, channel) order   # (batch, out_h, out_w, kh*kw*channels)
//   output  = activation(patches @ kernel + bias)                        # (batch, out_h, out_w, filters)
//
// "same" padding pads as TensorFlow does (the odd pixel goes to the bottom and
// right), so out = ceil(in / stride); "valid" gives out = floor((in - k) / stride) + 1.
// Channels last. Weights: kernel (kh, kw, in_channels, filters), bias (filters,).
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (!Z.tensor && typeof module === "object" && typeof require === "function") require("./tensor.js");
  const T = Z.tensor;

  const pair = (value) => (Array.isArray(value) ? value.slice() : [value, value]);

  class Conv2D {
    /** `config`: filters, kernel_size, strides, padding, activation, use_bias, name (as in Python). */
    constructor(config) {
      this.name = config.name || "conv2d";
      this.filters = config.filters;
      this.kernelSize = pair(config.kernel_size);
      this.strides = pair(config.strides === undefined ? 1 : config.strides);
      this.padding = config.padding || "valid";
      this.activation = config.activation || "linear";
      this.useBias = config.use_bias !== false;
    }

    setWeights(weights) {
      const [kh, kw] = this.kernelSize;
      const expected = [["kernel", [kh, kw, null, this.filters]]];
      if (this.useBias) expected.push(["bias", [this.filters]]);
      [this.kernel, this.bias = null] = T.checkWeights(`Conv2D ${this.name}`, weights, expected);
      return this;
    }

    outputSize(height, width) {
      return [height, width].map((size, axis) => {
        const kernel = this.kernelSize[axis];
        const stride = this.strides[axis];
        return this.padding === "same" ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
      });
    }

    /** Every window of the (zero-padded) input, flattened: (batch, out_h, out_w, kh*kw*channels). */
    patches(inputs) {
      const [batch, height, width, channels] = inputs.shape;
      const [kh, kw] = this.kernelSize;
      const [sr, sc] = this.strides;
      const [outH, outW] = this.outputSize(height, width);
      if (outH < 1 || outW < 1) throw new Error(`Conv2D ${this.name}: a ${kh}x${kw} kernel does not fit a ${height}x${width} input`);
      let top = 0;
      let left = 0;
      if (this.padding === "same") {
        top = Math.floor(Math.max((outH - 1) * sr + kh - height, 0) / 2);
        left = Math.floor(Math.max((outW - 1) * sc + kw - width, 0) / 2);
      }
      const depth = kh * kw * channels;
      const out = new Float32Array(batch * outH * outW * depth);
      for (let b = 0; b < batch; b++) {
        for (let i = 0; i < outH; i++) {
          for (let j = 0; j < outW; j++) {
            const base = ((b * outH + i) * outW + j) * depth;
            for (let row = 0; row < kh; row++) {
              const y = i * sr + row - top;
              for (let column = 0; column < kw; column++) {
                const x = j * sc + column - left;
                if (y < 0 || y >= height || x < 0 || x >= width) continue; // zero padding
                const from = ((b * height + y) * width + x) * channels;
                out.set(inputs.data.subarray(from, from + channels), base + (row * kw + column) * channels);
              }
            }
          }
        }
      }
      return { shape: [batch, outH, outW, depth], data: out };
    }

    /** inputs (batch, height, width, channels) -> (batch, out_h, out_w, filters). */
    call(inputs) {
      const patches = this.patches(inputs); // (batch, out_h, out_w, kh * kw * channels)
      // (kh, kw, channels, filters) viewed as (kh * kw * channels, filters), rows in the patches' order
      const weights = T.reshape(this.kernel, [-1, this.filters]);
      return T.activate(T.matmulLast(patches, weights, this.bias), this.activation);
    }
  }

  Z.Conv2D = Conv2D;
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

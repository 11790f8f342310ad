// The tensors the JavaScript layers pass around, and the few operations they share.
//
// A tensor is a plain object {shape: [d0, d1, ...], data: Float32Array}, stored
// row-major (the last axis varies fastest), as numpy and keras store theirs.
// Token ids and masks are tensors too: ids as floats (exact up to 2**24), masks
// as 0/1. Sums are accumulated in float64 (JavaScript numbers) and each result
// is stored as float32, as the Python layers' float32 tensors are.
//
// Works as a classic browser <script> (it attaches to globalThis.ZooLayers)
// and from node (`require("./tensor.js")` returns the same ZooLayers object).
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});

  function size(shape) {
    let count = 1;
    for (const dim of shape) count *= dim;
    return count;
  }

  /** A tensor of `shape`; `data` is copied into a Float32Array (zeros when absent). */
  function tensor(shape, data) {
    const count = size(shape);
    let values;
    if (data === undefined) values = new Float32Array(count);
    else if (data instanceof Float32Array) values = data;
    else values = Float32Array.from(data);
    if (values.length !== count) {
      throw new Error(`tensor: shape [${shape}] holds ${count} values, but ${values.length} were given`);
    }
    return { shape: shape.slice(), data: values };
  }

  function zeros(shape) {
    return tensor(shape);
  }

  /** A tensor from nested arrays, e.g. fromNested([[1, 2], [3, 4]]) has shape [2, 2]. */
  function fromNested(nested) {
    const shape = [];
    let level = nested;
    while (Array.isArray(level)) {
      shape.push(level.length);
      level = level[0];
    }
    return tensor(shape, nested.flat(Infinity));
  }

  /** The same values viewed with another shape (no copy); -1 stands for the rest. */
  function reshape(x, shape) {
    const known = shape.filter((dim) => dim !== -1);
    const filled = shape.map((dim) => (dim === -1 ? x.data.length / size(known) : dim));
    if (size(filled) !== x.data.length) {
      throw new Error(`reshape: cannot view [${x.shape}] (${x.data.length} values) as [${shape}]`);
    }
    return { shape: filled, data: x.data };
  }

  /** Applies `fn` to every value: a new tensor of the same shape. */
  function map(x, fn) {
    const out = new Float32Array(x.data.length);
    for (let i = 0; i < out.length; i++) out[i] = fn(x.data[i]);
    return { shape: x.shape.slice(), data: out };
  }

  // Each kernel's transpose (m, n), made on first use and kept with the kernel's values,
  // so that every output is one contiguous dot product.
  const TRANSPOSED = new WeakMap();

  function transposed(kernel, n, m) {
    let out = TRANSPOSED.get(kernel.data);
    if (!out) {
      out = new Float32Array(n * m);
      for (let k = 0; k < n; k++) for (let j = 0; j < m; j++) out[j * n + k] = kernel.data[k * m + j];
      TRANSPOSED.set(kernel.data, out);
    }
    return out;
  }

  /**
   * `inputs @ kernel + bias` over the last axis: (..., n) @ (n, m) -> (..., m).
   * `kernel` is a tensor of shape (n, m) (or any shape whose first axis is n and
   * whose other axes flatten to m), `bias` a tensor of m values, or null.
   */
  function matmulLast(inputs, kernel, bias) {
    const n = inputs.shape[inputs.shape.length - 1];
    const m = kernel.data.length / kernel.shape[0];
    if (kernel.shape[0] !== n) {
      throw new Error(`matmul: the input's last axis is ${n} but the kernel has ${kernel.shape[0]} rows`);
    }
    const rows = inputs.data.length / n;
    const out = new Float32Array(rows * m);
    const x = inputs.data;
    const w = transposed(kernel, n, m); // (m, n)
    const b = bias ? bias.data : null;
    for (let r = 0; r < rows; r++) {
      const xo = r * n;
      for (let j = 0; j < m; j++) {
        const wo = j * n;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0; // four running sums, in float64
        let k = 0;
        for (; k + 3 < n; k += 4) {
          s0 += x[xo + k] * w[wo + k];
          s1 += x[xo + k + 1] * w[wo + k + 1];
          s2 += x[xo + k + 2] * w[wo + k + 2];
          s3 += x[xo + k + 3] * w[wo + k + 3];
        }
        for (; k < n; k++) s0 += x[xo + k] * w[wo + k];
        out[r * m + j] = (b ? b[j] : 0) + (s0 + s1 + (s2 + s3));
      }
    }
    return { shape: inputs.shape.slice(0, -1).concat([m]), data: out };
  }

  /** Element-wise a + b for two tensors of the same shape. */
  function add(a, b) {
    if (a.data.length !== b.data.length) throw new Error(`add: shapes [${a.shape}] and [${b.shape}] differ`);
    const out = new Float32Array(a.data.length);
    for (let i = 0; i < out.length; i++) out[i] = a.data[i] + b.data[i];
    return { shape: a.shape.slice(), data: out };
  }

  /** Concatenates tensors along `axis` (negative counts from the end). */
  function concatenate(tensors, axis) {
    const rank = tensors[0].shape.length;
    if (axis < 0) axis += rank;
    const outer = size(tensors[0].shape.slice(0, axis));
    const widths = tensors.map((t) => size(t.shape.slice(axis)));
    const total = widths.reduce((a, b) => a + b, 0);
    const out = new Float32Array(outer * total);
    for (let o = 0; o < outer; o++) {
      let offset = o * total;
      tensors.forEach((t, index) => {
        const width = widths[index];
        out.set(t.data.subarray(o * width, (o + 1) * width), offset);
        offset += width;
      });
    }
    const shape = tensors[0].shape.slice();
    shape[axis] = tensors.reduce((sum, t) => sum + t.shape[axis], 0);
    return { shape, data: out };
  }

  /** Positions [start, start + length) of axis 1 of a (batch, time, ...) tensor. */
  function sliceTime(x, start, length) {
    const [batch, time] = x.shape;
    const inner = size(x.shape.slice(2));
    const out = new Float32Array(batch * length * inner);
    for (let b = 0; b < batch; b++) {
      out.set(x.data.subarray((b * time + start) * inner, (b * time + start + length) * inner), b * length * inner);
    }
    return { shape: [batch, length].concat(x.shape.slice(2)), data: out };
  }

  /** Reverses axis 1 of a (batch, time, ...) tensor. */
  function flipTime(x) {
    const [batch, time] = x.shape;
    const inner = size(x.shape.slice(2));
    const out = new Float32Array(x.data.length);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < time; t++) {
        out.set(x.data.subarray((b * time + t) * inner, (b * time + t + 1) * inner), (b * time + (time - 1 - t)) * inner);
      }
    }
    return { shape: x.shape.slice(), data: out };
  }

  // ------------------------------------------------------------ activations

  // erf(x) to double precision: its Maclaurin series near 0, and the continued
  // fraction of erfc further out (JavaScript has no Math.erf).
  function erf(x) {
    const sign = x < 0 ? -1 : 1;
    const a = Math.abs(x);
    if (a > 6) return sign;
    if (a < 2.5) {
      let term = a;
      let sum = a;
      for (let n = 1; n < 100; n++) {
        term *= (-a * a) / n;
        const next = term / (2 * n + 1);
        sum += next;
        if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
      }
      return (sign * 2 * sum) / Math.sqrt(Math.PI);
    }
    // erfc(a) = exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...))))).
    let fraction = a;
    for (let k = 60; k >= 1; k--) fraction = a + k / 2 / fraction;
    const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction;
    return sign * (1 - erfc);
  }

  function sigmoid(x) {
    return 1 / (1 + Math.exp(-x));
  }

  // The element-wise activations of layers/dense.py, layers/rnn_cell.py,
  // layers/lstm_cell.py and the feed-forward network of layers/transformer_block.py.
  const ELEMENTWISE = {
    linear: (x) => x,
    relu: (x) => (x > 0 ? x : 0),
    sigmoid,
    tanh: Math.tanh,
    hard_sigmoid: (x) => Math.min(1, Math.max(0, x / 6 + 0.5)), // keras 3: relu6(x + 3) / 6
    gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), // keras's gelu, approximate=False
    step: (x) => (x >= 0 ? 1 : 0), // Heaviside; 0 counts as "on" (layers/dense.py)
    sign: (x) => (x >= 0 ? 1 : -1),
  };

  /** softmax over the last axis, computed in float64 with the max subtracted. */
  function softmaxLast(x) {
    const n = x.shape[x.shape.length - 1];
    const out = new Float32Array(x.data.length);
    const row = new Float64Array(n);
    for (let offset = 0; offset < x.data.length; offset += n) {
      let max = -Infinity;
      for (let j = 0; j < n; j++) max = Math.max(max, x.data[offset + j]);
      let total = 0;
      for (let j = 0; j < n; j++) {
        row[j] = Math.exp(x.data[offset + j] - max);
        total += row[j];
      }
      for (let j = 0; j < n; j++) out[offset + j] = row[j] / total;
    }
    return { shape: x.shape.slice(), data: out };
  }

  /** Applies the activation called `name` ("softmax" acts over the last axis). */
  function activate(x, name) {
    if (name === null || name === undefined) name = "linear";
    if (name === "softmax") return softmaxLast(x);
    const fn = ELEMENTWISE[name];
    if (!fn) throw new Error(`unknown activation "${name}"; known: ${Object.keys(ELEMENTWISE).concat(["softmax"]).join(", ")}`);
    if (name === "linear") return x;
    return map(x, fn);
  }

  /** A weight list (tensors, or {shape, data} records) checked against the shapes a layer expects. */
  function checkWeights(layerName, weights, expected) {
    if (weights.length !== expected.length) {
      throw new Error(`${layerName}: expected ${expected.length} weights (${expected.map((e) => e[0]).join(", ")}), got ${weights.length}`);
    }
    return weights.map((weight, index) => {
      const [name, shape] = expected[index];
      const w = weight.data instanceof Float32Array ? weight : tensor(weight.shape, weight.data);
      if (shape && (w.shape.length !== shape.length || w.shape.some((dim, i) => shape[i] !== null && dim !== shape[i]))) {
        throw new Error(`${layerName}: weight ${name} has shape [${w.shape}], expected [${shape}]`);
      }
      return w;
    });
  }

  Z.tensor = {
    size,
    tensor,
    zeros,
    fromNested,
    reshape,
    map,
    matmulLast,
    add,
    concatenate,
    sliceTime,
    flipTime,
    erf,
    sigmoid,
    ELEMENTWISE,
    softmaxLast,
    activate,
    checkWeights,
  };
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

// The keras.ops a recipe may apply to symbolic tensors inside its functional model
// (recipes/forecast_lstm.py scales its window with `-`, `/` and ops.expand_dims), and
// the comparisons keras records for masks (Embedding's `ids != 0`). keras stores each
// as an operation node of the graph (class_name "Subtract", "TrueDivide", "GetItem", ...);
// ZooLayers.Model runs them with these functions. Numbers broadcast as numpy does.
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (!Z.tensor && typeof module === "object" && typeof require === "function") require("./tensor.js");
  const T = Z.tensor;

  const isTensor = (x) => x !== null && typeof x === "object" && x.data !== undefined && Array.isArray(x.shape);
  const asTensor = (x) => (isTensor(x) ? x : { shape: [], data: Float32Array.of(x) });

  /** numpy broadcasting of two tensors (or numbers) through the element-wise `fn`. */
  function broadcast(a, b, fn) {
    a = asTensor(a);
    b = asTensor(b);
    const rank = Math.max(a.shape.length, b.shape.length);
    const pad = (shape) => Array(rank - shape.length).fill(1).concat(shape);
    const sa = pad(a.shape);
    const sb = pad(b.shape);
    const shape = sa.map((dim, i) => {
      if (dim !== sb[i] && dim !== 1 && sb[i] !== 1) throw new Error(`cannot broadcast shapes [${a.shape}] and [${b.shape}]`);
      return Math.max(dim, sb[i]);
    });
    const strides = (s) => {
      const out = Array(rank).fill(0);
      let step = 1;
      for (let i = rank - 1; i >= 0; i--) {
        out[i] = s[i] === 1 ? 0 : step;
        step *= s[i];
      }
      return out;
    };
    const [stA, stB] = [strides(sa), strides(sb)];
    const out = new Float32Array(T.size(shape));
    const index = Array(rank).fill(0);
    for (let flat = 0; flat < out.length; flat++) {
      let ia = 0;
      let ib = 0;
      for (let i = 0; i < rank; i++) {
        ia += index[i] * stA[i];
        ib += index[i] * stB[i];
      }
      out[flat] = fn(a.data[ia], b.data[ib]);
      for (let i = rank - 1; i >= 0; i--) {
        if (++index[i] < shape[i]) break;
        index[i] = 0;
      }
    }
    return { shape, data: out };
  }

  const binary = (fn) => (args) => broadcast(args[0], args[1], fn);

  /** x[key] for a key of slices ({start, stop, step}) and integers on the leading axes. */
  function getItem(x, key) {
    const keys = Array.isArray(key) ? key : [key];
    let ranges = [];
    const dropped = [];
    x.shape.forEach((dim, axis) => {
      const k = keys[axis];
      if (k === undefined || k === null || (typeof k === "object" && k.all)) {
        ranges.push([0, dim, 1]);
      } else if (typeof k === "number") {
        const i = k < 0 ? k + dim : k;
        ranges.push([i, i + 1, 1]);
        dropped.push(axis);
      } else {
        const step = k.step === null || k.step === undefined ? 1 : k.step;
        if (step !== 1) throw new Error("GetItem: only slices with step 1 have a JavaScript twin");
        const clamp = (v, fallback) => (v === null || v === undefined ? fallback : Math.min(dim, Math.max(0, v < 0 ? v + dim : v)));
        ranges.push([clamp(k.start, 0), clamp(k.stop, dim), 1]);
      }
    });
    const shape = ranges.map(([start, stop]) => Math.max(0, stop - start));
    const out = new Float32Array(T.size(shape));
    const index = Array(shape.length).fill(0);
    const strides = x.shape.map((_, i) => T.size(x.shape.slice(i + 1)));
    for (let flat = 0; flat < out.length; flat++) {
      let from = 0;
      for (let i = 0; i < shape.length; i++) from += (ranges[i][0] + index[i]) * strides[i];
      out[flat] = x.data[from];
      for (let i = shape.length - 1; i >= 0; i--) {
        if (++index[i] < shape[i]) break;
        index[i] = 0;
      }
    }
    return { shape: shape.filter((_, axis) => !dropped.includes(axis)), data: out };
  }

  function expandDims(x, axis) {
    const shape = x.shape.slice();
    const position = axis < 0 ? shape.length + 1 + axis : axis;
    shape.splice(position, 0, 1);
    return { shape, data: x.data };
  }

  // class_name of the keras operation -> (positional args, kwargs, the operation's config) -> tensor.
  const OPERATIONS = {
    Add: binary((a, b) => a + b),
    Subtract: binary((a, b) => a - b),
    Multiply: binary((a, b) => a * b),
    TrueDivide: binary((a, b) => a / b),
    Divide: binary((a, b) => a / b),
    Maximum: binary((a, b) => Math.max(a, b)),
    Minimum: binary((a, b) => Math.min(a, b)),
    NotEqual: binary((a, b) => (a !== b ? 1 : 0)),
    Equal: binary((a, b) => (a === b ? 1 : 0)),
    Greater: binary((a, b) => (a > b ? 1 : 0)),
    Less: binary((a, b) => (a < b ? 1 : 0)),
    Negative: (args) => T.map(args[0], (v) => -v),
    Exp: (args) => T.map(args[0], Math.exp),
    Log: (args) => T.map(args[0], Math.log),
    Tanh: (args) => T.map(args[0], Math.tanh),
    Sigmoid: (args) => T.map(args[0], T.sigmoid),
    Relu: (args) => T.map(args[0], T.ELEMENTWISE.relu),
    Softmax: (args, kwargs, config) => {
      const axis = config.axis === undefined ? -1 : config.axis;
      if (axis !== -1 && axis !== args[0].shape.length - 1) throw new Error("Softmax: only the last axis has a JavaScript twin");
      return T.softmaxLast(args[0]);
    },
    ExpandDims: (args, kwargs, config) => expandDims(args[0], config.axis),
    GetItem: (args) => getItem(args[0], args[1]),
    Cast: (args, kwargs, config) => {
      const dtype = String(config.dtype || "float32");
      if (dtype === "bool") return T.map(args[0], (v) => (v !== 0 ? 1 : 0));
      if (dtype.startsWith("int") || dtype.startsWith("uint")) return T.map(args[0], Math.trunc);
      return args[0];
    },
  };

  Z.ops = { broadcast, getItem, expandDims, OPERATIONS, isTensor };
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

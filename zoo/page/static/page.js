// The page's runtime: window.zoo (the interface the tests drive) and the live cells.
//
// Every model runs through ZooLayers.Model (layers/js/model.js): the Keras functional graph of the
// shipped checkpoint, over its exported weights (models/NAME.js), with the zoo's layers written in
// JavaScript. Nothing here is fetched: the page opens from file://. Written for zoo/page/gallery.py.
(function () {
  "use strict";
  const L = globalThis.ZooLayers;
  const DATA = globalThis.ZOO_DATA;
  const EXPORTS = globalThis.ZOO_MODELS || {};

  // ------------------------------------------------------------------ tensors and models

  const tensor = (values, shape) => L.tensor.tensor(shape, Float32Array.from(values));
  const built = {};
  const model = (name) => {
    if (!built[name]) {
      if (!EXPORTS[name]) throw new Error(`zoo: no model named ${JSON.stringify(name)}; choose from ${zoo.models.join(", ")}`);
      built[name] = L.Model.fromExport(EXPORTS[name]);
    }
    return built[name];
  };
  const info = (name) => DATA.models[name];
  const isTokens = (name) => info(name).inputs[0].dtype.startsWith("int");
  const isTranslation = (name) => info(name).inputs.length === 2;

  // The model's outputs for one example (a batch of 1): the raw arrays, logits not probabilities.
  function forward(name, inputs, options) {
    return model(name).predict(inputs, options || {});
  }

  function lastRow(output) {
    // (1, T, V) -> the V values after the last position; (1, V) -> V values.
    const shape = output.shape;
    if (shape.length === 3) {
      const width = shape[2], start = (shape[1] - 1) * width;
      return Array.from(output.data.subarray(start, start + width));
    }
    return Array.from(output.data);
  }

  async function run(name, input) {
    const meta = info(name);
    if (!meta || !EXPORTS[name]) throw new Error(`zoo.run: no model named ${JSON.stringify(name)}`);
    if (isTranslation(name)) {
      const source = input.source, target = input.target;
      const out = forward(name, [tensor(source, [1, source.length]), tensor(target, [1, target.length])])[0];
      return lastRow(out);
    }
    if (isTokens(name)) {
      return lastRow(forward(name, [tensor(input, [1, input.length])])[0]);
    }
    const shape = meta.inputs[0].shape;
    const size = shape.reduce((a, b) => a * b, 1);
    if (input.length !== size) throw new Error(`zoo.run(${name}): expected ${size} numbers, got ${input.length}`);
    return Array.from(forward(name, [tensor(input, [1, ...shape])])[0].data);
  }

  // ------------------------------------------------------------------ translation

  // The corpus's tokens: a word (letters, accents included), one digit, or one punctuation mark
  // (datasets/translation.py's tokenize, in JavaScript).
  const TOKEN = /(?:(?![\d_])[\p{L}\p{M}\p{N}])+|\p{Nd}|[^\p{L}\p{M}\p{N}_\s]/gu;
  const tokenize = (text) => text.match(TOKEN) || [];

  function detokenize(tokens) {
    let text = "", previous = null;
    for (const token of tokens) {
      const glued = previous !== null && ([",", "-"].includes(token) || previous === "-" || (/^\d$/.test(token) && /^\d$/.test(previous)));
      text += previous === null || glued ? token : " " + token;
      previous = token;
    }
    return text;
  }

  const specials = (vocabulary) => ({pad: vocabulary.indexOf("<pad>"), start: vocabulary.indexOf("<start>"), end: vocabulary.indexOf("<end>")});

  function encodeSource(name, text) {
    const meta = info(name), vocabulary = meta.vocabulary, length = meta.extras.source_length;
    const tokens = tokenize(text);
    const unknown = tokens.filter((token) => vocabulary.indexOf(token) < 3);
    if (!tokens.length) throw new Error("type an English number or date written out, e.g. 'four thousand and twelve'");
    if (unknown.length) throw new Error(`words the model does not know: ${[...new Set(unknown)].join(", ")} (case matters)`);
    if (tokens.length > length) throw new Error(`${tokens.length} tokens: the model reads at most ${length}`);
    const ids = new Array(length).fill(0);
    tokens.forEach((token, index) => { ids[index] = vocabulary.indexOf(token); });
    return {ids, tokens};
  }

  // Greedy decoding: the whole graph runs again on the target so far, and the most probable next
  // token is appended, until <end> or the longest target the model was trained on.
  function greedy(name, sourceIds) {
    const meta = info(name), {start, end} = specials(meta.vocabulary);
    const target = [start], source = tensor(sourceIds, [1, sourceIds.length]), reuse = {};
    for (let step = 0; step < meta.extras.target_length; step++) {
      const logits = lastRow(forward(name, [source, tensor(target, [1, target.length])], {reuse})[0]);
      const chosen = argmax(logits);
      if (chosen === end || chosen === 0) break;
      target.push(chosen);
    }
    return target.slice(1);
  }

  async function translate(name, text) {
    if (!isTranslation(name)) throw new Error(`zoo.translate: ${name} is not a translation model`);
    const ids = greedy(name, encodeSource(name, text).ids);
    return detokenize(ids.map((id) => info(name).vocabulary[id]));
  }

  // ------------------------------------------------------------------ sampling

  // A small seeded generator (mulberry32): the same seed gives the same tune in this page.
  function random(seed) {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function argmax(values) {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }

  function softmax(values, temperature = 1) {
    const scaled = values.map((v) => v / temperature);
    const top = Math.max(...scaled);
    const exps = scaled.map((v) => Math.exp(v - top));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((v) => v / total);
  }

  function draw(probabilities, uniform) {
    let u = uniform(), index = 0;
    for (; index < probabilities.length - 1; index++) {
      u -= probabilities[index];
      if (u < 0) break;
    }
    return index;
  }

  // The prompt, then `length` characters, one at a time: the model keeps its state between calls
  // (the recurrent state, or the transformer's key/value cache), as the Python samplers do.
  async function generate(name, options = {}) {
    const meta = info(name);
    if (!meta || !isTokens(name) || meta.task !== "language_model") throw new Error(`zoo.generate: ${name} is not a language model`);
    const prompt = options.prompt ?? "X:1\n", length = options.length ?? 400;
    const temperature = options.temperature ?? 1, uniform = random(options.seed ?? 0);
    const vocabulary = meta.vocabulary;
    const ids = [...prompt].map((character) => vocabulary.indexOf(character));
    if (!prompt.length || ids.includes(-1)) throw new Error(`zoo.generate: the prompt has characters outside the model's vocabulary`);
    // A transformer sees at most `window` tokens (its position table): when its cache is full it
    // keeps the last window / 2 tokens, recomputes their keys and values, and goes on, as
    // recipes/_transformer.py's sampler does. A recurrent model carries its state forever.
    const window = model(name).maxLength, keep = window ? Math.max(1, Math.floor(window / 2)) : 0;
    let context = window ? ids.slice(-window) : ids;
    let state = {};
    let logits = lastRow(forward(name, [tensor(context, [1, context.length])], {state})[0]);
    let text = prompt;
    for (let step = 0; step < length; step++) {
      const id = draw(softmax(logits, temperature), uniform);
      text += vocabulary[id];
      if (step + 1 === length) break;
      if (window && context.length >= window) {
        context = context.slice(-keep);
        state = {};
        forward(name, [tensor(context, [1, context.length])], {state});
      }
      context.push(id);
      logits = lastRow(forward(name, [tensor([id], [1, 1])], {state})[0]);
    }
    return text;
  }

  const zoo = {models: Object.keys(EXPORTS).filter((name) => DATA.models[name]).sort(), run, translate, generate};
  zoo.ready = new Promise((resolve, reject) => {
    setTimeout(() => {
      try {
        const started = performance.now();
        zoo.models.forEach(model);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        setStatus(`${zoo.models.length} models loaded in ${seconds} s.`);
        resolve(zoo.models);
      } catch (error) {
        setStatus(`A model failed to load: ${error.message}`);
        reject(error);
      }
    }, 0);
  });
  globalThis.zoo = zoo;

  // ------------------------------------------------------------------ helpers for the cells

  function setStatus(text) {
    const status = document.getElementById("status");
    if (status) status.textContent = text;
  }

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function canvas(width, height, attributes = {}) {
    return element("canvas", {width, height, ...attributes});
  }

  // Blue for 0, white for 0.5, orange for 1.
  function diverging(p) {
    const a = [49, 130, 189], b = [255, 255, 255], c = [230, 85, 13];
    const [from, to, t] = p < 0.5 ? [a, b, p * 2] : [b, c, (p - 0.5) * 2];
    return from.map((v, i) => Math.round(v + (to[i] - v) * t));
  }

  function heat(value) { // 0..1 -> white..dark blue
    const v = Math.max(0, Math.min(1, value));
    return [Math.round(255 - 205 * v), Math.round(255 - 160 * v), Math.round(255 - 60 * v)];
  }

  function bars(container, labels, values, highlight) {
    container.replaceChildren(...labels.map((label, i) => element("div", {class: "bar" + (i === highlight ? " top" : "")},
      element("span", {class: "label", text: label}),
      element("span", {class: "fill", style: `width:${(100 * values[i]).toFixed(1)}%`}),
      element("span", {class: "value", text: values[i].toFixed(3)}))));
  }

  function sigmoid(x) { return 1 / (1 + Math.exp(-x)); }

  function failSafe(container, action) {
    return async (...args) => {
      try {
        await action(...args);
      } catch (error) {
        container.querySelector(".error")?.remove();
        container.append(element("p", {class: "error", text: error.message}));
      }
    };
  }

  // A heatmap of rows x columns values in [0, 1] with optional labels, on a canvas.
  function heatmap(values, rows, columns, {rowLabels = [], columnLabels = [], cell = 18, title = ""} = {}) {
    const left = rowLabels.length ? 90 : 4, top = columnLabels.length ? 70 : 4;
    const c = canvas(left + columns * cell + 4, top + rows * cell + 4, {title});
    const g = c.getContext("2d");
    for (let r = 0; r < rows; r++) for (let k = 0; k < columns; k++) {
      const [red, green, blue] = heat(values[r * columns + k]);
      g.fillStyle = `rgb(${red},${green},${blue})`;
      g.fillRect(left + k * cell, top + r * cell, cell, cell);
    }
    g.fillStyle = "#222";
    g.font = "11px sans-serif";
    g.textAlign = "right";
    rowLabels.forEach((label, r) => g.fillText(label, left - 4, top + r * cell + cell * 0.7));
    columnLabels.forEach((label, k) => {
      g.save();
      g.translate(left + k * cell + cell * 0.7, top - 4);
      g.rotate(-Math.PI / 2.5);
      g.textAlign = "left";
      g.fillText(label, 0, 0);
      g.restore();
    });
    return c;
  }

  // The values of one exported variable (a Float32Array), e.g. a Dense layer's kernel.
  function variable(name, layer, index) {
    const entry = EXPORTS[name].weights[layer][index];
    const bytes = Uint8Array.from(atob(entry.data), (ch) => ch.charCodeAt(0));
    return {shape: entry.shape, data: new Float32Array(bytes.buffer)};
  }

  const present = (...names) => names.filter((name) => EXPORTS[name] && DATA.models[name]);

  // ------------------------------------------------------------------ cell: gates

  // A single perceptron trained here on AND, OR or XOR (sigmoid, cross-entropy, plain gradient
  // descent), beside the shipped perceptron_gates, which has a hidden layer.
  function trainPerceptron(table, seed) {
    const uniform = random(seed);
    let w1 = uniform() - 0.5, w2 = uniform() - 0.5, b = 0;
    for (let step = 0; step < 3000; step++) {
      let g1 = 0, g2 = 0, gb = 0;
      for (const [[x1, x2], y] of table) {
        const error = sigmoid(w1 * x1 + w2 * x2 + b) - y; // d(cross-entropy)/d(logit)
        g1 += error * x1; g2 += error * x2; gb += error;
      }
      w1 -= 0.5 * g1; w2 -= 0.5 * g2; b -= 0.5 * gb;
    }
    return {w1, w2, b};
  }

  const GATES = {and: [[[0, 0], 0], [[0, 1], 0], [[1, 0], 0], [[1, 1], 1]],
    or: [[[0, 0], 0], [[0, 1], 1], [[1, 0], 1], [[1, 1], 1]],
    xor: [[[0, 0], 0], [[0, 1], 1], [[1, 0], 1], [[1, 1], 0]]};

  function drawUnitSquare(c, probability, lines) {
    const g = c.getContext("2d"), size = c.width, pad = 20, span = size - 2 * pad;
    const toX = (x) => pad + ((x + 0.25) / 1.5) * span, toY = (y) => pad + (1 - (y + 0.25) / 1.5) * span;
    const image = g.createImageData(size, size);
    for (let py = 0; py < size; py++) for (let px = 0; px < size; px++) {
      const x = ((px - pad) / span) * 1.5 - 0.25, y = (1 - (py - pad) / span) * 1.5 - 0.25;
      const [r, gr, b] = diverging(probability(x, y));
      const o = 4 * (py * size + px);
      image.data[o] = r; image.data[o + 1] = gr; image.data[o + 2] = b; image.data[o + 3] = 255;
    }
    g.putImageData(image, 0, 0);
    g.strokeStyle = "#333";
    g.lineWidth = 1;
    for (const {w1, w2, b} of lines) { // w1 x + w2 y + b = 0
      g.beginPath();
      if (Math.abs(w2) > 1e-6) {
        g.moveTo(toX(-0.25), toY(-(b + w1 * -0.25) / w2));
        g.lineTo(toX(1.25), toY(-(b + w1 * 1.25) / w2));
      } else {
        g.moveTo(toX(-b / w1), toY(-0.25));
        g.lineTo(toX(-b / w1), toY(1.25));
      }
      g.stroke();
    }
    return {toX, toY, g};
  }

  function truthTable(table, predict) {
    const rows = table.map(([[x1, x2], y]) => {
      const p = predict(x1, x2);
      return element("tr", {class: (p > 0.5) === (y === 1) ? "right" : "wrong"},
        element("td", {text: `${x1} ${x2}`}), element("td", {text: String(y)}), element("td", {text: p.toFixed(3)}));
    });
    return element("table", {class: "truth"}, element("tr", {}, element("th", {text: "x1 x2"}), element("th", {text: "target"}),
      element("th", {text: "p(1)"})), ...rows);
  }

  function cellGates(container) {
    const choose = element("select", {id: "gate"}, ...["and", "or", "xor"].map((gate) => element("option", {value: gate, text: gate.toUpperCase()})));
    const single = element("div", {class: "panel"}), shipped = element("div", {class: "panel"});
    container.append(element("p", {text: "A single perceptron, trained here on the gate you choose (3000 steps of gradient descent on the 4 rows): "}, choose),
      element("div", {class: "row"}, single, shipped));
    const show = () => {
      const table = GATES[choose.value], fit = trainPerceptron(table, 0);
      const predict = (x1, x2) => sigmoid(fit.w1 * x1 + fit.w2 * x2 + fit.b);
      const c = canvas(220, 220, {id: "gate-plane"});
      drawUnitSquare(c, predict, [fit]);
      const correct = table.filter(([[x1, x2], y]) => (predict(x1, x2) > 0.5) === (y === 1)).length;
      single.replaceChildren(element("h4", {text: `one perceptron, ${choose.value.toUpperCase()}: ${correct} of 4 rows right`}), c, truthTable(table, predict),
        element("p", {class: "note", text: `Its line: ${fit.w1.toFixed(2)}·x1 + ${fit.w2.toFixed(2)}·x2 + ${fit.b.toFixed(2)} = 0.`}));
    };
    choose.addEventListener("change", show);
    show();
    if (!present("perceptron_gates").length) return;
    zoo.ready.then(async () => {
      const gate = info("perceptron_gates").extras.gate || "xor";
      const table = GATES[gate] || GATES.xor;
      const grid = [];
      for (let i = 0; i <= 20; i++) for (let j = 0; j <= 20; j++) grid.push([-0.25 + 1.5 * j / 20, -0.25 + 1.5 * i / 20]);
      const values = new Map();
      for (const [x, y] of grid) values.set(`${x},${y}`, sigmoid((await run("perceptron_gates", [x, y]))[0]));
      const cache = {};
      const predictCached = (x1, x2) => {
        const key = `${x1},${x2}`;
        if (!(key in cache)) cache[key] = sigmoid(lastRow(forward("perceptron_gates", [tensor([x1, x2], [1, 2])])[0])[0]);
        return cache[key];
      };
      const kernel = variable("perceptron_gates", Object.keys(EXPORTS.perceptron_gates.weights)[0], 0);
      const bias = variable("perceptron_gates", Object.keys(EXPORTS.perceptron_gates.weights)[0], 1);
      const units = kernel.shape[1];
      const lines = [];
      for (let u = 0; u < units; u++) lines.push({w1: kernel.data[u], w2: kernel.data[units + u], b: bias.data[u]});
      const c = canvas(220, 220, {id: "gate-shipped"});
      drawUnitSquare(c, predictCached, lines);
      shipped.replaceChildren(element("h4", {text: `perceptron_gates (shipped, ${gate.toUpperCase()}, ${units} hidden units)`}), c,
        truthTable(table, predictCached),
        element("p", {class: "note", text: `The ${units} lines are its hidden units' own boundaries; the output unit combines them into a region no single line can make.`}));
    });
  }

  // ------------------------------------------------------------------ cell: decision boundary

  function cellBoundary(container) {
    if (!present("playground_mlp").length) return;
    const size = 320, c = canvas(size, size, {id: "boundary"}), readout = element("p", {id: "boundary-point", text: "Click the plane to classify a point."});
    container.append(c, readout);
    const [[x0, x1], [y0, y1]] = info("playground_mlp").extras.feature_range;
    const toData = (px, py) => [x0 + (px / size) * (x1 - x0), y1 - (py / size) * (y1 - y0)];
    const toPixel = (x, y) => [((x - x0) / (x1 - x0)) * size, ((y1 - y) / (y1 - y0)) * size];
    zoo.ready.then(() => {
      const g = c.getContext("2d"), step = 4, points = [];
      for (let py = 0; py < size; py += step) for (let px = 0; px < size; px += step) points.push(...toData(px + step / 2, py + step / 2));
      const logits = forward("playground_mlp", [tensor(points, [points.length / 2, 2])])[0].data;
      let k = 0;
      for (let py = 0; py < size; py += step) for (let px = 0; px < size; px += step) {
        const [r, gr, b] = diverging(sigmoid(logits[k++]));
        g.fillStyle = `rgb(${r},${gr},${b})`;
        g.fillRect(px, py, step, step);
      }
      const test = DATA.playground_test;
      test.points.forEach(([x, y], i) => {
        const [px, py] = toPixel(x, y);
        g.beginPath();
        g.arc(px, py, 3, 0, 2 * Math.PI);
        g.fillStyle = test.labels[i] ? "#a63603" : "#08519c";
        g.fill();
        g.strokeStyle = "white";
        g.stroke();
      });
      c.addEventListener("click", async (event) => {
        const box = c.getBoundingClientRect();
        const [x, y] = toData((event.clientX - box.left) * (size / box.width), (event.clientY - box.top) * (size / box.height));
        const p = sigmoid((await run("playground_mlp", [x, y]))[0]);
        readout.textContent = `(${x.toFixed(2)}, ${y.toFixed(2)}): class ${p > 0.5 ? 1 : 0}, p(1) = ${p.toFixed(3)}`;
      });
    });
  }

  // ------------------------------------------------------------------ cell: losses

  function cellLosses(container) {
    const names = present("binary_mlp", "regression_mlp");
    if (!names.length) return;
    const out = element("div", {id: "losses"});
    container.append(element("button", {id: "losses-go", text: "Recompute the test losses here"}), out);
    container.querySelector("button").addEventListener("click", failSafe(container, async () => {
      const rows = [];
      for (const name of names) {
        const split = DATA[`${name}_test`], meta = info(name);
        const width = split.inputs[0].length;
        const outputs = forward(name, [tensor(split.inputs.flat(), [split.inputs.length, width])])[0].data;
        let loss = 0, correct = 0;
        split.targets.forEach((y, i) => {
          const z = outputs[i];
          if (meta.task === "regression") loss += (z - y) ** 2;
          else {
            loss += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z))); // cross-entropy from the logit, stably
            correct += (z > 0) === (y === 1) ? 1 : 0;
          }
        });
        loss /= split.targets.length;
        const shipped = meta.shipped_metrics || {};
        rows.push(element("tr", {}, element("td", {text: name}), element("td", {text: meta.task === "regression" ? "mean squared error" : "binary cross-entropy"}),
          element("td", {class: "recomputed", text: loss.toFixed(4)}), element("td", {text: shipped.loss !== undefined ? shipped.loss.toFixed(4) : "–"}),
          element("td", {text: meta.task === "regression" ? "" : `accuracy ${(correct / split.targets.length).toFixed(3)}`})));
      }
      out.replaceChildren(element("table", {}, element("tr", {}, ...["model", "loss", "here", "the card (shipped seed)", ""].map((t) => element("th", {text: t}))), ...rows));
    }));
  }

  // ------------------------------------------------------------------ cell: gradient descent

  function cellDescent(container) {
    // A long, narrow valley: f(x, y) = (x^2 + 20 y^2) / 2. Plain SGD zigzags across it, momentum
    // rolls along it, Adam rescales each direction. Too large a learning rate diverges.
    const f = (x, y) => (x * x + 20 * y * y) / 2, grad = (x, y) => [x, 20 * y];
    const optimizer = element("select", {id: "descent-optimizer"}, ...["sgd", "momentum", "adam"].map((o) => element("option", {value: o, text: o})));
    const rate = element("input", {id: "descent-rate", type: "range", min: "-3", max: "0", step: "0.05", value: "-1.5"});
    const label = element("span"), c = canvas(360, 240, {id: "descent"}), readout = element("p", {class: "note"});
    container.append(element("p", {}, "optimizer ", optimizer, " learning rate ", rate, " ", label), c, readout);
    const show = () => {
      const lr = 10 ** Number(rate.value);
      label.textContent = lr.toPrecision(2);
      let [x, y] = [-4.5, 1.2], v = [0, 0], m = [0, 0], s = [0, 0];
      const path = [[x, y]];
      for (let t = 1; t <= 60; t++) {
        const g = grad(x, y);
        if (optimizer.value === "sgd") { x -= lr * g[0]; y -= lr * g[1]; }
        else if (optimizer.value === "momentum") { v = v.map((vi, i) => 0.9 * vi - lr * g[i]); x += v[0]; y += v[1]; }
        else {
          m = m.map((mi, i) => 0.9 * mi + 0.1 * g[i]); s = s.map((si, i) => 0.999 * si + 0.001 * g[i] * g[i]);
          const step = m.map((mi, i) => (mi / (1 - 0.9 ** t)) / (Math.sqrt(s[i] / (1 - 0.999 ** t)) + 1e-7));
          x -= lr * 10 * step[0]; y -= lr * 10 * step[1];
        }
        path.push([x, y]);
        if (!(f(x, y) < 1e6)) break; // Diverged (or NaN): the loss only grows from here.
      }
      const g = c.getContext("2d"), toPx = ([px, py]) => [((px + 5) / 10) * c.width, ((1.5 - py) / 3) * c.height];
      const image = g.createImageData(c.width, c.height);
      for (let j = 0; j < c.height; j++) for (let i = 0; i < c.width; i++) {
        const value = Math.log1p(f((i / c.width) * 10 - 5, 1.5 - (j / c.height) * 3)) / Math.log1p(f(5, 1.5));
        const [r, gr, b] = heat(value), o = 4 * (j * c.width + i);
        image.data[o] = r; image.data[o + 1] = gr; image.data[o + 2] = b; image.data[o + 3] = 255;
      }
      g.putImageData(image, 0, 0);
      g.strokeStyle = "#d94801"; g.lineWidth = 2; g.beginPath();
      path.forEach((point, i) => { const [px, py] = toPx(point); i ? g.lineTo(px, py) : g.moveTo(px, py); });
      g.stroke();
      const [lx, ly] = path[path.length - 1];
      readout.textContent = f(lx, ly) < 1e6
        ? `after ${path.length - 1} steps: loss ${f(lx, ly).toExponential(2)} (the minimum is 0 at the centre)`
        : `diverged after ${path.length - 1} steps: the learning rate is too large for the valley's steep side`;
    };
    optimizer.addEventListener("change", show);
    rate.addEventListener("input", show);
    show();
  }

  // ------------------------------------------------------------------ cell: digits

  function cellDigits(container) {
    const names = present("digits_mlp", "digits_cnn");
    if (!names.length) return;
    const cells = 8, size = 32;
    const pixels = new Array(cells * cells).fill(0); // 0..16, the data's own scale
    const grid = canvas(cells * size, cells * size, {id: "digit-grid", class: "grid"});
    const clear = element("button", {id: "digit-clear", text: "Clear"});
    const examples = element("select", {id: "digit-example"}, element("option", {value: "", text: "…or load a test digit"}),
      ...(DATA.digits_examples?.labels || []).map((label, i) => element("option", {value: String(i), text: `test digit ${i} (a ${label})`})));
    const answers = element("div", {class: "row"}, ...names.map((name) => element("div", {class: "panel", id: `digit-${name}`})));
    const maps = element("div", {id: "digit-maps"});
    container.append(element("div", {class: "row"}, element("div", {}, grid, element("p", {}, clear, " ", examples)), answers), maps);
    const paint = () => {
      const g = grid.getContext("2d");
      pixels.forEach((v, i) => {
        const shade = Math.round(255 * (1 - v / 16));
        g.fillStyle = `rgb(${shade},${shade},${shade})`;
        g.fillRect((i % cells) * size, Math.floor(i / cells) * size, size, size);
      });
      g.strokeStyle = "#ddd";
      for (let k = 0; k <= cells; k++) {
        g.beginPath(); g.moveTo(k * size, 0); g.lineTo(k * size, cells * size); g.stroke();
        g.beginPath(); g.moveTo(0, k * size); g.lineTo(cells * size, k * size); g.stroke();
      }
    };
    const classify = () => {
      const input = pixels.map((v) => v / 16);
      for (const name of names) {
        const probabilities = softmax(lastRow(forward(name, [tensor(input, [1, 64])])[0]));
        const panel = answers.querySelector(`#digit-${name}`);
        const best = argmax(probabilities);
        panel.replaceChildren(element("h4", {text: `${name}: ${best} (${probabilities[best].toFixed(2)})`}), element("div", {class: "bars"}));
        bars(panel.querySelector(".bars"), [..."0123456789"], probabilities, best);
        panel.dataset.answer = String(best);
      }
      if (names.includes("digits_cnn")) showMaps(input);
    };
    const showMaps = (input) => {
      const activations = model("digits_cnn").activations([tensor(input, [1, 64])]);
      const convs = Object.keys(activations).filter((layer) => /conv/.test(layer)).slice(0, 2);
      maps.replaceChildren();
      for (const layer of convs) {
        const value = activations[layer], [, h, w, channels] = value.shape;
        const shown = Math.min(channels, 16);
        let top = 1e-6;
        for (let i = 0; i < value.data.length; i++) top = Math.max(top, value.data[i]);
        const row = element("div", {class: "maps"});
        for (let ch = 0; ch < shown; ch++) {
          const map = new Array(h * w);
          for (let i = 0; i < h * w; i++) map[i] = value.data[i * channels + ch] / top;
          row.append(heatmap(map, h, w, {cell: 7, title: `${layer}, channel ${ch}`}));
        }
        maps.append(element("h4", {text: `digits_cnn's ${layer}: the first ${shown} of ${channels} feature maps for your drawing (${h}×${w}, after ReLU)`}), row);
      }
    };
    let drawing = false;
    const at = (event) => {
      const box = grid.getBoundingClientRect();
      const col = Math.floor(((event.clientX - box.left) / box.width) * cells), row = Math.floor(((event.clientY - box.top) / box.height) * cells);
      if (col < 0 || row < 0 || col >= cells || row >= cells) return;
      pixels[row * cells + col] = 16; // The stroke, at full ink ...
      for (const [dc, dr] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) { // ... with a soft edge, like the scanned digits
        const c2 = col + dc, r2 = row + dr;
        if (c2 >= 0 && r2 >= 0 && c2 < cells && r2 < cells) pixels[r2 * cells + c2] = Math.max(pixels[r2 * cells + c2], 5);
      }
      paint();
    };
    grid.addEventListener("mousedown", (event) => { drawing = true; at(event); });
    grid.addEventListener("mousemove", (event) => { if (drawing) at(event); });
    window.addEventListener("mouseup", () => { if (drawing) { drawing = false; zoo.ready.then(classify); } });
    clear.addEventListener("click", () => { pixels.fill(0); paint(); answers.querySelectorAll(".panel").forEach((p) => p.replaceChildren()); maps.replaceChildren(); });
    examples.addEventListener("change", () => {
      if (examples.value === "") return;
      DATA.digits_examples.pixels[Number(examples.value)].forEach((v, i) => { pixels[i] = v * 16; });
      paint();
      zoo.ready.then(classify);
    });
    paint();
  }

  // ------------------------------------------------------------------ sheet music and sound

  // abcjs's synth plays each note from a sound font it downloads; a page opened from file:// can
  // download nothing, so the notes it asks for under SOUND_FONT are made here: a plucked tone at the
  // note's pitch, written as a small WAV that abcjs decodes like any sample.
  const SOUND_FONT = "zoo-sound-font/";
  const NOTE = {C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11};
  function noteWav(noteName) {
    const match = /^([A-G])(b?)(-?\d+)$/.exec(noteName);
    const midi = match ? 12 * (Number(match[3]) + 1) + NOTE[match[1]] - (match[2] ? 1 : 0) : 69;
    const frequency = 440 * 2 ** ((midi - 69) / 12), rate = 22050, seconds = 1.5, count = Math.round(rate * seconds);
    const buffer = new ArrayBuffer(44 + 2 * count), view = new DataView(buffer);
    const text = (offset, s) => [...s].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
    text(0, "RIFF"); view.setUint32(4, 36 + 2 * count, true); text(8, "WAVE"); text(12, "fmt ");
    view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, rate, true); view.setUint32(28, 2 * rate, true); view.setUint16(32, 2, true); view.setUint16(34, 16, true);
    text(36, "data"); view.setUint32(40, 2 * count, true);
    for (let i = 0; i < count; i++) {
      const t = i / rate, envelope = Math.min(1, t * 200) * Math.exp(-3 * t);
      const value = envelope * (0.6 * Math.sin(2 * Math.PI * frequency * t) + 0.25 * Math.sin(4 * Math.PI * frequency * t) + 0.1 * Math.sin(6 * Math.PI * frequency * t));
      view.setInt16(44 + 2 * i, Math.round(value * 0.8 * 32767), true);
    }
    return buffer;
  }
  (function serveSoundFont() {
    const Original = globalThis.XMLHttpRequest;
    if (!Original) return;
    globalThis.XMLHttpRequest = class extends Original {
      open(method, url, ...rest) {
        this.zooNote = String(url).startsWith(SOUND_FONT) ? String(url).split("/").pop().replace(/\.mp3$/, "") : null;
        if (!this.zooNote) super.open(method, url, ...rest);
      }
      send(body) {
        if (!this.zooNote) return super.send(body);
        const response = noteWav(this.zooNote);
        Object.defineProperty(this, "status", {value: 200});
        Object.defineProperty(this, "response", {value: response});
        setTimeout(() => this.onload && this.onload(), 0);
      }
    };
  })();

  const ABC = globalThis.ABCJS;
  const MAX_SECONDS = 60;

  // The first tune of a sample: from its X: line to the blank line that ends it.
  function firstTune(text) {
    const start = text.indexOf("X:");
    const tune = start < 0 ? text : text.slice(start);
    const end = tune.search(/\n\s*\n/);
    return (end < 0 ? tune : tune.slice(0, end)).trim();
  }

  const seconds = (abc) => {
    const visual = ABC.renderAbc("*", abc)[0];
    if (!visual || !visual.lines || !visual.lines.length) return 0;
    visual.setTiming(); // The note timings at the tune's own tempo (its Q:, or abcjs's default).
    return visual.getTotalTime() || 0;
  };

  // A tune longer than a minute is cut at a bar line, so that every tune plays in about a minute.
  function capTune(abc) {
    let total = seconds(abc);
    if (total <= MAX_SECONDS) return {abc, seconds: total, cut: false};
    const lines = abc.split("\n"), header = [], body = [];
    for (const line of lines) (body.length === 0 && /^[A-Za-z]:/.test(line) ? header : body).push(line);
    let bars = body.join("\n").split("|");
    let keep = Math.max(1, Math.floor(bars.length * MAX_SECONDS / total));
    let cut = abc;
    for (; keep >= 1; keep = Math.floor(keep * 0.9)) {
      cut = header.join("\n") + "\n" + bars.slice(0, keep).join("|") + "|]";
      total = seconds(cut);
      if (total <= MAX_SECONDS) break;
    }
    return {abc: cut, seconds: total, cut: true};
  }

  function showTune(container, abc) {
    const paper = element("div", {class: "abc"});
    container.replaceChildren(paper);
    const visual = ABC.renderAbc(paper, abc, {responsive: "resize", add_classes: true})[0];
    return visual;
  }

  async function play(visual, button) {
    const synth = new ABC.synth.CreateSynth();
    await synth.init({visualObj: visual, options: {soundFontUrl: SOUND_FONT}});
    const primed = await synth.prime();
    synth.start();
    button.textContent = "Stop";
    button.onclick = () => { synth.stop(); button.textContent = "Play"; button.onclick = () => play(visual, button); };
    return primed;
  }

  // ------------------------------------------------------------------ cell: music

  function cellMusic(container) {
    const names = present("music_rnn", "music_lstm", "music_transformer");
    if (!names.length) return;
    const choose = element("select", {id: "music-model"}, ...names.map((name) => element("option", {value: name, text: name})));
    const temperature = element("input", {id: "music-temperature", type: "number", min: "0.1", max: "2", step: "0.1", value: "0.8"});
    const seed = element("input", {id: "music-seed", type: "number", min: "0", step: "1", value: "0"});
    const sample = element("button", {id: "music-sample", text: "Sample a tune"});
    const playButton = element("button", {id: "music-play", text: "Play", disabled: ""});
    const send = element("button", {id: "music-send", text: "What type of tune is it? (section 8)", disabled: ""});
    const sheet = element("div", {id: "music-sheet"}), about = element("p", {id: "music-about", class: "note"});
    container.append(element("p", {}, choose, " temperature ", temperature, " seed ", seed, " ", sample, " ", playButton, " ", send), about, sheet);
    let visual = null, tune = "";
    sample.addEventListener("click", failSafe(container, async () => {
      await zoo.ready;
      sample.disabled = true;
      about.textContent = "Sampling…";
      await new Promise((resolve) => setTimeout(resolve, 0));
      const started = performance.now();
      const text = await generate(choose.value, {prompt: "X:1\n", length: 600, temperature: Number(temperature.value), seed: Number(seed.value)});
      const ms = performance.now() - started;
      const capped = capTune(firstTune(text));
      tune = capped.abc;
      visual = showTune(sheet, tune);
      const notes = visual && visual.lines.length ? "" : " It has no notes abcjs can engrave: try another seed.";
      about.textContent = `${choose.value}, temperature ${temperature.value}, seed ${seed.value}: 600 characters in ${(ms / 1000).toFixed(1)} s; ` +
        `the first tune plays for ${capped.seconds.toFixed(0)} s${capped.cut ? ` (cut at a bar line to stay under ${MAX_SECONDS} s)` : ""}.${notes}`;
      sheet.dataset.seconds = capped.seconds.toFixed(2);
      sheet.dataset.abc = tune;
      playButton.disabled = Boolean(notes);
      send.disabled = false;
      sample.disabled = false;
    }));
    playButton.addEventListener("click", failSafe(container, async () => {
      if (!visual) return;
      const primed = await play(visual, playButton);
      sheet.dataset.played = String(primed && primed.duration !== undefined ? primed.duration : "yes");
    }));
    send.addEventListener("click", () => {
      const box = document.getElementById("tunetype-text");
      if (box) { box.value = tune; box.dispatchEvent(new Event("input")); box.scrollIntoView(); document.getElementById("tunetype-go").click(); }
    });
  }

  // ------------------------------------------------------------------ cell: attention

  const ATTENTION_TEXT = "X:1\nK:D\n|:dAFA dAFA|";

  function cellAttention(container) {
    if (!present("music_transformer").length) return;
    const box = element("textarea", {id: "attention-text", rows: "3", cols: "40"});
    box.value = ATTENTION_TEXT;
    const go = element("button", {id: "attention-go", text: "Show the attention"});
    const out = element("div", {id: "attention-maps", class: "row"});
    container.append(element("div", {class: "row"}, box, go), out);
    go.addEventListener("click", failSafe(container, async () => {
      await zoo.ready;
      const vocabulary = info("music_transformer").vocabulary, text = box.value.replace(/\\n/g, "\n");
      const ids = [...text].map((ch) => vocabulary.indexOf(ch));
      if (ids.includes(-1) || !ids.length) throw new Error("the text has characters music_transformer never saw; use ABC notation");
      const weights = {};
      forward("music_transformer", [tensor(ids, [1, ids.length])], {scores: weights});
      const labels = [...text].map((ch) => (ch === "\n" ? "⏎" : ch === " " ? "␣" : ch));
      out.replaceChildren();
      for (const [layer, value] of Object.entries(weights)) {
        const [, heads, queries, keys] = value.shape;
        for (let head = 0; head < heads; head++) {
          const map = Array.from(value.data.subarray(head * queries * keys, (head + 1) * queries * keys));
          out.append(element("figure", {}, heatmap(map, queries, keys, {rowLabels: labels, columnLabels: labels, cell: 12, title: `${layer} head ${head}`}),
            element("figcaption", {text: `${layer}, head ${head + 1}: row = the position asking, column = where it looks`})));
        }
      }
    }));
  }

  // ------------------------------------------------------------------ cell: tune type

  // A tune's note body, as datasets/irish.py's strip_headers makes it: header fields, comments and
  // inline fields removed; K: kept when the dataset kept it.
  function stripHeaders(tune, keepKey) {
    const kept = [];
    for (let line of tune.replace(/\r\n/g, "\n").split("\n")) {
      const stripped = line.trim();
      if (stripped.startsWith("%")) continue;
      if (/^[A-Za-z]:/.test(stripped) && !(keepKey && /^K:/.test(stripped))) continue;
      line = line.replace(/\[[A-JL-Za-z]:[^\]\n]*\]/g, "");
      if (!keepKey) line = line.replace(/\[K:[^\]\n]*\]/g, "");
      if (line.trim()) kept.push(line.replace(/\s+$/, ""));
    }
    return kept.join("\n").trim();
  }

  function encodeTune(name, tune) {
    const meta = info(name), vocabulary = meta.vocabulary, length = meta.extras.max_length;
    const body = stripHeaders(tune, meta.extras.keep_key !== false);
    const ids = new Array(length).fill(0);
    [...body].slice(0, length).forEach((ch, i) => { const id = vocabulary.indexOf(ch); ids[i] = id >= 2 ? id : 1; });
    return ids;
  }

  function cellTuneType(container) {
    const names = present("sentiment_lstm", "sentiment_transformer");
    if (!names.length) return;
    const box = element("textarea", {id: "tunetype-text", rows: "6", cols: "60"});
    box.value = "X:1\nT:The Kesh\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA|GAG GAB|ABA ABd|edd gdB|AGF G3:|";
    const go = element("button", {id: "tunetype-go", text: "Classify"});
    const out = element("div", {class: "row"}, ...names.map((name) => element("div", {class: "panel", id: `tunetype-${name}`})));
    container.append(element("div", {class: "row"}, box, go), out);
    go.addEventListener("click", failSafe(container, async () => {
      await zoo.ready;
      for (const name of names) {
        const ids = encodeTune(name, box.value);
        const probabilities = softmax(await run(name, ids));
        const best = argmax(probabilities);
        const panel = out.querySelector(`#tunetype-${name}`);
        panel.replaceChildren(element("h4", {text: `${name}: ${info(name).class_names[best]}`}), element("div", {class: "bars"}));
        bars(panel.querySelector(".bars"), info(name).class_names, probabilities, best);
        panel.dataset.answer = info(name).class_names[best];
      }
    }));
  }

  // ------------------------------------------------------------------ cell: translation

  // Attention over the source: a DecoderBlock's "NAME/cross_attention", or a CrossAttention layer.
  function isCrossAttention(name, key) {
    if (key.endsWith("/cross_attention")) return true;
    const spec = EXPORTS[name].graph.layers.find((layer) => layer.name === key);
    return Boolean(spec && spec.class_name === "CrossAttention");
  }

  function cellTranslate(container) {
    const names = present("translate_transformer", "translate_lstm_attention", "translate_lstm");
    if (!names.length) return;
    const text = element("input", {id: "translate-text", type: "text", size: "60", value: "Tuesday, March 3, 1987"});
    const examples = element("select", {id: "translate-example"}, element("option", {value: "", text: "…or a test sentence"}),
      ...(DATA.translation_examples || []).map((pair, i) => element("option", {value: String(i), text: pair.english})));
    const go = element("button", {id: "translate-go", text: "Translate"});
    const out = element("table", {id: "translate-out"}), map = element("div", {id: "translate-map"});
    container.append(element("p", {}, text, " ", go, " ", examples), out, map);
    examples.addEventListener("change", () => { if (examples.value !== "") { text.value = DATA.translation_examples[Number(examples.value)].english; go.click(); } });
    go.addEventListener("click", failSafe(container, async () => {
      await zoo.ready;
      container.querySelector(".error")?.remove();
      const rows = [element("tr", {}, element("th", {text: "model"}), element("th", {text: "Spanish (greedy)"}))];
      const reference = (DATA.translation_examples || []).find((pair) => pair.english === text.value);
      if (reference) rows.push(element("tr", {}, element("td", {text: "reference"}), element("td", {text: reference.spanish})));
      for (const name of names) {
        rows.push(element("tr", {}, element("td", {text: name}), element("td", {class: "spanish", "data-model": name, text: await translate(name, text.value)})));
      }
      out.replaceChildren(...rows);
      const withMap = names.filter((name) => name !== "translate_lstm");
      map.replaceChildren();
      for (const name of withMap) {
        const {ids, tokens} = encodeSource(name, text.value);
        const target = greedy(name, ids), {start} = specials(info(name).vocabulary);
        const weights = {};
        forward(name, [tensor(ids, [1, ids.length]), tensor([start, ...target], [1, target.length + 1])], {scores: weights});
        const entries = Object.entries(weights).filter(([layer]) => isCrossAttention(name, layer));
        if (!entries.length) continue;
        const [layer, value] = entries[entries.length - 1];
        const [, heads, queries, keys] = value.shape;
        const average = new Array(queries * tokens.length).fill(0);
        for (let h = 0; h < heads; h++) for (let q = 0; q < queries; q++) for (let k = 0; k < tokens.length; k++) {
          average[q * tokens.length + k] += value.data[(h * queries + q) * keys + k] / heads;
        }
        const targetLabels = target.map((id) => info(name).vocabulary[id]).concat(["<end>"]).slice(0, queries);
        map.append(element("figure", {}, heatmap(average.slice(0, targetLabels.length * tokens.length), targetLabels.length, tokens.length,
          {rowLabels: targetLabels, columnLabels: tokens, cell: 16, title: `${name} ${layer}`}),
        element("figcaption", {text: `${name}: where each Spanish word looked in the English (${layer}${heads > 1 ? `, mean of ${heads} heads` : ""})`})));
      }
    }));
  }

  // ------------------------------------------------------------------ cell: forecast

  function cellForecast(container) {
    const names = present("forecast_lstm", "forecast_hybrid");
    if (!names.length || !DATA.series) return;
    const series = DATA.series, [first, count] = series.origins.test;
    const choose = element("select", {id: "forecast-model"}, ...names.map((name) => element("option", {value: name, text: name})));
    const origin = element("input", {id: "forecast-origin", type: "range", min: String(first), max: String(first + count - 1), value: String(first)});
    const label = element("span"), c = canvas(720, 260, {id: "forecast"}), readout = element("p", {id: "forecast-readout", class: "note"});
    container.append(element("p", {}, choose, " forecast origin (a test month) ", origin, " ", label), c, readout);
    const show = () => {
      const name = choose.value, meta = info(name), window_ = meta.extras.window, horizon = meta.extras.horizon;
      const at = Number(origin.value), past = series.values.slice(at - window_, at);
      const predicted = Array.from(forward(name, [tensor(past, [1, window_])])[0].data);
      const actual = series.values.slice(at, at + horizon);
      const mae = actual.reduce((sum, v, i) => sum + Math.abs(v - predicted[i]), 0) / actual.length;
      label.textContent = series.dates[at];
      const from = Math.max(0, at - Math.max(60, window_)), to = Math.min(series.values.length, at + horizon + 12);
      const shown = series.values.slice(from, to).concat(predicted);
      const low = Math.min(...shown), high = Math.max(...shown);
      const g = c.getContext("2d"), toX = (i) => 40 + ((i - from) / (to - from)) * (c.width - 50), toY = (v) => 10 + (1 - (v - low) / (high - low)) * (c.height - 40);
      g.clearRect(0, 0, c.width, c.height);
      g.fillStyle = "#f0f0f0"; g.fillRect(toX(at - window_), 0, toX(at) - toX(at - window_), c.height - 25);
      const line = (points, color, width) => { g.strokeStyle = color; g.lineWidth = width; g.beginPath(); points.forEach(([i, v], k) => (k ? g.lineTo(toX(i), toY(v)) : g.moveTo(toX(i), toY(v)))); g.stroke(); };
      line(series.values.slice(from, to).map((v, k) => [from + k, v]), "#555", 1.5);
      line(predicted.map((v, k) => [at + k, v]), "#d94801", 2.5);
      g.fillStyle = "#222"; g.font = "11px sans-serif";
      g.fillText(`${high.toFixed(1)} ${meta.extras.unit || ""}`, 2, 14); g.fillText(`${low.toFixed(1)}`, 2, c.height - 30);
      g.fillText(series.dates[from], toX(from), c.height - 8); g.fillText(series.dates[to - 1], toX(to - 1) - 50, c.height - 8);
      readout.textContent = `grey: the ${series.name} series; shaded: the ${window_} months ${name} reads; orange: its ${horizon} months ahead ` +
        `from ${series.dates[at]}. Mean absolute error of this forecast: ${mae.toFixed(3)} ${meta.extras.unit || ""}.`;
      readout.dataset.mae = mae.toFixed(4);
    };
    origin.addEventListener("input", show);
    choose.addEventListener("change", show);
    zoo.ready.then(show);
  }

  // ------------------------------------------------------------------ training curves

  function drawCurves() {
    for (const c of document.querySelectorAll("canvas.curves")) {
      const curves = info(c.dataset.model).curves;
      if (!curves) continue;
      const g = c.getContext("2d"), runs = Object.entries(curves);
      const points = runs.flatMap(([, rows]) => rows.flatMap((row) => [row.loss, row.val_loss].filter((v) => isFinite(v))));
      const high = Math.max(...points), low = Math.min(...points), epochs = Math.max(...runs.map(([, rows]) => rows.length));
      const toX = (i) => 30 + (i / Math.max(1, epochs - 1)) * (c.width - 40), toY = (v) => 10 + (1 - (v - low) / (high - low || 1)) * (c.height - 30);
      runs.forEach(([seed, rows], r) => {
        for (const [key, dash] of [["loss", []], ["val_loss", [4, 3]]]) {
          g.setLineDash(dash); g.strokeStyle = ["#08519c", "#d94801", "#238b45"][r % 3]; g.beginPath();
          rows.forEach((row, i) => (i ? g.lineTo(toX(i), toY(row[key])) : g.moveTo(toX(i), toY(row[key]))));
          g.stroke();
        }
        g.setLineDash([]); g.fillStyle = ["#08519c", "#d94801", "#238b45"][r % 3]; g.fillText(`seed ${seed}`, c.width - 60, 14 + 12 * r);
      });
      g.fillStyle = "#222"; g.fillText("loss (solid: training, dashed: validation) by epoch", 30, c.height - 6);
    }
  }

  // ------------------------------------------------------------------ start

  const CELLS = {gates: cellGates, boundary: cellBoundary, losses: cellLosses, descent: cellDescent, digits: cellDigits,
    music: cellMusic, attention: cellAttention, tunetype: cellTuneType, translate: cellTranslate, forecast: cellForecast};
  for (const container of document.querySelectorAll(".cell[data-cell]")) CELLS[container.dataset.cell](container);
  drawCurves();
})();

// ZooLayers.Model: runs a Keras functional model in JavaScript, from the JSON that
// zoo/page/weights.py exports: {name, recipe, graph: model.get_config(), weights}.
//
//   const model = ZooLayers.Model.fromExport(ZOO_MODELS["digits_cnn"]);
//   const [logits] = model.predict([ZooLayers.tensor.tensor([1, 64], pixels)]);
//
// The graph is Keras 3's: every layer lists its inbound nodes, whose args and kwargs
// name the tensors they read as {"class_name": "__keras_tensor__", "config":
// {"keras_history": [layer, node, index]}}. predict() evaluates the nodes the outputs
// need, the way keras.Model.__call__ does, masks included: a tensor carries the mask
// its layer computed (Embedding(mask_zero) -> ids != 0); a layer whose call takes
// `mask` receives its input's mask (or `<arg>_mask` for each argument, when it takes
// several), and a layer that supports masking hands its mask on (compute_mask).
//
// Step mode, for sampling: predict(inputs, {state}) with a plain object `state` the
// caller keeps between calls. Each recurrent layer starts from the state it left
// there, each PositionalEmbedding continues from its position, and each causal
// TransformerBlock appends to its key/value cache; so feeding a prompt and then one
// token per call gives the logits a single call on the whole sequence gives. Only
// models with one input can step, and layers that need the whole sequence at once
// (Bidirectional, a non-causal attention, pooling over time) refuse.
(function (root) {
  "use strict";
  const Z = (root.ZooLayers = root.ZooLayers || {});
  if (typeof module === "object" && typeof require === "function") {
    for (const file of ["./tensor.js", "./ops.js", "./dense.js", "./conv2d.js", "./rnn_cell.js", "./lstm_cell.js", "./keras.js",
      "./positional_embedding.js", "./self_attention.js", "./cross_attention.js", "./transformer_block.js", "./decoder_block.js"]) {
      require(file);
    }
  }
  const T = Z.tensor;

  // ------------------------------------------------------------ weights

  /** The Float32Array in base64 of little-endian float32 bytes. */
  function decodeFloat32(base64) {
    let bytes;
    if (typeof atob === "function") {
      const text = atob(base64);
      bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    } else {
      bytes = Uint8Array.from(Buffer.from(base64, "base64"));
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }

  function weightTensor(record) {
    const data = typeof record.data === "string" ? decodeFloat32(record.data) : Float32Array.from(record.data);
    return T.tensor(record.shape, data);
  }

  // ------------------------------------------------------------ masks

  // A tensor's Keras mask, as keras keeps it on the tensor object itself (_keras_mask).
  const MASKS = new WeakMap();
  const maskOf = (x) => (x && typeof x === "object" && MASKS.has(x) ? MASKS.get(x) : null);
  const isTensor = (x) => x !== null && typeof x === "object" && !Array.isArray(x) && x.data !== undefined;
  const isTensorArgument = (x) =>
    isTensor(x) || (Array.isArray(x) && x.length > 0 && x.every((item) => item === null || isTensorArgument(item)) && x.some((item) => item !== null));
  const mapStructure = (x, fn) => (Array.isArray(x) ? x.map((item) => mapStructure(item, fn)) : fn(x));

  // ------------------------------------------------------------ layers

  function makeCell(spec) {
    const cells = { RNNCell: Z.RNNCell, SimpleRNNCell: Z.RNNCell, LSTMCell: Z.LSTMCell };
    const Cell = cells[spec.class_name];
    if (!Cell) throw new Error(`RNN cell ${spec.class_name} has no JavaScript twin (known: ${Object.keys(cells).join(", ")})`);
    return new Cell(spec.config);
  }

  function makeRNN(spec) {
    if (spec.class_name !== "RNN") throw new Error(`Bidirectional over ${spec.class_name} has no JavaScript twin; wrap a cell in keras.layers.RNN`);
    return new Z.RNN(spec.config, makeCell(spec.config.cell));
  }

  function growCache(cache, needed) {
    const [batch, heads, capacity, dim] = cache.shape;
    if (needed <= capacity) return cache;
    const bigger = T.zeros([batch, heads, Math.max(needed, 2 * capacity), dim]);
    for (let b = 0; b < batch * heads; b++) {
      bigger.data.set(cache.data.subarray(b * capacity * dim, (b + 1) * capacity * dim), b * bigger.shape[2] * dim);
    }
    return bigger;
  }

  function refuseStep(layerName, why) {
    throw new Error(`step mode: layer ${layerName} ${why}; call predict without {state} for this model`);
  }

  // How the runner calls each kind of layer, as keras.Layer.__call__ would:
  //   params:   the names of the Python call() arguments, in order (positional args bind to them);
  //   masking:  whether the layer hands a mask on (supports_masking);
  //   make:     spec -> the JavaScript layer;
  //   run:      (layer, bound arguments by name, context) -> output(s);
  //   computeMask: (layer, first argument, previous mask) -> output mask(s); default: the previous mask.
  const ADAPTERS = {
    Dense: { params: ["inputs"], make: (s) => new Z.Dense(s.config), run: (l, a) => l.call(a.inputs) },
    Conv2D: {
      params: ["inputs"],
      make: (s) => {
        const dilation = [].concat(s.config.dilation_rate || 1);
        if (dilation.some((d) => d !== 1) || (s.config.groups || 1) !== 1 || (s.config.data_format || "channels_last") !== "channels_last") {
          throw new Error(`Conv2D ${s.config.name}: only channels_last, dilation 1 and groups 1 have a JavaScript twin`);
        }
        return new Z.Conv2D(s.config);
      },
      run: (l, a) => l.call(a.inputs),
    },
    Dropout: { params: ["inputs", "training"], masking: true, make: (s) => new Z.Dropout(s.config), run: (l, a) => l.call(a.inputs) },
    Reshape: { params: ["inputs"], make: (s) => new Z.Reshape(s.config), run: (l, a) => l.call(a.inputs) },
    Flatten: { params: ["inputs"], make: (s) => new Z.Flatten(s.config), run: (l, a) => l.call(a.inputs) },
    MaxPooling2D: { params: ["inputs"], make: (s) => new Z.MaxPooling2D(s.config), run: (l, a) => l.call(a.inputs) },
    LayerNormalization: { params: ["inputs"], masking: true, make: (s) => new Z.LayerNormalization(s.config), run: (l, a) => l.call(a.inputs) },
    Concatenate: {
      params: ["inputs"],
      masking: true,
      make: (s) => new Z.Concatenate(s.config),
      run: (l, a) => l.call(a.inputs),
      computeMask: (l, inputs, mask) => l.computeMask(inputs, mask),
    },
    GlobalAveragePooling1D: {
      params: ["inputs", "mask"],
      masking: true,
      make: (s) => new Z.GlobalAveragePooling1D(s.config),
      run: (l, a, context) => {
        if (context.state) refuseStep(l.name, "averages over the whole sequence");
        return l.call(a.inputs, { mask: a.mask });
      },
      computeMask: () => null,
    },
    Embedding: {
      params: ["inputs"],
      masking: (l) => l.maskZero,
      make: (s) => new Z.Embedding(s.config),
      run: (l, a) => l.call(a.inputs),
      computeMask: (l, inputs) => l.computeMask(inputs),
    },
    PositionalEmbedding: {
      params: ["inputs", "start_position"],
      masking: (l) => l.maskZero,
      make: (s) => new Z.PositionalEmbedding(s.config),
      run: (l, a, context) => {
        if (!context.state) return l.call(a.inputs, { startPosition: a.start_position || 0 });
        const position = context.state[l.name] ? context.state[l.name].position : 0;
        const outputs = l.call(a.inputs, { startPosition: position });
        context.state[l.name] = { position: position + a.inputs.shape[1] };
        return outputs;
      },
      computeMask: (l, inputs) => l.computeMask(inputs),
    },
    RNN: {
      params: ["sequences", "initial_state", "mask", "training"],
      masking: true,
      make: makeRNN,
      run: (l, a, context) => {
        let initialState = a.initial_state || null;
        if (context.state && context.state[l.name]) initialState = context.state[l.name].states;
        const { output, states } = l.run(a.sequences, { initialState, mask: a.mask || null });
        if (context.state) context.state[l.name] = { states };
        return l.returnState ? [output].concat(states) : output;
      },
      computeMask: (l, inputs, mask) => l.computeMask(inputs, Array.isArray(mask) ? mask[0] : mask),
    },
    Bidirectional: {
      params: ["sequences", "initial_state", "mask", "training"],
      masking: true,
      make: (s) => {
        const forward = makeRNN(s.config.layer);
        const backwardSpec = s.config.backward_layer || {
          ...s.config.layer,
          config: { ...s.config.layer.config, go_backwards: !s.config.layer.config.go_backwards },
        };
        return new Z.Bidirectional(s.config, forward, makeRNN(backwardSpec));
      },
      run: (l, a, context) => {
        if (context.state) refuseStep(l.name, "reads the sequence backwards from its end");
        return l.call(a.sequences, { initialState: a.initial_state || null, mask: a.mask || null });
      },
      computeMask: (l, inputs, mask) => l.computeMask(inputs, mask),
    },
    SelfAttention: {
      params: ["inputs", "padding_mask", "use_causal_mask", "return_attention_scores", "training", "cache", "cache_index", "mask"],
      masking: true,
      make: (s) => new Z.SelfAttention(s.config),
      run: (l, a, context) => {
        const options = { paddingMask: a.padding_mask || null, useCausalMask: Boolean(a.use_causal_mask), returnAttentionScores: Boolean(a.return_attention_scores), mask: a.mask || null };
        if (!context.state) {
          if (!context.scores) return l.call(a.inputs, options);
          const [outputs, scores] = l.call(a.inputs, { ...options, returnAttentionScores: true });
          context.scores[l.name] = scores;
          return options.returnAttentionScores ? [outputs, scores] : outputs;
        }
        if (!options.useCausalMask) refuseStep(l.name, "attends without a causal mask, to tokens not fed yet");
        return stepWithCache(l, a.inputs, options, context, (cache, index) => l.call(a.inputs, { ...options, cache, cacheIndex: index }));
      },
    },
    CrossAttention: {
      params: ["query", "value", "key", "query_mask", "value_mask", "return_attention_scores", "training", "memory"],
      masking: true,
      make: (s) => new Z.CrossAttention(s.config),
      run: (l, a, context) => {
        if (context.state) refuseStep(l.name, "attends over a second sequence");
        const options = { key: a.key || null, queryMask: a.query_mask || null, valueMask: a.value_mask || null };
        const [outputs, scores] = l.call(a.query, a.value || null, { ...options, returnAttentionScores: true });
        if (context.scores) context.scores[l.name] = scores;
        return a.return_attention_scores ? [outputs, scores] : outputs;
      },
    },
    TransformerBlock: {
      params: ["inputs", "padding_mask", "use_causal_mask", "training", "cache", "cache_index", "mask"],
      masking: true,
      make: (s) => new Z.TransformerBlock(s.config),
      run: (l, a, context) => {
        const options = { paddingMask: a.padding_mask || null, useCausalMask: Boolean(a.use_causal_mask), mask: a.mask || null };
        if (!context.state) {
          if (context.scores) context.scores[l.name] = l.attentionScores(a.inputs, options);
          return l.call(a.inputs, options);
        }
        if (!options.useCausalMask) refuseStep(l.name, "attends without a causal mask, to tokens not fed yet");
        return stepWithCache(l, a.inputs, options, context, (cache, index) => l.call(a.inputs, { useCausalMask: true, cache, cacheIndex: index }));
      },
    },
    DecoderBlock: {
      params: ["inputs", "encoder_outputs", "padding_mask", "encoder_padding_mask", "use_causal_mask", "training", "cache", "cache_index", "mask", "encoder_outputs_mask"],
      masking: true,
      make: (s) => new Z.DecoderBlock(s.config),
      run: (l, a, context) => {
        if (context.state) refuseStep(l.name, "attends over a second sequence");
        const options = {
          paddingMask: a.padding_mask || null,
          encoderPaddingMask: a.encoder_padding_mask || null,
          useCausalMask: a.use_causal_mask === undefined || a.use_causal_mask === null ? true : Boolean(a.use_causal_mask),
          mask: a.mask || null,
          encoderOutputsMask: a.encoder_outputs_mask || null,
        };
        if (context.scores) {
          context.scores[l.name] = l.attentionScores(a.inputs, options);
          context.scores[`${l.name}/cross_attention`] = l.crossAttentionScores(a.inputs, a.encoder_outputs, options);
        }
        return l.call(a.inputs, a.encoder_outputs, options);
      },
    },
  };

  /** One step of a causal attention layer with the key/value cache it keeps in `context.state`. */
  function stepWithCache(layer, inputs, options, context, callWithCache) {
    if (options.paddingMask || options.mask) refuseStep(layer.name, "has a padding mask, which a key/value cache cannot hold");
    const [batch, time] = inputs.shape;
    let saved = context.state[layer.name];
    if (!saved) saved = { cache: layer.initCache(batch, context.capacity), index: 0 };
    const cache = saved.cache.map((buffer) => growCache(buffer, saved.index + time));
    const [outputs, updated] = callWithCache(cache, saved.index);
    context.state[layer.name] = { cache: updated, index: saved.index + time };
    return outputs;
  }

  // ------------------------------------------------------------ the model

  const historyOf = (value) => value.config.keras_history;
  const isKerasTensor = (value) => value !== null && typeof value === "object" && value.class_name === "__keras_tensor__";

  class Model {
    /** A model from the exporter's JSON (zoo/page/weights.py): {name, recipe, graph, weights}. */
    static fromExport(exported) {
      return new Model(exported.graph, exported.weights || {}, exported.name);
    }

    constructor(graph, weights, name) {
      this.name = name || graph.name;
      this.nodes = {}; // layer name -> {className, spec, layer | operation}
      const capacities = [];
      for (const spec of graph.layers) {
        const entry = { className: spec.class_name, spec, inbound: spec.inbound_nodes || [] };
        const module = spec.module || "";
        if (spec.class_name === "InputLayer") {
          entry.input = true;
        } else if (module.startsWith("keras.src.ops") || (!ADAPTERS[spec.class_name] && Z.ops.OPERATIONS[spec.class_name])) {
          entry.operation = Z.ops.OPERATIONS[spec.class_name];
          if (!entry.operation) throw new Error(`operation ${spec.class_name} (${spec.name}) has no JavaScript twin`);
        } else {
          const adapter = ADAPTERS[spec.class_name];
          if (!adapter) {
            throw new Error(`layer ${spec.name} is a ${spec.class_name}, which has no JavaScript twin (known: ${Object.keys(ADAPTERS).join(", ")})`);
          }
          entry.adapter = adapter;
          entry.layer = adapter.make(spec);
          const records = weights[spec.name] || [];
          entry.layer.setWeights(records.map(weightTensor));
          if (spec.class_name === "PositionalEmbedding") capacities.push(entry.layer.maxLength);
        }
        this.nodes[spec.name] = entry;
      }
      const listOf = (refs) => (typeof refs[0] === "string" ? [refs] : refs);
      this.inputRefs = listOf(graph.input_layers);
      this.outputRefs = listOf(graph.output_layers);
      this.inputNames = this.inputRefs.map((ref) => ref[0]);
      this.outputNames = this.outputRefs.map((ref) => ref[0]);
      // The longest sequence the model takes (its PositionalEmbedding's max_length), or null.
      this.maxLength = capacities.length ? Math.min(...capacities) : null;
    }

    /**
     * inputs: one tensor per model input, in `inputNames` order, each with a batch axis
     * ({shape, data}; token ids as numbers). options.state: step mode (see the top of this file).
     * options.scores: a plain object that receives the attention probabilities (batch, heads,
     * query_time, key_time) of every attention layer, by layer name: a TransformerBlock's under its
     * name, a DecoderBlock's self-attention under its name and its cross-attention under
     * "NAME/cross_attention", a CrossAttention's under its name.
     * Returns the output tensors, in the model's output order.
     */
    predict(inputs, options = {}) {
      if (!Array.isArray(inputs)) throw new Error(`predict takes an array of ${this.inputNames.length} input tensor(s) (${this.inputNames.join(", ")})`);
      if (inputs.length !== this.inputNames.length) {
        throw new Error(`predict: the model takes ${this.inputNames.length} input(s) (${this.inputNames.join(", ")}), got ${inputs.length}`);
      }
      const state = options.state || null;
      if (state && this.inputNames.length !== 1) {
        throw new Error(`step mode: ${this.name} has ${this.inputNames.length} inputs; only single-input models step (rerun the whole graph instead)`);
      }
      const context = { state, scores: options.scores || null, capacity: this.maxLength || 256, values: new Map(), reused: null };
      if (state && context.scores) throw new Error("predict: attention scores are recorded without {state} only");
      // options.reuse: an object the caller keeps between calls. What depends only on inputs
      // passed again as the very same tensor objects is taken from the last call, not recomputed:
      // greedy decoding reads the encoder's outputs once per sentence, not once per word.
      const reuse = options.reuse || null;
      if (reuse && context.scores) throw new Error("predict: attention scores are recorded without {reuse} only");
      if (reuse && reuse.inputs) {
        const same = new Set(this.inputNames.filter((_, index) => reuse.inputs[index] === inputs[index]));
        context.reused = { values: reuse.values, same };
      }
      this.inputRefs.forEach((ref, index) => {
        const input = inputs[index];
        context.values.set(`${ref[0]}|${ref[1]}`, [T.tensor(input.shape, input.data)]);
      });
      const outputs = this.outputRefs.map(([layerName, node, index]) => this.evaluate(layerName, node, context)[index]);
      if (options.values) options.values.push(context.values);
      if (reuse) Object.assign(reuse, { inputs: inputs.slice(), values: context.values });
      return outputs;
    }

    /** The names of the model inputs that the output of `layerName` depends on (memoized). */
    inputsOf(layerName) {
      this.dependencies = this.dependencies || {};
      if (this.dependencies[layerName]) return this.dependencies[layerName];
      const entry = this.nodes[layerName];
      const found = new Set(entry.input ? [layerName] : []);
      const visit = (value) => {
        if (isKerasTensor(value)) for (const name of this.inputsOf(historyOf(value)[0])) found.add(name);
        else if (Array.isArray(value)) value.forEach(visit);
        else if (value !== null && typeof value === "object") Object.values(value).forEach(visit);
      };
      for (const node of entry.inbound) {
        (node.args || []).forEach(visit);
        Object.values(node.kwargs || {}).forEach(visit);
      }
      this.dependencies[layerName] = found;
      return found;
    }

    /**
     * What every layer computed for `inputs` (its first output), by layer name: what a learner
     * inspects, such as a CNN's feature maps. Runs the whole graph once.
     */
    activations(inputs) {
      const seen = [];
      this.predict(inputs, { values: seen });
      const out = {};
      for (const [key, values] of seen[0]) {
        const [layerName, node] = key.split("|");
        if (node === "0" && this.nodes[layerName] && !this.nodes[layerName].input && isTensor(values[0])) out[layerName] = values[0];
      }
      return out;
    }

    /** The output tensors of node `nodeIndex` of layer `layerName`, computed once per predict. */
    evaluate(layerName, nodeIndex, context) {
      const key = `${layerName}|${nodeIndex}`;
      if (context.values.has(key)) return context.values.get(key);
      const entry = this.nodes[layerName];
      if (!entry) throw new Error(`the graph names a layer ${layerName} it does not define`);
      if (context.reused && !entry.input && context.reused.values.has(key) && [...this.inputsOf(layerName)].every((name) => context.reused.same.has(name))) {
        const kept = context.reused.values.get(key);
        context.values.set(key, kept);
        return kept;
      }
      if (entry.input) throw new Error(`input ${layerName} was not given`);
      const node = entry.inbound[nodeIndex];
      const resolve = (value) => {
        if (isKerasTensor(value)) {
          const [name, n, i] = historyOf(value);
          return this.evaluate(name, n, context)[i];
        }
        if (Array.isArray(value)) return value.map(resolve);
        if (value !== null && typeof value === "object" && value.class_name === "__slice__") return value.config;
        return value;
      };
      const args = (node.args || []).map(resolve);
      const kwargs = {};
      for (const [name, value] of Object.entries(node.kwargs || {})) kwargs[name] = resolve(value);

      let outputs;
      if (entry.operation) {
        outputs = entry.operation(args, kwargs, entry.spec.config || {});
      } else {
        outputs = this.callLayer(entry, args, kwargs, context);
      }
      const list = Array.isArray(outputs) ? outputs : [outputs];
      context.values.set(key, list);
      return list;
    }

    /** keras.Layer.__call__: bind the arguments, fill in the masks, call, hand the mask on. */
    callLayer(entry, args, kwargs, context) {
      const { adapter, layer } = entry;
      const bound = {};
      args.forEach((value, index) => {
        if (index >= adapter.params.length) throw new Error(`layer ${layer.name}: too many positional arguments`);
        bound[adapter.params[index]] = value;
      });
      Object.assign(bound, kwargs);
      // Populate mask argument(s), as keras does: `mask` from the only tensor argument,
      // or `<name>_mask` for each tensor argument when there are several.
      const tensorArguments = adapter.params.filter((name) => isTensorArgument(bound[name]));
      if (tensorArguments.length === 1) {
        if (adapter.params.includes("mask") && (bound.mask === undefined || bound.mask === null)) {
          bound.mask = mapStructure(bound[tensorArguments[0]], maskOf);
        }
      } else {
        for (const name of tensorArguments) {
          const maskName = `${name}_mask`;
          if (adapter.params.includes(maskName) && (bound[maskName] === undefined || bound[maskName] === null)) {
            bound[maskName] = mapStructure(bound[name], maskOf);
          }
        }
      }
      const firstArgument = bound[adapter.params[0]];
      const previousMask = bound.mask !== undefined && bound.mask !== null ? bound.mask : mapStructure(firstArgument, maskOf);
      const outputs = adapter.run(layer, bound, context);
      const supportsMasking = typeof adapter.masking === "function" ? adapter.masking(layer) : Boolean(adapter.masking);
      if (supportsMasking) {
        const flat = Array.isArray(outputs) ? outputs : [outputs];
        if (!flat.every((x) => maskOf(x) !== null)) {
          const masks = adapter.computeMask ? adapter.computeMask(layer, firstArgument, previousMask) : previousMask;
          if (masks !== null && masks !== undefined) {
            const flatMasks = Array.isArray(masks) && !isTensor(masks) ? masks : [masks];
            flat.forEach((x, i) => {
              if (isTensor(x) && maskOf(x) === null && flatMasks[i]) MASKS.set(x, flatMasks[i]);
            });
          }
        }
      }
      return outputs;
    }
  }

  Model.decodeFloat32 = decodeFloat32;
  /** The JavaScript layer for one entry of a Keras config ({class_name, config}), without weights. */
  Model.makeLayer = (spec) => {
    const adapter = ADAPTERS[spec.class_name];
    if (!adapter) throw new Error(`${spec.class_name} has no JavaScript twin (known: ${Object.keys(ADAPTERS).join(", ")})`);
    return adapter.make(spec);
  };
  Z.Model = Model;
  if (typeof module !== "undefined" && module.exports) module.exports = Z;
})(typeof globalThis !== "undefined" ? globalThis : this);

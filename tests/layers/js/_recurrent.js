// The recurrent checks rnn_cell.test.js and lstm_cell.test.js share: the cell for one
// step, and the cell inside ZooLayers.RNN (keras.layers.RNN) with return_sequences,
// return_state, go_backwards, a mask and an initial state.
"use strict";
const { test } = require("node:test");
const { ZooLayers, tensor, assertClose, build } = require("./_helpers.js");

function checkRecurrent(fixtures, Cell) {
  for (const fixture of fixtures) {
    test(fixture.name, () => {
      if (!fixture.name.includes("_rnn_")) {
        const cell = build(Cell, fixture);
        const [output, states] = cell.call(tensor(fixture.inputs), fixture.states.map(tensor));
        assertClose(output, tensor(fixture.expected), `${fixture.name} output`);
        states.forEach((state, i) => assertClose(state, tensor(fixture.expected_states[i]), `${fixture.name} state ${i}`));
        return;
      }
      const rnn = ZooLayers.Model.makeLayer({ class_name: "RNN", config: fixture.config });
      rnn.setWeights(fixture.weights.map(tensor));
      const initialState = fixture.initial_state ? fixture.initial_state.map(tensor) : null;
      const result = rnn.call(tensor(fixture.inputs), { mask: tensor(fixture.mask), initialState });
      const [output, ...states] = Array.isArray(result) ? result : [result];
      assertClose(output, tensor(fixture.expected), `${fixture.name} output`);
      (fixture.expected_states || []).forEach((state, i) => assertClose(states[i], tensor(state), `${fixture.name} state ${i}`));
    });
  }
}

module.exports = { checkRecurrent };

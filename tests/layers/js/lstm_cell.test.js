// layers/js/lstm_cell.js against layers/lstm_cell.py: one step, and inside keras.layers.RNN.
"use strict";
const { ZooLayers, cases } = require("./_helpers.js");
const { checkRecurrent } = require("./_recurrent.js");

checkRecurrent(cases("lstm_cell"), ZooLayers.LSTMCell);

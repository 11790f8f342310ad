// layers/js/rnn_cell.js against layers/rnn_cell.py: one step, and inside keras.layers.RNN.
"use strict";
const { ZooLayers, cases } = require("./_helpers.js");
const { checkRecurrent } = require("./_recurrent.js");

checkRecurrent(cases("rnn_cell"), ZooLayers.RNNCell);

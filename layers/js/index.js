// node: `const ZooLayers = require("./layers/js/index.js")` loads every twin, in the
// order index.json lists (the order a page's <script> tags follow).
"use strict";
for (const file of require("./index.json").files) require(`./${file}`);
module.exports = globalThis.ZooLayers;

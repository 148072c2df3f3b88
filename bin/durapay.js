#!/usr/bin/env node
'use strict';
/* global process */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS, so that tsx is registered before the TypeScript loads */
// From a clone the CLI runs from its TypeScript source through tsx (a development dependency), so no build
// step is needed. Where tsx is not installed (npm install --omit=dev), it runs what `npm run build` compiled.
const path = require('node:path');

let entry = path.join(__dirname, '..', 'src', 'cli', 'main.ts');
try {
  require('tsx/cjs');
} catch (error) {
  if (error.code !== 'MODULE_NOT_FOUND') throw error;
  entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
}
require(entry)
  .main(process.argv)
  .catch((error) => {
    process.stderr.write(`durapay: ${error.stack}\n`);
    process.exitCode = 1;
  });

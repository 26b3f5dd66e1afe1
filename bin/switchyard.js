#!/usr/bin/env node
// The `switchyard` command: runs the compiled CLI, compiling first (server and admin UI) when a
// build is missing or older than its sources, so `npm start` works on a fresh clone and after a pull.
const { join } = require('node:path');

require(join(__dirname, '..', 'scripts', 'ensure-built.js')).ensureBuilt();
require(join(__dirname, '..', 'dist', 'cli', 'main.js'))
  .buildProgram()
  .parseAsync(process.argv)
  .catch((error) => {
    process.stderr.write(`switchyard: ${error && error.message ? error.message : String(error)}\n`);
    process.exit(1);
  });

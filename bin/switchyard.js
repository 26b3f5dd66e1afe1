#!/usr/bin/env node
// The `switchyard` command: runs the compiled CLI, compiling first when dist/ is missing or older
// than the sources, so `npm start` works on a fresh clone and after a pull.
const { join } = require('node:path');

const { isStale } = require(join(__dirname, '..', 'scripts', 'ensure-built.js'));
if (isStale()) {
  process.stderr.write('switchyard: compiling…\n');
  require('node:child_process').execSync('npm run --silent build', {
    cwd: join(__dirname, '..'),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}
require(join(__dirname, '..', 'dist', 'cli', 'main.js'))
  .buildProgram()
  .parseAsync(process.argv)
  .catch((error) => {
    process.stderr.write(`switchyard: ${error && error.message ? error.message : String(error)}\n`);
    process.exit(1);
  });

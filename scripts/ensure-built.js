#!/usr/bin/env node
// Compiles src/ into dist/ when dist is missing or older than any source file.
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { execSync } = require('node:child_process');

const root = join(__dirname, '..');
const marker = join(root, 'dist', 'main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, item.name);
    newest = Math.max(newest, item.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isStale() {
  const src = join(root, 'src');
  // An installed image ships dist/ without src/: nothing to compile from, so never stale.
  if (!existsSync(src)) return !existsSync(marker);
  return !existsSync(marker) || newestMtime(src) > statSync(marker).mtimeMs;
}

if (require.main === module && isStale()) {
  process.stderr.write('switchyard: compiling…\n');
  execSync('npm run --silent build', { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

module.exports = { isStale };

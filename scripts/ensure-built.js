#!/usr/bin/env node
// Compiles src/ into dist/ when dist is missing or older than any input of the build: a source
// file, a folder (a deleted or renamed file changes its folder's time), or the build settings
// (nest-cli.json carries the @nestjs/swagger plugin that describes the DTOs).
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { execSync } = require('node:child_process');

const root = join(__dirname, '..');
const marker = join(root, 'dist', 'main.js');
const BUILD_SETTINGS = ['nest-cli.json', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestMtime(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, item.name);
    newest = Math.max(newest, item.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function newestInput() {
  let newest = newestMtime(join(root, 'src'));
  for (const file of BUILD_SETTINGS) {
    const path = join(root, file);
    if (existsSync(path)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function isStale() {
  const src = join(root, 'src');
  // An installed image ships dist/ without src/: nothing to compile from, so never stale.
  if (!existsSync(src)) return !existsSync(marker);
  return !existsSync(marker) || newestInput() > statSync(marker).mtimeMs;
}

function ensureBuilt() {
  if (!isStale()) return false;
  process.stderr.write('switchyard: compiling…\n');
  execSync('npm run --silent build', { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  return true;
}

if (require.main === module) ensureBuilt();

module.exports = { isStale, ensureBuilt };

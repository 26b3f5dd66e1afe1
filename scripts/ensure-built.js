#!/usr/bin/env node
// Compiles src/ into dist/ when dist is missing or older than any input of the build: a source
// file, a folder (a deleted or renamed file changes its folder's time), or the build settings
// (nest-cli.json carries the @nestjs/swagger plugin that describes the DTOs). Likewise builds the
// admin UI (admin-ui/ into admin-ui/dist) when it is missing or older than its sources.
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

const ui = join(root, 'admin-ui');
const uiMarker = join(ui, 'dist', 'index.html');
const UI_SETTINGS = ['index.html', 'vite.config.mts', 'tsconfig.json'];

function serverStale() {
  const src = join(root, 'src');
  // An installed image ships dist/ without src/: nothing to compile from, so never stale.
  if (!existsSync(src)) return !existsSync(marker);
  return !existsSync(marker) || newestInput() > statSync(marker).mtimeMs;
}

function uiStale() {
  if (!existsSync(join(ui, 'src'))) return false;
  if (!existsSync(uiMarker)) return true;
  let newest = newestMtime(join(ui, 'src'));
  for (const file of [...UI_SETTINGS.map((name) => join(ui, name)), join(root, 'package.json')]) {
    if (existsSync(file)) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest > statSync(uiMarker).mtimeMs;
}

function isStale() {
  return serverStale() || uiStale();
}

function ensureBuilt() {
  const server = serverStale();
  const admin = uiStale();
  if (!server && !admin) return false;
  process.stderr.write('switchyard: compiling…\n');
  const run = (script) =>
    execSync(`npm run --silent ${script}`, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (server) run('build:server');
  if (admin) run('admin:build');
  return true;
}

if (require.main === module) ensureBuilt();

module.exports = { isStale, ensureBuilt };

#!/usr/bin/env node
// `npm run openapi`: writes docs/openapi.json, the admin API's OpenAPI document, from the built app
// (dist/, compiled with the @nestjs/swagger plugin that describes the DTOs). No database server is
// needed: the app boots on embedded SQLite in a temporary DATA_DIR and never listens.
// `npm run openapi -- --check` writes nothing and exits 1 when docs/openapi.json is out of date.
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, relative } = require('node:path');
const { ensureBuilt } = require('./ensure-built');

const root = join(__dirname, '..');
const target = join(root, 'docs', 'openapi.json');

async function generate() {
  ensureBuilt();
  const dist = join(root, 'dist');
  const { loadEnvironment } = require(join(dist, 'config', 'config.loader'));
  const { ConfigService } = require(join(dist, 'config', 'config.service'));
  const { setLogLevel } = require(join(dist, 'common', 'logging', 'app-logger'));
  const { createApp } = require(join(dist, 'bootstrap'));
  const { OpenApiService } = require(join(dist, 'modules', 'openapi', 'openapi.service'));
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-openapi-'));
  // Only these variables: the document must not depend on whoever runs the script.
  const config = new ConfigService(loadEnvironment({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
  setLogLevel('silent');
  const app = await createApp(config);
  try {
    return app.get(OpenApiService).document();
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  const json = await generate();
  const name = relative(process.cwd(), target) || target;
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // missing: out of date
    }
    if (current !== json) {
      process.stderr.write(`${name} does not match the code: run npm run openapi\n`);
      process.exit(1);
    }
    process.stdout.write(`${name} matches the code\n`);
    return;
  }
  writeFileSync(target, json);
  process.stdout.write(`wrote ${name}\n`);
}

main().catch((error) => {
  process.stderr.write(`openapi: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

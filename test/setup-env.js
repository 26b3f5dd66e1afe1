// Loads .env.example into the test environment (without overriding real variables), so every
// documented default is exercised by the suites and the file cannot rot unnoticed.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const text = readFileSync(join(__dirname, '..', '.env.example'), 'utf8');
for (const line of text.split('\n')) {
  const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
  if (match && process.env[match[1]] === undefined && match[2] !== '') {
    process.env[match[1]] = match[2];
  }
}
process.env.PRINT_BANNER = process.env.PRINT_BANNER ?? 'false';
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';

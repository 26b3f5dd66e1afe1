import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeRequestRecord } from '../fake-upstream/fake-upstream';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * Claude Code itself (`claude -p`, non-interactive) against Switchyard, served by an
 * `openai-compatible` account on the fake upstream's generic Chat Completions server: its
 * Anthropic Messages requests are converted to Chat Completions and the answers back. The model
 * it asks for (`--model`) and its background model (ANTHROPIC_DEFAULT_HAIKU_MODEL) are both
 * routed to the openai platform by a model route, so every request it makes is served.
 *
 * The CLI is not installed by this suite: it is taken from CLAUDE_CODE_CLI or
 * node_modules/.bin/claude (`.ci/run` installs it). Without it the suite is skipped, unless
 * REQUIRE_SERVICES=1, where it must fail.
 */

const ROOT = join(__dirname, '..', '..');
const SUITE = 'Claude Code against an openai-compatible account';
const MODEL = 'compat-coder';
const SMALL_MODEL = 'compat-small';
const KEY = 'sk-compat-claude-code-0123456789';
const ANSWER = 'Hello from the OpenAI-compatible fake, via Switchyard.';
const CLI_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = CLI_TIMEOUT_MS + 30_000;

function claudeCliOrSkip(): string | null {
  const configured = process.env.CLAUDE_CODE_CLI;
  if (configured) {
    if (!existsSync(configured))
      throw new Error(`${SUITE}: CLAUDE_CODE_CLI=${configured} does not exist`);
    return configured;
  }
  const installed = join(ROOT, 'node_modules', '.bin', 'claude');
  if (existsSync(installed)) return installed;
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(
      `${SUITE}: Claude Code is not installed but REQUIRE_SERVICES=1; ` +
        'install @anthropic-ai/claude-code or set CLAUDE_CODE_CLI to its binary',
    );
  }
  process.stderr.write(`[skip] ${SUITE}: no Claude Code (set CLAUDE_CODE_CLI)\n`);
  return null;
}

interface ClaudeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `claude -p` in an empty temp directory with a fresh HOME and config directory, stdin closed,
 * only the environment it needs (no telemetry, no updater). Its own process group so a timeout
 * kills everything it started.
 */
async function claudePrint(
  cli: string,
  baseUrl: string,
  key: string,
  prompt: string,
): Promise<ClaudeRun> {
  const home = mkdtempSync(join(tmpdir(), 'sy-e2e-claude-home-'));
  const cwd = mkdtempSync(join(tmpdir(), 'sy-e2e-claude-cwd-'));
  const child = spawn(cli, ['-p', prompt, '--model', MODEL], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      CLAUDE_CONFIG_DIR: join(home, '.claude'),
      ANTHROPIC_BASE_URL: baseUrl,
      ANTHROPIC_API_KEY: key,
      ANTHROPIC_DEFAULT_HAIKU_MODEL: SMALL_MODEL,
      ANTHROPIC_SMALL_FAST_MODEL: SMALL_MODEL,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => {
    stderr += `\n[test] killed after ${CLI_TIMEOUT_MS} ms\n`;
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, CLI_TIMEOUT_MS);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

const cli = claudeCliOrSkip();

if (cli === null) {
  // One skipped test keeps jest from failing the file for containing no tests.
  describe.skip(SUITE, () => {
    it('needs Claude Code (CLAUDE_CODE_CLI or node_modules/.bin/claude)', () => undefined);
  });
} else {
  describe(SUITE, () => {
    let h: RelayHarness;
    let key: { id: string; secret: string };
    let accountId: string;

    beforeAll(async () => {
      h = await startRelayHarness();
      const route = await h.admin('POST', '/admin/api/model-routes', {
        pattern: 'compat-*',
        platform: 'openai',
      });
      expect(route.status).toBe(201);
      const account = await h.createAccount({
        name: 'compat for claude code',
        type: 'openai-compatible',
        baseUrl: `${h.upstream.url}/compat/cc/v1`,
        credentials: { apiKey: KEY, quirks: { maxOutputTokens: 8192, reasoning: 'thinking' } },
      });
      accountId = account.id;
      key = await h.createKey({
        name: 'claude code key',
        bindings: { openai: { accountId: account.id } },
      });
    });

    afterAll(async () => {
      await h?.close();
    });

    it(
      'should print the answer of the fake and exit 0, every request logged with its account and usage',
      async () => {
        h.upstream.reset();
        h.upstream.compatProfile('cc', { key: KEY });
        h.upstream.setDefault({
          reply: {
            content: [{ type: 'text', text: ANSWER }],
            usage: { inputTokens: 1200, outputTokens: 15 },
          },
        });

        const run = await claudePrint(cli, h.url, key.secret, 'Say hello.');
        if (run.code !== 0) {
          throw new Error(
            `claude exited ${run.code ?? run.signal}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`,
          );
        }
        expect(run.stdout).toContain(ANSWER);

        const generations: FakeRequestRecord[] = h.upstream.requests.filter(
          (r) => r.method === 'POST',
        );
        expect(generations.length).toBeGreaterThan(0);
        for (const record of generations) {
          expect(record.path).toBe('/compat/cc/v1/chat/completions');
          expect(record.headers.authorization).toBe(`Bearer ${KEY}`);
          expect(record.status).toBe(200);
        }
        const models = new Set(generations.map((r) => (r.json as { model: string }).model));
        expect([...models].every((m) => m === MODEL || m === SMALL_MODEL)).toBe(true);
        expect(models.has(MODEL)).toBe(true);

        await h.flushUsage();
        const res = await h.admin<{ items: any[] }>(
          'GET',
          `/admin/api/usage/requests?pageSize=50&keyId=${key.id}`,
        );
        const rows = res.body.items;
        expect(rows.length).toBe(generations.length);
        for (const row of rows) {
          expect(row).toMatchObject({ accountId, platform: 'openai', status: 200, outcome: 'ok' });
        }
        expect(rows.find((row) => row.model === MODEL)).toMatchObject({
          inputTokens: 1200,
          outputTokens: 15,
        });
      },
      TEST_TIMEOUT_MS,
    );
  });
}

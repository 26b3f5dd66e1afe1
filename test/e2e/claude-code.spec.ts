import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * The real Claude Code (`claude -p`, non-interactive) against Switchyard, configured the way a
 * user would: ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY (a Switchyard key), in a temporary HOME
 * and CLAUDE_CONFIG_DIR so nothing of the machine's own configuration is read or written.
 *
 * Claude Code 2.1.x in `-p` mode with non-essential traffic off sends one streamed
 * `POST /v1/messages?beta=true` per model turn, with adaptive thinking on by default, a
 * ~50 KB body (system prompt and tool definitions: ~12k tokens by the bytes / 4 estimate) and no
 * separate Haiku requests; `--model claude-haiku-…` makes the turn itself a background-model one.
 *
 * The CLI is not installed by this suite: it is taken from CLAUDE_CODE_CLI (.ci/run installs it
 * pinned). Without it the suite is skipped, unless REQUIRE_SERVICES=1, where it must fail.
 */

const SUITE = 'Claude Code against Switchyard';
/** Claude Code is killed after this long; the jest timeout leaves room for the assertions. */
const CLI_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 3 * CLI_TIMEOUT_MS + 30_000;
/** What the fake upstream answers by default. */
const FAKE_ANSWER = 'Hello from the fake upstream.';

function claudeCliOrSkip(): string | null {
  const configured = process.env.CLAUDE_CODE_CLI;
  if (configured) {
    // A path that was given but is wrong is a mistake to report, not a reason to skip.
    if (!existsSync(configured))
      throw new Error(`${SUITE}: CLAUDE_CODE_CLI=${configured} does not exist`);
    return configured;
  }
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(
      `${SUITE}: CLAUDE_CODE_CLI is not set but REQUIRE_SERVICES=1; ` +
        `install @anthropic-ai/claude-code (see .ci/run) and set CLAUDE_CODE_CLI to its binary`,
    );
  }
  process.stderr.write(`[skip] ${SUITE}: no Claude Code (set CLAUDE_CODE_CLI)\n`);
  return null;
}

const CLI = claudeCliOrSkip();
const describeWithClaude = CLI === null ? describe.skip : describe;

interface ClaudeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** `--output-format json`'s result object, when stdout held one. */
  result: any;
}

/** One `claude -p` run in its own HOME (or a given one, to resume a session). */
function runClaude(options: {
  h: RelayHarness;
  secret: string;
  args: string[];
  home?: string;
  env?: Record<string, string>;
  stdin?: string;
}): Promise<ClaudeRun> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'sy-e2e-claude-home-'));
  return new Promise((resolve, reject) => {
    const child = spawn(CLI!, ['-p', '--output-format', 'json', ...options.args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        CLAUDE_CONFIG_DIR: join(home, '.claude'),
        ANTHROPIC_BASE_URL: options.h.url,
        ANTHROPIC_API_KEY: options.secret,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_TELEMETRY: '1',
        ...options.env,
      },
      cwd: home,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.stdin.end(options.stdin ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let result: any = null;
      try {
        result = JSON.parse(stdout);
      } catch {
        // Left null: the assertions show stdout and stderr.
      }
      resolve({ code, signal, stdout, stderr, result });
    });
  });
}

async function requestLog(h: RelayHarness, apiKeyId: string): Promise<any[]> {
  await h.flushUsage();
  const res = await h.admin<{ items: any[] }>(
    'GET',
    `/admin/api/usage/requests?pageSize=200&keyId=${apiKeyId}`,
  );
  // Oldest first, like the runs.
  return [...res.body.items].reverse();
}

function messagesRequests(h: RelayHarness): any[] {
  return h.upstream.requests.filter((r) => r.path === '/v1/messages').map((r) => r.json);
}

describeWithClaude(SUITE, () => {
  let h: RelayHarness;
  let accountId: string;

  beforeAll(async () => {
    h = await startRelayHarness();
    accountId = (await h.createAccount({ name: 'console', credentials: { apiKey: 'cred-a' } })).id;
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
  });

  it(
    'should print the fake upstream’s answer through a claude-console account and log each request',
    async () => {
      const key = await h.createKey({ name: 'claude-code' });
      const run = await runClaude({ h, secret: key.secret, args: ['Say hello'] });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.result).toMatchObject({ is_error: false, subtype: 'success' });
      expect(run.result.result).toContain(FAKE_ANSWER);

      const sent = messagesRequests(h);
      expect(sent.length).toBeGreaterThanOrEqual(1);
      for (const record of h.upstream.requests) expect(record.credential).toBe('cred-a');
      const rows = await requestLog(h, key.id);
      expect(rows).toHaveLength(sent.length);
      for (const row of rows) {
        expect(row).toMatchObject({ accountId, status: 200, outcome: 'ok', stream: true });
        expect(row.inputTokens).toBeGreaterThan(0);
        expect(row.outputTokens).toBeGreaterThan(0);
      }
      // What Claude Code was told it used is what Switchyard recorded.
      expect(rows.reduce((sum, row) => sum + row.inputTokens, 0)).toBe(
        run.result.usage.input_tokens,
      );
      expect(rows.reduce((sum, row) => sum + row.outputTokens, 0)).toBe(
        run.result.usage.output_tokens,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'should route one session’s background, thinking and long requests by the routing rules',
    async () => {
      const key = await h.createKey({ name: 'claude-code-routing' });
      // Claude Code's own prompt is ~12k estimated tokens: the threshold sits above it.
      const rules: [string, Record<string, unknown>][] = [
        [
          'cc-long',
          {
            scenario: 'long_context',
            longContextThreshold: 30_000,
            targetModel: 'claude-long-target',
            priority: 10,
          },
        ],
        [
          'cc-background',
          { scenario: 'background', targetModel: 'claude-bg-target', priority: 20 },
        ],
        ['cc-think', { scenario: 'think', targetModel: 'claude-think-target', priority: 30 }],
      ];
      for (const [name, rule] of rules) {
        const res = await h.admin('POST', '/admin/api/routing-rules', {
          name,
          apiKeyId: key.id,
          ...rule,
        });
        expect(res.status).toBe(201);
      }
      const home = mkdtempSync(join(tmpdir(), 'sy-e2e-claude-home-'));
      const session = randomUUID();

      // 1. A turn on the small model: Claude Code's background model.
      const background = await runClaude({
        h,
        secret: key.secret,
        home,
        args: ['--session-id', session, '--model', 'claude-haiku-4-5', 'Name this session'],
      });
      expect({ code: background.code, stderr: background.stderr }).toEqual({ code: 0, stderr: '' });
      // 2. The same session resumed on a main model with thinking on.
      const thinking = await runClaude({
        h,
        secret: key.secret,
        home,
        args: ['--resume', session, '--model', 'claude-sonnet-4-5', 'Think, then answer'],
        env: { MAX_THINKING_TOKENS: '4096' },
      });
      expect({ code: thinking.code, stderr: thinking.stderr }).toEqual({ code: 0, stderr: '' });
      // 3. A long input through stdin (~80k estimated tokens).
      const long = await runClaude({
        h,
        secret: key.secret,
        home,
        args: ['--resume', session, '--model', 'claude-sonnet-4-5'],
        stdin: `Summarise:\n${'the quick brown fox jumps over the lazy dog. '.repeat(7_000)}`,
      });
      expect({ code: long.code, stderr: long.stderr }).toEqual({ code: 0, stderr: '' });
      expect(long.result.result).toContain(FAKE_ANSWER);

      const sent = messagesRequests(h).map((body) => body.model);
      const rows = await requestLog(h, key.id);
      expect(rows.map((row) => [row.model, row.ruleName])).toEqual(
        sent.map((model) => [
          model,
          { 'claude-long-target': 'cc-long', 'claude-bg-target': 'cc-background' }[
            model as string
          ] ?? 'cc-think',
        ]),
      );
      // Each run's turn landed where its rule sends it, in order.
      expect(sent[0]).toBe('claude-bg-target');
      expect(sent).toContain('claude-think-target');
      expect(sent.at(-1)).toBe('claude-long-target');
      expect(new Set(rows.map((row) => row.accountId))).toEqual(new Set([accountId]));
    },
    TEST_TIMEOUT_MS,
  );
});

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * The real Claude Code (`claude -p`, non-interactive) against Switchyard with one `bedrock`
 * account on the fake Bedrock runtime: Claude Code speaks the Anthropic Messages API to
 * Switchyard (ANTHROPIC_BASE_URL + a Switchyard key), Switchyard signs for Bedrock and turns its
 * AWS event stream back into Anthropic SSE.
 *
 * The binary is taken from CLAUDE_CODE_CLI (.ci/run installs a pinned @anthropic-ai/claude-code
 * beside the project). Without it the suite is skipped, unless REQUIRE_SERVICES=1.
 */

const SUITE = 'Claude Code on Bedrock through Switchyard';
const ANSWER = 'Hello from Bedrock, relayed by Switchyard.';
const ACCESS_KEY = {
  accessKeyId: 'AKIAFAKECLAUDECODE01',
  secretAccessKey: 'claude/code+secret000000000000000000000',
};
const CLI_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = CLI_TIMEOUT_MS + 30_000;

function claudeCliOrSkip(): string | null {
  const configured = process.env.CLAUDE_CODE_CLI;
  if (configured) {
    if (!existsSync(configured)) {
      throw new Error(`${SUITE}: CLAUDE_CODE_CLI=${configured} does not exist`);
    }
    return configured;
  }
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(
      `${SUITE}: Claude Code is not installed but REQUIRE_SERVICES=1; set CLAUDE_CODE_CLI to its binary`,
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

/** `claude -p` in a clean home, with nothing but Switchyard to talk to; killed after a bound. */
function runClaude(cli: string, baseUrl: string, key: string, prompt: string): Promise<ClaudeRun> {
  const home = mkdtempSync(join(tmpdir(), 'sy-e2e-claude-home-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    TMPDIR: tmpdir(),
    CLAUDE_CONFIG_DIR: join(home, '.claude'),
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: key,
    ANTHROPIC_MODEL: 'claude-sonnet-4-6',
    ANTHROPIC_SMALL_FAST_MODEL: 'claude-haiku-4-5',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    CI: '1',
  };
  return new Promise((resolve, reject) => {
    const child = spawn(cli, ['-p', prompt, '--output-format', 'text'], {
      cwd: home,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const cli = claudeCliOrSkip();
const describeWithCli = cli === null ? describe.skip : describe;

describeWithCli(SUITE, () => {
  let h: RelayHarness;
  let accountId: string;
  let secret: string;

  beforeAll(async () => {
    h = await startRelayHarness();
    accountId = (
      await h.createAccount({
        type: 'bedrock',
        name: 'bedrock-claude-code',
        credentials: { region: 'eu-central-1', ...ACCESS_KEY },
      })
    ).id;
    secret = (await h.createKey({ name: 'claude-code-bedrock' })).secret;
  });

  afterAll(async () => {
    await h?.close();
  });

  it(
    'should print the answer Bedrock gave and exit 0, each request logged with its account and usage',
    async () => {
      h.upstream.bedrock.allowAccessKey(ACCESS_KEY.accessKeyId, ACCESS_KEY.secretAccessKey);
      h.upstream.setDefault({
        reply: {
          content: [{ type: 'text', text: ANSWER }],
          usage: { inputTokens: 321, outputTokens: 12 },
        },
      });

      const run = await runClaude(cli as string, h.url, secret, 'Say hello.');

      expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({
        code: 0,
        signal: null,
        stderr: expect.any(String),
      });
      expect(run.stdout).toContain(ANSWER);
      const calls = h.upstream.requests.filter((r) => r.surface === 'bedrock');
      expect(calls.length).toBeGreaterThan(0);
      // Every call was signed for the account's region and verified by the fake.
      expect(h.upstream.bedrock.verifiedSignatures).toBe(calls.length);
      for (const call of calls) {
        expect(call.path).toMatch(
          /^\/model\/eu\.anthropic\.claude-[a-z0-9-]+(?:-v1%3A0|-v1)?\/(invoke|invoke-with-response-stream|count-tokens)$/,
        );
      }
      await h.flushUsage();
      const log = await h.admin<{ items: any[] }>('GET', '/admin/api/usage/requests?pageSize=200');
      const answered = log.body.items.filter(
        (r) => r.accountId === accountId && r.outcome === 'ok',
      );
      expect(answered.length).toBeGreaterThan(0);
      expect(answered).toContainEqual(
        expect.objectContaining({
          inputTokens: 321,
          outputTokens: 12,
          model: expect.stringMatching(/^claude-/),
        }),
      );
    },
    TEST_TIMEOUT_MS,
  );
});

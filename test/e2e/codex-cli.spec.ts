import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * The real Codex CLI (`codex exec`) against Switchyard, configured as a custom model provider the
 * way a user would. With `wire_api = "responses"` Codex (0.171.0) sends one
 * `POST {base_url}/responses` per model turn with `Authorization: Bearer $env_key` and never asks
 * for `/models`; codex-requests.spec.ts replays those requests without the binary and lists what
 * Codex requires of the answer.
 *
 * The CLI is not installed by this suite: it is taken from CODEX_CLI or node_modules/.bin/codex.
 * Without it the suite is skipped, unless REQUIRE_SERVICES=1, where it must fail.
 */

const ROOT = join(__dirname, '..', '..');
const SUITE = 'Codex CLI against Switchyard';
const MODEL = 'claude-sonnet-4-6';
/** The provider id in config.toml and the variable holding the Switchyard key. */
const PROVIDER_ID = 'switchyard';
const KEY_VARIABLE = 'SWITCHYARD_API_KEY';
/** Codex is killed after this long; the jest timeout leaves room for the assertions. */
const CLI_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = CLI_TIMEOUT_MS + 30_000;

function codexCliOrSkip(): string | null {
  const configured = process.env.CODEX_CLI;
  if (configured) {
    // A path that was given but is wrong is a mistake to report, not a reason to skip.
    if (!existsSync(configured))
      throw new Error(`${SUITE}: CODEX_CLI=${configured} does not exist`);
    return configured;
  }
  const installed = join(ROOT, 'node_modules', '.bin', 'codex');
  if (existsSync(installed)) return installed;
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(
      `${SUITE}: the Codex CLI is not installed but REQUIRE_SERVICES=1; ` +
        `install @openai/codex or set CODEX_CLI to its binary`,
    );
  }
  process.stderr.write(`[skip] ${SUITE}: no Codex CLI (set CODEX_CLI or install @openai/codex)\n`);
  return null;
}

interface CodexRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The `--json` events printed on stdout. */
  events: any[];
}

/**
 * A CODEX_HOME whose config.toml names Switchyard as the model provider. Retries are off so a
 * failure shows as one request and a fast exit instead of Codex's 6 x 5 reconnect attempts;
 * analytics are off so the run does not report to OpenAI.
 */
function writeCodexHome(baseUrl: string, model = MODEL): string {
  const home = mkdtempSync(join(tmpdir(), 'sy-e2e-codex-home-'));
  writeFileSync(
    join(home, 'config.toml'),
    [
      `model = "${model}"`,
      `model_provider = "${PROVIDER_ID}"`,
      '',
      '[analytics]',
      'enabled = false',
      '',
      `[model_providers.${PROVIDER_ID}]`,
      'name = "Switchyard"',
      `base_url = "${baseUrl}"`,
      `env_key = "${KEY_VARIABLE}"`,
      'wire_api = "responses"',
      'request_max_retries = 0',
      'stream_max_retries = 0',
      '',
    ].join('\n'),
  );
  return home;
}

/**
 * `codex exec` in an empty temp directory (not a git repo), stdin closed, only the environment it
 * needs. Its own process group so a timeout kills the native binary behind the node wrapper too.
 */
async function codexExec(
  cli: string,
  codexHome: string,
  key: string,
  args: readonly string[],
): Promise<CodexRun> {
  const cwd = mkdtempSync(join(tmpdir(), 'sy-e2e-codex-cwd-'));
  const child = spawn(
    cli,
    ['exec', '--skip-git-repo-check', '--ephemeral', '--strict-config', '--json', ...args],
    {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: codexHome,
        CODEX_HOME: codexHome,
        [KEY_VARIABLE]: key,
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
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
  const events = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as unknown);
  return { code, signal, stdout, stderr, events };
}

/** Fails with everything Codex printed, which is where the reason for a failed turn is. */
function expectSuccess(run: CodexRun): void {
  if (run.code !== 0) {
    throw new Error(
      `codex exec exited ${run.code ?? run.signal}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`,
    );
  }
}

function agentMessages(run: CodexRun): string[] {
  return run.events
    .filter((e) => e.type === 'item.completed' && e.item?.type === 'agent_message')
    .map((e) => String(e.item.text));
}

async function requestLog(h: RelayHarness): Promise<any[]> {
  await h.flushUsage();
  const res = await h.admin<{ items: any[] }>('GET', '/admin/api/usage/requests?pageSize=200');
  return res.body.items;
}

/**
 * A plain HTTP proxy between Codex and Switchyard that keeps each request body as Codex sent it,
 * so a test can compare it with what reached the upstream.
 */
async function startRecordingProxy(
  target: string,
): Promise<{ url: string; bodies: Buffer[]; close(): Promise<void> }> {
  const bodies: Buffer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.push(body);
      const forward = httpRequest(
        `${target}${req.url ?? '/'}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function upstreamMessages(h: RelayHarness): any[] {
  return h.upstream.requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages');
}

const cli = codexCliOrSkip();

if (cli === null) {
  // One skipped test keeps jest from failing the file for containing no tests.
  describe.skip(SUITE, () => {
    it('needs the Codex CLI (CODEX_CLI or node_modules/.bin/codex)', () => undefined);
  });
} else {
  describe(SUITE, () => {
    describe('with a Claude account (Responses converted to Anthropic Messages)', () => {
      let h: RelayHarness;
      let key: { id: string; secret: string };
      let codexHome: string;

      beforeAll(async () => {
        h = await startRelayHarness();
        await h.createAccount({ name: 'claude', credentials: { apiKey: 'cred-claude' } });
        // Limited to Codex CLI: the real User-Agent (`codex_exec/<version> (…)`) must be recognised.
        key = await h.createKey({ name: 'codex-e2e', allowedClients: ['codex-cli'] });
        codexHome = writeCodexHome(`${h.url}/openai/v1`);
      });

      afterAll(async () => {
        await h?.close();
      });

      beforeEach(() => {
        h.upstream.reset();
      });

      it(
        'should answer `codex exec` with the upstream text and log the request with its usage',
        async () => {
          h.upstream.setDefault({
            reply: {
              content: [{ type: 'text', text: 'Hello from Claude through Switchyard.' }],
              usage: { inputTokens: 120, outputTokens: 42 },
            },
          });

          const run = await codexExec(cli, codexHome, key.secret, ['Say hello']);

          expectSuccess(run);
          expect(run.stdout).toContain('Hello from Claude through Switchyard.');
          expect(agentMessages(run)).toEqual(['Hello from Claude through Switchyard.']);
          const completed = run.events.find((e) => e.type === 'turn.completed');
          expect(completed?.usage).toMatchObject({ input_tokens: 120, output_tokens: 42 });

          const sent = upstreamMessages(h);
          expect(sent).toHaveLength(1);
          expect(sent[0].credential).toBe('cred-claude');
          const body = sent[0].json;
          expect(body.model).toBe(MODEL);
          // Codex's developer messages carry its whole system prompt; the user turn comes last.
          expect(JSON.stringify(body.system)).toContain('Codex');
          expect(JSON.stringify(body.messages[body.messages.length - 1])).toContain('Say hello');
          // The model can only work if it can run commands: Codex's shell tool must reach it.
          expect((body.tools as any[]).map((t) => t.name)).toContain('exec_command');

          const rows = await requestLog(h);
          const row = rows.find((r) => r.apiKeyId === key.id && r.model === MODEL);
          expect(row).toMatchObject({
            outcome: 'ok',
            status: 200,
            stream: true,
            inputTokens: 120,
            outputTokens: 42,
          });
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'should carry a shell tool call round trip: Codex runs the command and sends its output back',
        async () => {
          h.upstream.enqueue(
            {
              reply: {
                content: [
                  {
                    type: 'tool_use',
                    id: 'toolu_codex_1',
                    name: 'exec_command',
                    input: { cmd: 'echo codex-e2e-tool-ran' },
                  },
                ],
              },
            },
            { reply: { content: [{ type: 'text', text: 'The command printed its marker.' }] } },
          );

          const okBefore = (await requestLog(h)).filter(
            (r) => r.apiKeyId === key.id && r.outcome === 'ok',
          ).length;
          // The command is `echo` in an empty temp dir; Codex's own sandbox (bubblewrap) may not
          // work in a CI container, and this test is about the relay, not the sandbox.
          const run = await codexExec(cli, codexHome, key.secret, [
            '--dangerously-bypass-approvals-and-sandbox',
            'Run the marker command',
          ]);

          expectSuccess(run);
          expect(agentMessages(run)).toEqual(['The command printed its marker.']);
          const executed = run.events.find(
            (e) => e.type === 'item.completed' && e.item?.type === 'command_execution',
          );
          expect(executed?.item.aggregated_output).toContain('codex-e2e-tool-ran');

          const sent = upstreamMessages(h);
          expect(sent).toHaveLength(2);
          const second = sent[1].json;
          const history = JSON.stringify(second.messages);
          expect(history).toContain('"tool_use_id":"toolu_codex_1"');
          expect(history).toContain('codex-e2e-tool-ran');

          // Two model turns, two metered requests.
          const okAfter = (await requestLog(h)).filter(
            (r) => r.apiKeyId === key.id && r.outcome === 'ok',
          ).length;
          expect(okAfter - okBefore).toBe(2);
        },
        TEST_TIMEOUT_MS,
      );

      it(
        'should make Codex fail with Switchyard’s message when the key is wrong',
        async () => {
          const run = await codexExec(cli, codexHome, 'sk-not-a-switchyard-key', ['Say hello']);
          expect(run.code).toBe(1);
          // With --json the failure is an event on stdout: `turn.failed` with Codex's message.
          const failed = run.events.find((e) => e.type === 'turn.failed');
          expect(failed?.error?.message).toContain('401 Unauthorized');
          expect(upstreamMessages(h)).toHaveLength(0);
        },
        TEST_TIMEOUT_MS,
      );
    });

    describe('with an OpenAI account (Responses passed through)', () => {
      const OPENAI_MODEL = 'gpt-5';
      const OPENAI_KEY = 'sk-proj-codex-e2e';
      let h: RelayHarness;
      let key: { id: string; secret: string };
      let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
      let codexHome: string;

      beforeAll(async () => {
        h = await startRelayHarness();
        await h.createAccount({
          name: 'openai',
          type: 'openai',
          baseUrl: `${h.upstream.url}/v1`,
          credentials: { apiKey: OPENAI_KEY },
        });
        key = await h.createKey({ name: 'codex-openai-e2e', allowedClients: ['codex-cli'] });
        proxy = await startRecordingProxy(h.url);
        codexHome = writeCodexHome(`${proxy.url}/openai/v1`, OPENAI_MODEL);
      });

      afterAll(async () => {
        await proxy?.close();
        await h?.close();
      });

      it(
        'should pass `codex exec` through to /v1/responses of an openai account',
        async () => {
          h.upstream.setDefault({
            reply: {
              content: [
                { type: 'thinking', thinking: 'The user wants a greeting.' },
                { type: 'text', text: ['Hello from OpenAI ', 'through Switchyard.'] },
              ],
              usage: { inputTokens: 900, cacheReadTokens: 100, outputTokens: 60 },
            },
          });

          const run = await codexExec(cli, codexHome, key.secret, ['Say hello']);

          expectSuccess(run);
          expect(agentMessages(run)).toEqual(['Hello from OpenAI through Switchyard.']);
          const completed = run.events.find((e) => e.type === 'turn.completed');
          expect(completed?.usage).toMatchObject({
            input_tokens: 1000,
            cached_input_tokens: 100,
            output_tokens: 60,
          });

          const sent = h.upstream.requests.filter((r) => r.method === 'POST');
          expect(sent.map((r) => r.path)).toEqual(['/v1/responses']);
          const [record] = sent;
          // Passed through: the body the upstream got is the one Codex sent, byte for byte.
          expect(proxy.bodies).toHaveLength(1);
          expect(record.rawBody.equals(proxy.bodies[0])).toBe(true);
          const body = record.json as any;
          expect(body).toMatchObject({ model: OPENAI_MODEL, stream: true, store: false });
          expect((body.tools as any[]).map((t) => t.name)).toContain('exec_command');
          expect(JSON.stringify(body.input)).toContain('Say hello');
          // The account's key replaced Switchyard's; Codex's own headers went along.
          expect(record.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
          expect(JSON.stringify(record.headers)).not.toContain(key.secret);
          expect(record.headers.originator).toBe('codex_exec');
          expect(String(record.headers['user-agent'])).toMatch(/^codex_exec\//);

          const rows = await requestLog(h);
          expect(rows.find((r) => r.apiKeyId === key.id)).toMatchObject({
            platform: 'openai',
            model: OPENAI_MODEL,
            outcome: 'ok',
            status: 200,
            stream: true,
            inputTokens: 900,
            cacheReadTokens: 100,
            outputTokens: 60,
          });
        },
        TEST_TIMEOUT_MS,
      );
    });
  });
}

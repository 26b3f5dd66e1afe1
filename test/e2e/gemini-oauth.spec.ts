import { GoogleGenAI, type Content } from '@google/genai';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialRefreshService } from 'src/modules/oauth/credential-refresh.service';
import { CODE_ASSIST_REPLY_TEXT } from '../fake-upstream/fake-code-assist';
import { FakeGoogleAuth } from '../fake-upstream/fake-google-auth';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * gemini-oauth accounts (Google accounts through Code Assist) end to end: Code Assist requests
 * as Gemini CLI sends them in its Google-login mode (`CODE_ASSIST_ENDPOINT=<switchyard>/gemini`,
 * the Switchyard key where its OAuth access token goes), with fetch, and with the real Gemini CLI
 * when it is installed (GEMINI_CLI, or node_modules/.bin/gemini); Gemini API clients
 * (`@google/genai`, and fetch for the JSON-array stream) through the gemini → code-assist
 * converter; and Code Assist requests served by a `gemini-api` account (code-assist → gemini).
 * The upstream is the fake Code Assist, accepting only live tokens of the fake Google OAuth
 * server, and the fake Gemini API.
 */

const SUITE = 'Gemini CLI (Google login) against Switchyard';
const CLI_TIMEOUT_MS = 90_000;

interface Account {
  id: string;
  accessToken: string;
  refreshToken: string;
}

interface RequestLogRow {
  model: string;
  accountId: string | null;
  outcome: string;
  stream: boolean;
  inputTokens: number;
  outputTokens: number;
}

interface AccountView {
  routable: boolean;
  notRoutableBecause: string | null;
  healthStates: { state: string; scope: string | null; until: string | null }[];
  credentials: { expiresAt: string | null };
}

function geminiCliOrSkip(): string | null {
  const configured = process.env.GEMINI_CLI;
  if (configured) {
    if (!existsSync(configured))
      throw new Error(`${SUITE}: GEMINI_CLI=${configured} does not exist`);
    return configured;
  }
  const installed = join(__dirname, '..', '..', 'node_modules', '.bin', 'gemini');
  if (existsSync(installed)) return installed;
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(`${SUITE}: the Gemini CLI is not installed but REQUIRE_SERVICES=1`);
  }
  process.stderr.write(`[skip] ${SUITE}: no Gemini CLI (set GEMINI_CLI)\n`);
  return null;
}

describe('gemini-oauth accounts through Code Assist', () => {
  let auth: FakeGoogleAuth;
  let relay: RelayHarness;
  let key: string;

  beforeAll(async () => {
    auth = new FakeGoogleAuth();
    await auth.start();
    relay = await startRelayHarness({
      GOOGLE_OAUTH_TOKEN_URL: auth.tokenUrl,
      GOOGLE_OAUTH_AUTHORIZE_URL: auth.authorizeUrl,
    });
    relay.upstream.codeAssist.useAuth(auth);
    key = (await relay.createKey()).secret;
  });

  afterAll(async () => {
    await relay?.close();
    await auth?.stop();
  });

  /** A gemini-oauth account on the fake upstream serving only `model`, with live tokens. */
  async function account(
    model: string,
    projectId: string,
    options: { priority?: number; expiresInMs?: number } = {},
  ): Promise<Account> {
    const tokens = auth.issueTokens();
    relay.upstream.codeAssist.knownProjects ??= new Set();
    relay.upstream.codeAssist.knownProjects.add(projectId);
    const created = await relay.createAccount({
      name: `google-${projectId}`,
      type: 'gemini-oauth',
      baseUrl: relay.upstream.url,
      models: [model],
      priority: options.priority ?? 50,
      credentials: {
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token,
        expiresAt: Date.now() + (options.expiresInMs ?? 3_000_000),
        projectId,
      },
    });
    return { id: created.id, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
  }

  function post(method: string, body: unknown, query = ''): Promise<Response> {
    return fetch(`${relay.url}/gemini/v1internal:${method}${query}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'user-agent': 'GeminiCLI/0.61.0/gemini-2.5-flash (linux; x64)',
      },
      body: JSON.stringify(body),
    });
  }

  function generateBody(model: string): Record<string, unknown> {
    return {
      model,
      project: 'switchyard',
      user_prompt_id: 'prompt-1',
      request: {
        contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
        generationConfig: { temperature: 0 },
        session_id: 'session-1',
      },
    };
  }

  function upstreamCalls(method: string, token?: string) {
    return relay.upstream.codeAssist
      .calls(method)
      .filter((c) => token === undefined || c.token === token);
  }

  it("should relay generateContent with the account's token and project, and answer Code Assist's envelope", async () => {
    const acc = await account('gemini-e2e-generate', 'proj-generate');
    const res = await post('generateContent', generateBody('gemini-e2e-generate'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.response.candidates[0].content.parts[0].text).toBe(CODE_ASSIST_REPLY_TEXT);
    expect(body.traceId).toMatch(/^fake-trace-/);
    const [call] = upstreamCalls('generateContent', acc.accessToken);
    expect(call.body).toMatchObject({
      model: 'gemini-e2e-generate',
      project: 'proj-generate',
      user_prompt_id: 'prompt-1',
      request: { session_id: 'session-1' },
    });
  });

  it('should stream streamGenerateContent?alt=sse event by event, and count tokens', async () => {
    await account('gemini-e2e-stream', 'proj-stream');
    const res = await post('streamGenerateContent', generateBody('gemini-e2e-stream'), '?alt=sse');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    const events = text
      .split('\r\n\r\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => JSON.parse(e.slice(6)));
    expect(events.length).toBeGreaterThan(1);
    expect(events.map((e) => e.response.candidates[0].content.parts[0].text).join('')).toBe(
      CODE_ASSIST_REPLY_TEXT,
    );
    expect(events.at(-1).response.candidates[0].finishReason).toBe('STOP');
    const [call] = upstreamCalls('streamGenerateContent').slice(-1);
    expect(call.body?.project).toBe('proj-stream');

    const count = await post('countTokens', {
      request: { model: 'models/gemini-e2e-stream', contents: [{ parts: [{ text: 'hi' }] }] },
    });
    expect(count.status).toBe(200);
    expect(((await count.json()) as { totalTokens: number }).totalTokens).toBeGreaterThan(0);
  });

  it("should answer the session's setup calls locally and refuse a bad key in Google's shape", async () => {
    const load = await post('loadCodeAssist', { metadata: { pluginType: 'GEMINI' } });
    expect(load.status).toBe(200);
    expect(await load.json()).toMatchObject({
      currentTier: { id: 'standard-tier' },
      cloudaicompanionProject: 'switchyard',
    });
    expect((await post('listExperiments', { project: 'switchyard' })).status).toBe(200);
    const unknown = await post('noSuchMethod', {});
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    expect(upstreamCalls('loadCodeAssist')).toHaveLength(0);

    const bad = await fetch(`${relay.url}/gemini/v1internal:generateContent`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-sy-not-a-key', 'content-type': 'application/json' },
      body: JSON.stringify(generateBody('gemini-e2e-generate')),
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
  });

  it('should refresh once on a 401 and then succeed with the new token', async () => {
    const acc = await account('gemini-e2e-401', 'proj-401');
    auth.expireAccessToken(acc.accessToken);
    const refreshes = auth.count('refresh_token');
    const res = await post('generateContent', generateBody('gemini-e2e-401'));
    expect(res.status).toBe(200);
    expect(auth.count('refresh_token')).toBe(refreshes + 1);
    const calls = relay.upstream.codeAssist
      .calls('generateContent')
      .filter((c) => c.body?.project === 'proj-401');
    expect(calls.map((c) => c.status)).toEqual([401, 200]);
    expect(calls[1].token).not.toBe(acc.accessToken);
  });

  it('should refresh a token that expires soon in the refresh-ahead job', async () => {
    const acc = await account('gemini-e2e-ahead', 'proj-ahead', { expiresInMs: 120_000 });
    const before = (await relay.admin<AccountView>('GET', `/admin/api/accounts/${acc.id}`)).body;
    await relay.server.app.get(CredentialRefreshService).refreshExpiring();
    const after = (await relay.admin<AccountView>('GET', `/admin/api/accounts/${acc.id}`)).body;
    expect(Date.parse(after.credentials.expiresAt!)).toBeGreaterThan(
      Date.parse(before.credentials.expiresAt!) + 600_000,
    );
    const res = await post('generateContent', generateBody('gemini-e2e-ahead'));
    expect(res.status).toBe(200);
    const [call] = upstreamCalls('generateContent').filter((c) => c.body?.project === 'proj-ahead');
    expect(call.token).not.toBe(acc.accessToken);
  });

  it('should fail a 429 RESOURCE_EXHAUSTED over to another account and hold the first until the retry delay', async () => {
    const first = await account('gemini-e2e-quota', 'proj-quota-a', { priority: 1 });
    const second = await account('gemini-e2e-quota', 'proj-quota-b', { priority: 2 });
    relay.upstream.codeAssist.forToken(first.accessToken, { status: 429, retryDelaySeconds: 300 });
    const started = Date.now();
    const res = await post('generateContent', generateBody('gemini-e2e-quota'));
    expect(res.status).toBe(200);
    expect(upstreamCalls('generateContent', first.accessToken).map((c) => c.status)).toEqual([429]);
    expect(upstreamCalls('generateContent', second.accessToken).map((c) => c.status)).toEqual([
      200,
    ]);
    const view = (await relay.admin<AccountView>('GET', `/admin/api/accounts/${first.id}`)).body;
    expect(view.routable).toBe(false);
    const limited = view.healthStates.find((s) => s.state === 'rate_limited');
    expect(limited).toBeDefined();
    const until = Date.parse(limited!.until!);
    expect(until).toBeGreaterThanOrEqual(started + 299_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 301_000);

    // The next request goes straight to the second account.
    expect((await post('generateContent', generateBody('gemini-e2e-quota'))).status).toBe(200);
    expect(upstreamCalls('generateContent', first.accessToken)).toHaveLength(1);
  });

  /** @google/genai pointed at Switchyard's Gemini API routes with a Switchyard key. */
  function genai(): GoogleGenAI {
    return new GoogleGenAI({
      apiKey: key,
      httpOptions: { baseUrl: `${relay.url}/gemini`, apiVersion: 'v1beta', timeout: 20_000 },
    });
  }

  async function requestLog(model: string): Promise<RequestLogRow[]> {
    await relay.flushUsage();
    const res = await relay.admin<{ items: RequestLogRow[] }>(
      'GET',
      '/admin/api/usage/requests?pageSize=200',
    );
    return res.body.items.filter((row) => row.model === model);
  }

  it('should serve @google/genai generateContent from a gemini-oauth account and record its usage', async () => {
    const acc = await account('gemini-e2e-genai', 'proj-genai');
    const response = await genai().models.generateContent({
      model: 'gemini-e2e-genai',
      contents: 'Say hello',
      config: { systemInstruction: 'Be brief.', maxOutputTokens: 50 },
    });
    expect(response.text).toBe(CODE_ASSIST_REPLY_TEXT);
    expect(response.responseId).toMatch(/^fake-trace-/);
    const usage = response.usageMetadata!;
    expect(usage.promptTokenCount).toBeGreaterThan(0);

    // Code Assist's envelope upstream, with the account's token and project.
    const [call] = upstreamCalls('generateContent', acc.accessToken);
    expect(call.body).toMatchObject({
      model: 'gemini-e2e-genai',
      project: 'proj-genai',
      request: {
        contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        generationConfig: { maxOutputTokens: 50 },
      },
    });

    const [row] = await requestLog('gemini-e2e-genai');
    expect(row).toMatchObject({
      accountId: acc.id,
      outcome: 'ok',
      stream: false,
      inputTokens: usage.promptTokenCount,
      outputTokens: usage.candidatesTokenCount,
    });
  });

  it('should stream @google/genai generateContentStream (alt=sse) from a gemini-oauth account', async () => {
    const acc = await account('gemini-e2e-genai-stream', 'proj-genai-stream');
    const chunks = [];
    for await (const chunk of await genai().models.generateContentStream({
      model: 'gemini-e2e-genai-stream',
      contents: 'Say hello',
    })) {
      chunks.push(chunk);
    }
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.text ?? '').join('')).toBe(CODE_ASSIST_REPLY_TEXT);
    const last = chunks.at(-1)!;
    expect(last.candidates![0].finishReason).toBe('STOP');
    expect(upstreamCalls('streamGenerateContent', acc.accessToken)).toHaveLength(1);

    const [row] = await requestLog('gemini-e2e-genai-stream');
    expect(row).toMatchObject({
      accountId: acc.id,
      outcome: 'ok',
      stream: true,
      inputTokens: last.usageMetadata!.promptTokenCount,
      outputTokens: last.usageMetadata!.candidatesTokenCount,
    });
  });

  it("should answer streamGenerateContent without alt=sse as Google's JSON array", async () => {
    const acc = await account('gemini-e2e-array', 'proj-array');
    const url = `${relay.url}/gemini/v1beta/models/gemini-e2e-array:streamGenerateContent`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'x-goog-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const text = await res.text();
    expect(text.startsWith('[')).toBe(true);
    expect(text.endsWith(']')).toBe(true);
    const elements = JSON.parse(text) as any[];
    expect(elements.length).toBeGreaterThan(1);
    expect(elements.map((e) => e.candidates[0].content.parts[0].text).join('')).toBe(
      CODE_ASSIST_REPLY_TEXT,
    );
    expect(elements.at(-1).candidates[0].finishReason).toBe('STOP');
    expect(elements.every((e) => e.response === undefined && e.responseId !== undefined)).toBe(
      true,
    );
    // Code Assist itself is asked for events.
    expect(upstreamCalls('streamGenerateContent', acc.accessToken)).toHaveLength(1);
    const [row] = await requestLog('gemini-e2e-array');
    expect(row).toMatchObject({
      outcome: 'ok',
      stream: true,
      outputTokens: elements.at(-1).usageMetadata.candidatesTokenCount,
    });
  });

  it('should carry a function call and its response through a round trip on a gemini-oauth account', async () => {
    const acc = await account('gemini-e2e-tools', 'proj-tools');
    relay.upstream.codeAssist.scriptedReplies.push(
      [{ functionCall: { name: 'get_weather', args: { city: 'Zürich' } } }],
      [{ text: 'It is sunny in Zürich.' }],
    );
    const ai = genai();
    const tools = [
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'The weather in a city',
            parametersJsonSchema: {
              type: 'object',
              properties: { city: { type: 'string' } },
              required: ['city'],
            },
          },
        ],
      },
    ];
    const contents: Content[] = [{ role: 'user', parts: [{ text: 'Weather in Zürich?' }] }];
    // The call streamed, the answer whole.
    const calls = [];
    let turn: Content | undefined;
    for await (const chunk of await ai.models.generateContentStream({
      model: 'gemini-e2e-tools',
      contents,
      config: { tools },
    })) {
      calls.push(...(chunk.functionCalls ?? []));
      turn ??= chunk.candidates?.[0]?.content;
    }
    expect(calls).toEqual([
      expect.objectContaining({ name: 'get_weather', args: { city: 'Zürich' } }),
    ]);
    contents.push(turn!, {
      role: 'user',
      parts: [{ functionResponse: { name: 'get_weather', response: { output: 'sunny, 21 °C' } } }],
    });
    const second = await ai.models.generateContent({
      model: 'gemini-e2e-tools',
      contents,
      config: { tools },
    });
    expect(second.text).toBe('It is sunny in Zürich.');

    const [first] = upstreamCalls('streamGenerateContent', acc.accessToken);
    expect((first.body as any).request.tools[0].functionDeclarations[0].name).toBe('get_weather');
    const [answer] = upstreamCalls('generateContent', acc.accessToken);
    expect((answer.body as any).request.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Zürich?' }] },
      {
        role: 'model',
        parts: [{ functionCall: { name: 'get_weather', args: { city: 'Zürich' } } }],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { output: 'sunny, 21 °C' } } },
        ],
      },
    ]);
  });

  it('should serve Code Assist requests (Google-login mode) from a gemini-api account', async () => {
    const apiKey = 'AIzaFakeCodeAssistIngressKey-01';
    const created = await relay.createAccount({
      name: 'gemini-api-for-code-assist',
      type: 'gemini-api',
      baseUrl: relay.upstream.url,
      models: ['gemini-2.0-flash'],
      credentials: { apiKey },
    });
    const geminiCalls = () =>
      relay.upstream.requests.filter((r) => r.surface === 'gemini' && r.credential === apiKey);

    const res = await post('generateContent', generateBody('gemini-2.0-flash'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.response.candidates[0].content.parts[0].text).toEqual(expect.any(String));
    expect(body.response.usageMetadata.promptTokenCount).toBeGreaterThan(0);
    const [call] = geminiCalls();
    expect(call.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    // The Gemini API body is Code Assist's `request`, without its own fields.
    expect(call.json).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
      generationConfig: { temperature: 0 },
    });

    const stream = await post(
      'streamGenerateContent',
      generateBody('gemini-2.0-flash'),
      '?alt=sse',
    );
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const events = (await stream.text())
      .split('\r\n\r\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => JSON.parse(e.slice(6)));
    expect(events.length).toBeGreaterThan(1);
    expect(events.every((e) => e.response?.candidates !== undefined)).toBe(true);
    expect(events.at(-1).response.candidates[0].finishReason).toBe('STOP');
    expect(geminiCalls().at(-1)!.path).toBe(
      '/v1beta/models/gemini-2.0-flash:streamGenerateContent',
    );

    const count = await post('countTokens', {
      request: { model: 'models/gemini-2.0-flash', contents: [{ parts: [{ text: 'hi' }] }] },
    });
    expect(count.status).toBe(200);
    expect(((await count.json()) as { totalTokens: number }).totalTokens).toBeGreaterThan(0);

    // Generation is billed to the account (countTokens spends no tokens and writes no row).
    const rows = await requestLog('gemini-2.0-flash');
    expect(rows.filter((r) => r.accountId === created.id && r.outcome === 'ok')).toEqual([
      expect.objectContaining({ stream: true, inputTokens: expect.any(Number) }),
      expect.objectContaining({
        stream: false,
        outputTokens: body.response.usageMetadata.candidatesTokenCount,
      }),
    ]);
  });

  it(
    'should answer Gemini CLI in its Google-login mode (gemini -p) from the fake upstream',
    async () => {
      const cli = geminiCliOrSkip();
      if (cli === null) return;
      await account('gemini-2.5-flash', 'proj-cli');
      const home = mkdtempSync(join(tmpdir(), 'sy-e2e-gemini-home-'));
      mkdirSync(join(home, '.gemini'));
      writeFileSync(
        join(home, '.gemini', 'settings.json'),
        JSON.stringify({
          security: { auth: { selectedType: 'oauth-personal' } },
          privacy: { usageStatisticsEnabled: false },
          telemetry: { enabled: false },
          general: { disableAutoUpdate: true, disableUpdateNag: true },
        }),
      );
      const child = spawn(cli, ['-m', 'gemini-2.5-flash', '-p', 'Say hello'], {
        cwd: home,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          CODE_ASSIST_ENDPOINT: `${relay.url}/gemini`,
          // The Switchyard key where Gemini CLI's Google access token goes.
          GOOGLE_GENAI_USE_GCA: 'true',
          GOOGLE_CLOUD_ACCESS_TOKEN: key,
          NO_COLOR: '1',
          NO_BROWSER: 'true',
          GEMINI_CLI_TRUST_WORKSPACE: 'true',
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
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(timer);
      if (code !== 0) {
        throw new Error(`gemini exited ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
      }
      expect(stdout).toContain(CODE_ASSIST_REPLY_TEXT);
      const calls = relay.upstream.codeAssist.requests.filter(
        (c) => c.body?.project === 'proj-cli',
      );
      expect(calls.length).toBeGreaterThan(0);
    },
    CLI_TIMEOUT_MS + 30_000,
  );
});

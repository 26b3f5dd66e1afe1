import { randomUUID } from 'node:crypto';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * The requests the Codex CLI sends to a custom model provider, replayed with fetch: runs without
 * the binary, and pins what codex-cli.spec.ts checks with it.
 *
 * Captured from @openai/codex 0.171.0 (`codex exec`, `wire_api = "responses"`, key from
 * `env_key`) against a logging server:
 * - one `POST {base_url}/responses` per model turn, no query, no `GET /models` and no
 *   `/responses/compact` for a custom provider;
 * - the headers below (no `OpenAI-Beta`, `version` or `chatgpt-account-id` for custom providers);
 * - no top-level `instructions`: the system prompt is the first `developer` message; tools include
 *   plain functions, a `namespace` of functions and the hosted `web_search`;
 * - after a tool call, the next request repeats the history plus the `function_call` item as
 *   received and a `function_call_output` (reasoning items come back with `content: null`).
 *
 * What Codex requires of the SSE answer (its parser dispatches on `data.type`, not on `event:`):
 * the reply comes from `response.output_item.done` items; the turn ends only with
 * `response.completed`, whose `response.id` is required and whose `usage`, when present, must have
 * `input_tokens`, `output_tokens` and `total_tokens`. A stream that closes without it, or with a
 * malformed one, is an error Codex retries. Mid-stream failures are `response.failed`.
 */

const MODEL = 'claude-sonnet-4-6';
const CODEX_VERSION = '0.171.0';
const USER_AGENT = `codex_exec/${CODEX_VERSION} (Debian 12.0.0; x86_64) xterm (codex_exec; ${CODEX_VERSION})`;
const BASE_PROMPT =
  'You are a coding agent running in the Codex CLI, a terminal-based coding assistant.';
const PERMISSIONS =
  '<permissions instructions>\nsandbox_mode is read-only.\n</permissions instructions>';
const ENVIRONMENT =
  '<environment_context>\n  <cwd>/tmp/project</cwd>\n  <shell>bash</shell>\n</environment_context>';

/** Codex's shell tool as it declares it (descriptions shortened); the model needs it verbatim. */
const EXEC_COMMAND_TOOL = {
  type: 'function',
  name: 'exec_command',
  description: 'Runs a command in a PTY, returning output or a session ID for ongoing interaction.',
  strict: false,
  parameters: {
    type: 'object',
    properties: {
      cmd: { type: 'string', description: 'Shell command to execute.' },
      justification: { type: 'string', description: 'Approval question.' },
      login: { type: 'boolean', description: 'Request login-shell startup.' },
      max_output_tokens: { type: 'number', description: 'Output token budget.' },
      prefix_rule: { type: 'array', description: 'Approval prefix.', items: { type: 'string' } },
      sandbox_permissions: {
        type: 'string',
        description: 'Per-command sandbox override.',
        enum: ['use_default', 'require_escalated'],
      },
      shell: { type: 'string', description: 'Shell binary to launch.' },
      tty: { type: 'boolean', description: 'True allocates a PTY.' },
      workdir: { type: 'string', description: 'Working directory for the command.' },
      yield_time_ms: { type: 'number', description: 'Wait before yielding output.' },
    },
    required: ['cmd'],
    additionalProperties: false,
  },
};

const CODEX_TOOLS = [
  EXEC_COMMAND_TOOL,
  {
    type: 'function',
    name: 'write_stdin',
    description: 'Writes characters to an existing unified exec session.',
    strict: false,
    parameters: {
      type: 'object',
      properties: {
        chars: { type: 'string', description: 'Bytes to write to stdin.' },
        session_id: { type: 'number', description: 'Identifier of the running session.' },
        yield_time_ms: { type: 'number', description: 'Wait before yielding output.' },
      },
      required: ['session_id'],
      additionalProperties: false,
    },
  },
  {
    type: 'function',
    name: 'view_image',
    description: 'View a local image file from the filesystem.',
    strict: false,
    parameters: {
      type: 'object',
      properties: { path: { type: 'string', description: 'Local filesystem path.' } },
      required: ['path'],
      additionalProperties: false,
    },
  },
  {
    type: 'namespace',
    name: 'multi_agent_v1',
    description: 'Tools for spawning and managing sub-agents.',
    tools: [
      {
        type: 'function',
        name: 'spawn_agent',
        description: 'Spawn a sub-agent.',
        strict: false,
        parameters: {
          type: 'object',
          properties: { message: { type: 'string', description: 'Task for the agent.' } },
          required: ['message'],
          additionalProperties: false,
        },
      },
      {
        type: 'function',
        name: 'wait_agent',
        description: 'Wait for agents.',
        strict: false,
        parameters: {
          type: 'object',
          properties: { targets: { type: 'array', items: { type: 'string' } } },
          required: [],
          additionalProperties: false,
        },
      },
    ],
  },
  {
    type: 'function',
    name: 'get_goal',
    description: 'Get the current goal for this thread.',
    strict: false,
    parameters: { type: 'object', properties: {}, required: [], additionalProperties: false },
  },
  { type: 'web_search', external_web_access: false },
];

/** One Codex thread: the ids its headers and body repeat on every turn. */
interface CodexThread {
  threadId: string;
  turnId: string;
  installationId: string;
}

function newThread(): CodexThread {
  return { threadId: randomUUID(), turnId: randomUUID(), installationId: randomUUID() };
}

function turnMetadata(thread: CodexThread): string {
  return JSON.stringify({
    installation_id: thread.installationId,
    session_id: thread.threadId,
    thread_id: thread.threadId,
    turn_id: thread.turnId,
    window_id: `${thread.threadId}:0`,
    request_kind: 'turn',
    turn_trigger: 'exec',
    sandbox_mode: 'read-only',
    model: MODEL,
  });
}

/** The headers `codex exec` sends, in its order. */
function codexHeaders(secret: string, thread: CodexThread): Record<string, string> {
  return {
    'x-codex-beta-features': 'remote_compaction_v2',
    'x-codex-window-id': `${thread.threadId}:0`,
    'x-codex-turn-metadata': turnMetadata(thread),
    'x-client-request-id': thread.threadId,
    'session-id': thread.threadId,
    'thread-id': thread.threadId,
    accept: 'text/event-stream',
    'content-type': 'application/json',
    authorization: `Bearer ${secret}`,
    originator: 'codex_exec',
    'user-agent': USER_AGENT,
    // Codex sends `zstd,gzip`; Node 20's fetch cannot decode zstd, so this asks for gzip only.
    'accept-encoding': 'gzip',
  };
}

function message(role: 'developer' | 'user', ...texts: string[]): Record<string, unknown> {
  return {
    type: 'message',
    id: `msg_${randomUUID()}`,
    role,
    content: texts.map((text) => ({ type: 'input_text', text })),
  };
}

/** The opening input of a thread: base prompt, permissions, environment, the user's prompt. */
function openingInput(prompt: string): Record<string, unknown>[] {
  return [
    message('developer', BASE_PROMPT),
    message('developer', '<skills_instructions>\nNo skills.\n</skills_instructions>', PERMISSIONS),
    message('user', ENVIRONMENT),
    message('user', prompt),
  ];
}

/** A Codex Responses body with its keys in Codex's order. */
function codexBody(thread: CodexThread, input: unknown[]): Record<string, unknown> {
  return {
    model: MODEL,
    stream: true,
    input,
    tools: CODEX_TOOLS,
    tool_choice: 'auto',
    parallel_tool_calls: true,
    reasoning: { summary: 'auto' },
    store: false,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: thread.threadId,
    client_metadata: {
      turn_id: thread.turnId,
      thread_id: thread.threadId,
      'x-codex-installation-id': thread.installationId,
      'x-codex-turn-metadata': turnMetadata(thread),
      'x-codex-window-id': `${thread.threadId}:0`,
      session_id: thread.threadId,
    },
  };
}

interface SseEvent {
  event: string | undefined;
  data: any;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
  /** The connection broke before the body ended. */
  cut: boolean;
  events: SseEvent[];
}

function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length === 0) continue;
    events.push({ event, data: JSON.parse(data.join('\n')) });
  }
  return events;
}

async function postResponses(
  h: RelayHarness,
  secret: string,
  thread: CodexThread,
  body: unknown,
): Promise<Answer> {
  const res = await fetch(`${h.url}/openai/v1/responses`, {
    method: 'POST',
    headers: codexHeaders(secret, thread),
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  // Read chunk by chunk: a relay may end a broken stream by dropping the connection, which Codex
  // also reads as a failed turn; keep what arrived before it.
  let text = '';
  let cut = false;
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body ?? []) text += decoder.decode(chunk, { stream: true });
  } catch {
    cut = true;
  }
  const contentType = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    contentType,
    text,
    cut,
    events: contentType.startsWith('text/event-stream') ? parseSse(text) : [],
  };
}

/**
 * Checks the stream the way Codex's parser reads it and returns the items Codex keeps (from
 * `response.output_item.done`) and the `response.completed` payload.
 */
function expectCodexCanFinishTurn(answer: Answer): { items: any[]; completed: any } {
  expect({ status: answer.status, body: answer.text.slice(0, 2000) }).toMatchObject({
    status: 200,
  });
  expect(answer.contentType).toMatch(/^text\/event-stream/);
  expect(answer.cut).toBe(false);
  const types = answer.events.map((e) => e.data?.type);
  for (const e of answer.events) {
    expect(typeof e.data.type).toBe('string');
    // Codex ignores the `event:` line; a client that reads it must not be misled either.
    if (e.event !== undefined) expect(e.event).toBe(e.data.type);
  }
  expect(types[0]).toBe('response.created');
  expect(answer.events[0].data.response).toEqual(expect.any(Object));
  expect(types.filter((t) => t === 'response.completed')).toHaveLength(1);
  expect(types[types.length - 1]).toBe('response.completed');
  expect(types).not.toContain('response.failed');

  const completed = answer.events[answer.events.length - 1].data.response;
  expect(completed.id).toEqual(expect.any(String));
  expect(completed.id.length).toBeGreaterThan(0);
  if (completed.usage !== undefined && completed.usage !== null) {
    const usage = completed.usage;
    expect(Number.isInteger(usage.input_tokens)).toBe(true);
    expect(Number.isInteger(usage.output_tokens)).toBe(true);
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    if (usage.input_tokens_details != null) {
      expect(Number.isInteger(usage.input_tokens_details.cached_tokens)).toBe(true);
    }
    if (usage.output_tokens_details != null) {
      expect(Number.isInteger(usage.output_tokens_details.reasoning_tokens)).toBe(true);
    }
  }
  const items = answer.events
    .filter((e) => e.data.type === 'response.output_item.done')
    .map((e) => e.data.item);
  return { items, completed };
}

/**
 * A failed turn as Codex must see it: an HTTP error with an OpenAI error body (it prints the
 * message), or a stream without `response.completed` (ended, or cut off), since that event would
 * make a partial answer look like a finished turn. A `response.failed` at the end must say why.
 */
function expectCodexSeesFailure(answer: Answer): void {
  if (answer.status !== 200) {
    expect(answer.status).toBeGreaterThanOrEqual(500);
    expect(JSON.parse(answer.text).error.message).toEqual(expect.any(String));
    return;
  }
  const types = answer.events.map((e) => e.data.type);
  expect(types).not.toContain('response.completed');
  const last = answer.events[answer.events.length - 1];
  if (last?.data.type === 'response.failed') {
    expect(last.data.response.error.message).toEqual(expect.any(String));
  }
}

function outputText(item: any): string {
  return (item.content as any[])
    .filter((part) => part.type === 'output_text')
    .map((part) => String(part.text))
    .join('');
}

function upstreamBodies(h: RelayHarness): any[] {
  return h.upstream.requests
    .filter((r) => r.method === 'POST' && r.path === '/v1/messages')
    .map((r) => r.json);
}

async function requestLog(h: RelayHarness): Promise<any[]> {
  await h.flushUsage();
  const res = await h.admin<{ items: any[] }>('GET', '/admin/api/usage/requests?pageSize=200');
  return res.body.items;
}

/**
 * An item from `response.output_item.done` as Codex stores it and sends it back on the next turn:
 * unchanged, except that a reasoning item always carries `content` (null when it had none).
 */
function asCodexEchoes(item: any): any {
  return item.type === 'reasoning' ? { content: null, ...item } : item;
}

describe('Codex CLI requests replayed against POST /openai/v1/responses (Claude account)', () => {
  let h: RelayHarness;
  let key: { id: string; secret: string };

  beforeAll(async () => {
    h = await startRelayHarness();
    await h.createAccount({ name: 'claude', credentials: { apiKey: 'cred-claude' } });
    // Limited to Codex CLI, so the captured User-Agent must be recognised as Codex.
    key = await h.createKey({ name: 'codex-replay', allowedClients: ['codex-cli'] });
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
  });

  it('should stream a turn Codex can finish: the message item, then response.completed with usage', async () => {
    const text = 'Hello from Claude through Switchyard.';
    h.upstream.setDefault({
      reply: {
        content: [{ type: 'text', text: ['Hello ', 'from Claude ', 'through Switchyard.'] }],
        usage: { inputTokens: 120, outputTokens: 42 },
      },
    });
    const thread = newThread();

    const answer = await postResponses(
      h,
      key.secret,
      thread,
      codexBody(thread, openingInput('Say hello')),
    );

    const { items, completed } = expectCodexCanFinishTurn(answer);
    const messages = items.filter((item) => item.type === 'message');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ role: 'assistant', id: expect.any(String) });
    expect(outputText(messages[0])).toBe(text);
    expect(completed.usage).toMatchObject({
      input_tokens: 120,
      output_tokens: 42,
      total_tokens: 162,
    });
    // Live display uses the deltas; they must add up to what the turn keeps.
    const deltas = answer.events
      .filter((e) => e.data.type === 'response.output_text.delta')
      .map((e) => String(e.data.delta));
    if (deltas.length > 0) expect(deltas.join('')).toBe(text);

    const [sent, ...more] = upstreamBodies(h);
    expect(more).toHaveLength(0);
    expect(sent.model).toBe(MODEL);
    // Developer messages are instructions: they belong in the system prompt, in order.
    const system = JSON.stringify(sent.system);
    expect(system).toContain(BASE_PROMPT);
    expect(system).toContain('<permissions instructions>');
    expect(system.indexOf(BASE_PROMPT)).toBeLessThan(system.indexOf('<permissions instructions>'));
    const conversation = JSON.stringify(sent.messages);
    expect(conversation).not.toContain(BASE_PROMPT);
    expect(conversation).toContain('<environment_context>');
    expect(JSON.stringify(sent.messages[sent.messages.length - 1])).toContain('Say hello');
    const shell = (sent.tools as any[]).find((tool) => tool.name === 'exec_command');
    expect(shell).toMatchObject({ input_schema: EXEC_COMMAND_TOOL.parameters });

    const row = (await requestLog(h)).find((r) => r.apiKeyId === key.id);
    expect(row).toMatchObject({
      model: MODEL,
      outcome: 'ok',
      status: 200,
      stream: true,
      inputTokens: 120,
      outputTokens: 42,
    });
  });

  it('should turn a tool_use into a function_call and the next request’s output into a tool_result', async () => {
    h.upstream.enqueue(
      {
        reply: {
          content: [
            { type: 'text', text: 'Running it.' },
            {
              type: 'tool_use',
              id: 'toolu_codex_1',
              name: 'exec_command',
              input: { cmd: 'echo hi', yield_time_ms: 1000 },
            },
          ],
        },
      },
      { reply: { content: [{ type: 'text', text: 'It printed hi.' }] } },
    );
    const thread = newThread();
    const opening = openingInput('Run echo hi');

    const first = expectCodexCanFinishTurn(
      await postResponses(h, key.secret, thread, codexBody(thread, opening)),
    );
    const calls = first.items.filter((item) => item.type === 'function_call');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      name: 'exec_command',
      call_id: expect.any(String),
      arguments: expect.any(String),
    });
    expect(JSON.parse(calls[0].arguments)).toEqual({ cmd: 'echo hi', yield_time_ms: 1000 });
    const preamble = first.items.find((item) => item.type === 'message');
    expect(outputText(preamble)).toBe('Running it.');

    // What Codex sends next: the history, the items it got back, and the command's output.
    const output =
      'Chunk ID: 1a2b3c\nWall time: 0.0100 seconds\nProcess exited with code 0\n' +
      'Original token count: 1\nOutput:\nhi\n';
    const second = expectCodexCanFinishTurn(
      await postResponses(
        h,
        key.secret,
        thread,
        codexBody(thread, [
          ...opening,
          ...first.items.map(asCodexEchoes),
          {
            type: 'function_call_output',
            id: `fco_${randomUUID()}`,
            call_id: calls[0].call_id,
            output,
          },
        ]),
      ),
    );
    expect(second.items.filter((item) => item.type === 'message').map(outputText)).toEqual([
      'It printed hi.',
    ]);

    const [, upstreamSecond] = upstreamBodies(h);
    const history = upstreamSecond.messages as any[];
    const assistant = history.find(
      (m) => m.role === 'assistant' && JSON.stringify(m.content).includes('tool_use'),
    );
    expect(assistant.content).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'tool_use',
          id: 'toolu_codex_1',
          name: 'exec_command',
          input: { cmd: 'echo hi', yield_time_ms: 1000 },
        }),
      ]),
    );
    const results = JSON.stringify(history[history.indexOf(assistant) + 1]);
    expect(results).toContain('"type":"tool_result"');
    expect(results).toContain('"tool_use_id":"toolu_codex_1"');
    expect(results).toContain('Process exited with code 0');
  });

  it('should accept its own items back when Codex repeats them, reasoning included', async () => {
    h.upstream.enqueue(
      {
        reply: {
          content: [
            { type: 'thinking', thinking: 'The user greets me.', signature: 'sig-codex-1' },
            { type: 'text', text: 'Hello!' },
          ],
        },
      },
      { reply: { content: [{ type: 'text', text: 'Still here.' }] } },
    );
    const thread = newThread();
    const opening = openingInput('Say hello');
    const first = expectCodexCanFinishTurn(
      await postResponses(h, key.secret, thread, codexBody(thread, opening)),
    );
    expect(first.items.filter((item) => item.type === 'message').map(outputText)).toEqual([
      'Hello!',
    ]);

    const second = expectCodexCanFinishTurn(
      await postResponses(
        h,
        key.secret,
        thread,
        codexBody(thread, [
          ...opening,
          ...first.items.map(asCodexEchoes),
          message('user', 'Are you there?'),
        ]),
      ),
    );
    expect(second.items.filter((item) => item.type === 'message').map(outputText)).toEqual([
      'Still here.',
    ]);
    const conversation = JSON.stringify(upstreamBodies(h)[1].messages);
    expect(conversation).toContain('Hello!');
    expect(conversation).toContain('Are you there?');
  });

  it('should answer a wrong key with 401 and an OpenAI error whose message Codex prints', async () => {
    const thread = newThread();
    const answer = await postResponses(
      h,
      'sk-sy-not-a-key',
      thread,
      codexBody(thread, openingInput('Say hello')),
    );
    expect(answer.status).toBe(401);
    const body = JSON.parse(answer.text);
    expect(body.error.message).toEqual(expect.any(String));
    expect(body.error.message.length).toBeGreaterThan(0);
    expect(upstreamBodies(h)).toHaveLength(0);
  });

  it('should fail a turn whose upstream fails before the first byte so that Codex sees an error', async () => {
    h.upstream.setDefault({ status: 529 });
    const thread = newThread();
    const answer = await postResponses(
      h,
      key.secret,
      thread,
      codexBody(thread, openingInput('Say hello')),
    );
    expectCodexSeesFailure(answer);
  });

  it('should not end a stream the upstream broke off with response.completed', async () => {
    h.upstream.setDefault({
      reply: { content: [{ type: 'text', text: 'This answer is cut short before its end.' }] },
      cutAfterEvents: 4,
    });
    const thread = newThread();
    const answer = await postResponses(
      h,
      key.secret,
      thread,
      codexBody(thread, openingInput('Say hello')),
    );
    expectCodexSeesFailure(answer);
  });
});

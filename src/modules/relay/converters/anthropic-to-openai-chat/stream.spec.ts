import { THINKING_SIGNATURE } from './request';
import { ChatMessageEventStream } from './stream';

const CTX = { id: 'msg_req1', model: 'claude-sonnet-4-5', requestId: 'req1' };

type Event = { type: string } & Record<string, unknown>;

function chunk(
  delta: Record<string, unknown>,
  finish: string | null = null,
  usage?: unknown,
): string {
  return `data: ${JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...(usage === undefined ? {} : { usage }),
  })}\n\n`;
}

const USAGE = {
  prompt_tokens: 10,
  completion_tokens: 7,
  prompt_tokens_details: { cached_tokens: 4 },
};

const STREAM = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ reasoning_content: 'Let me ' }),
  chunk({ reasoning_content: 'think — ünïcode.' }),
  chunk({ content: 'Héllo ' }),
  chunk({ content: 'wörld 🌍' }),
  chunk({
    tool_calls: [
      { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } },
    ],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
  chunk({}, 'tool_calls'),
  `data: ${JSON.stringify({ id: 'c1', choices: [], usage: USAGE })}\n\n`,
  'data: [DONE]\n\n',
].join('');

function events(bytes: Buffer): Event[] {
  return bytes
    .toString('utf8')
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const data = block.split('\n').find((line) => line.startsWith('data: '));
      return JSON.parse(data!.slice(6)) as Event;
    });
}

function run(parts: Buffer[]): Buffer {
  const stream = new ChatMessageEventStream(CTX);
  return Buffer.concat([...parts.map((part) => stream.push(part)), stream.end()]);
}

const EXPECTED: Event[] = [
  {
    type: 'message_start',
    message: {
      id: 'msg_req1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 0,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 0,
      },
    },
  },
  {
    type: 'content_block_start',
    index: 0,
    content_block: { type: 'thinking', thinking: '', signature: '' },
  },
  { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me ' } },
  {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'thinking_delta', thinking: 'think — ünïcode.' },
  },
  {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'signature_delta', signature: THINKING_SIGNATURE },
  },
  { type: 'content_block_stop', index: 0 },
  { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
  { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Héllo ' } },
  { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'wörld 🌍' } },
  { type: 'content_block_stop', index: 1 },
  {
    type: 'content_block_start',
    index: 2,
    content_block: { type: 'tool_use', id: 'call_1', name: 'f', input: {} },
  },
  {
    type: 'content_block_delta',
    index: 2,
    delta: { type: 'input_json_delta', partial_json: '{"a":' },
  },
  {
    type: 'content_block_delta',
    index: 2,
    delta: { type: 'input_json_delta', partial_json: '1}' },
  },
  { type: 'content_block_stop', index: 2 },
  {
    type: 'message_delta',
    delta: { stop_reason: 'tool_use', stop_sequence: null },
    usage: {
      input_tokens: 6,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 4,
      output_tokens: 7,
    },
  },
  { type: 'message_stop' },
];

describe(ChatMessageEventStream.name, () => {
  it('should write the Anthropic event stream of thinking, text and a tool call', () => {
    expect(events(run([Buffer.from(STREAM)]))).toEqual(EXPECTED);
  });

  it('should give the same events however the bytes are split, even inside a character', () => {
    const bytes = Buffer.from(STREAM);
    const whole = run([bytes]).toString('utf8');
    for (const size of [1, 2, 3, 7, 64]) {
      const parts: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
      expect(run(parts).toString('utf8')).toBe(whole);
    }
  });

  it('should finish at the end of a stream that sent a finish_reason but no [DONE]', () => {
    const out = events(run([Buffer.from(chunk({ content: 'hi' }) + chunk({}, 'stop', USAGE))]));
    expect(out.at(-2)).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'end_turn' } });
    expect(out.at(-1)).toEqual({ type: 'message_stop' });
  });

  it('should end a stream cut before its finish with an error event', () => {
    const out = events(run([Buffer.from(chunk({ content: 'hi' }))]));
    expect(out.at(-1)).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'upstream stream ended before it was complete' },
    });
    expect(out.some((event) => event.type === 'message_stop')).toBe(false);
  });

  it('should turn an error chunk into an error event', () => {
    const out = events(
      run([
        Buffer.from(chunk({ content: 'hi' }) + 'data: {"error":{"message":"boom","code":503}}\n\n'),
      ]),
    );
    expect(out.at(-1)).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'boom' },
    });
  });

  it('should read tool calls without an index, and OpenRouter reasoning', () => {
    const out = events(
      run([
        Buffer.from(
          chunk({ reasoning: 'r' }) +
            chunk({ tool_calls: [{ id: 'a', function: { name: 'x', arguments: '{}' } }] }) +
            chunk({ tool_calls: [{ id: 'b', function: { name: 'y', arguments: '{}' } }] }) +
            chunk({}, 'tool_calls') +
            'data: [DONE]\n\n',
        ),
      ]),
    );
    expect(out.filter((e) => e.type === 'content_block_start').map((e) => e.content_block)).toEqual(
      [
        { type: 'thinking', thinking: '', signature: '' },
        { type: 'tool_use', id: 'a', name: 'x', input: {} },
        { type: 'tool_use', id: 'b', name: 'y', input: {} },
      ],
    );
  });
});

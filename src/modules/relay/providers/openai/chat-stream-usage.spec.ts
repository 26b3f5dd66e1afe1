import {
  ChatUsageChunkFilter,
  chatStreamUsagePassthrough,
  withoutTopLevelNull,
} from './chat-stream-usage';
import { OpenAIChatTap } from './openai-chat.tap';

type Json = Record<string, unknown>;

const USAGE = {
  prompt_tokens: 1200,
  completion_tokens: 300,
  total_tokens: 1500,
  prompt_tokens_details: { cached_tokens: 1000 },
  completion_tokens_details: { reasoning_tokens: 200 },
};

/** A chunk as the API writes it; `usage` undefined leaves the member out. */
function chunk(delta: Json, finish: string | null, usage?: unknown): Json {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-5',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(usage === undefined ? {} : { usage }),
  };
}

const sse = (payload: Json | string): string =>
  `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;

/** The same answer as a stream with and without include_usage. */
function answer(includeUsage: boolean): string {
  const usage = includeUsage ? null : undefined;
  const parts = [
    chunk({ role: 'assistant', content: '' }, null, usage),
    // Text that looks like the member must survive: it is inside a string.
    chunk({ content: 'a ,"usage":null, b "usage": null' }, null, usage),
    chunk({ content: 'Grüße 🌍' }, null, usage),
    chunk(
      {
        tool_calls: [
          { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } },
        ],
      },
      null,
      usage,
    ),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"usage":null}' } }] }, null, usage),
    chunk({}, 'tool_calls', usage),
  ].map(sse);
  if (includeUsage) parts.push(sse({ ...chunk({}, null), choices: [], usage: USAGE }));
  parts.push(sse('[DONE]'));
  return parts.join('');
}

function filterAll(pieces: Buffer[]): string {
  const filter = new ChatUsageChunkFilter();
  const out = pieces.map((piece) => filter.push(piece));
  out.push(filter.end());
  return Buffer.concat(out).toString('utf8');
}

function splitEvery(bytes: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return pieces;
}

describe(chatStreamUsagePassthrough.name, () => {
  const messages = [{ role: 'user', content: 'Hi' }];

  it('should ask the upstream for the usage when a streaming client did not', () => {
    const body = { model: 'gpt-5', messages, stream: true };
    const adjusted = chatStreamUsagePassthrough('openai-chat', body, true);
    expect(adjusted?.body).toEqual({ ...body, stream_options: { include_usage: true } });
    // The client's body is not changed in place (a retry on another account plans again).
    expect(body).toEqual({ model: 'gpt-5', messages, stream: true });
  });

  it('should keep the other stream options and override an explicit false', () => {
    const body = {
      model: 'gpt-5',
      messages,
      stream: true,
      stream_options: { include_usage: false, include_obfuscation: false },
    };
    expect(chatStreamUsagePassthrough('openai-chat', body, true)?.body.stream_options).toEqual({
      include_usage: true,
      include_obfuscation: false,
    });
  });

  it('should leave the request alone when the client asked for the usage, did not stream, or spoke Responses', () => {
    const asked = {
      model: 'gpt-5',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    };
    expect(chatStreamUsagePassthrough('openai-chat', asked, true)).toBeNull();
    expect(chatStreamUsagePassthrough('openai-chat', { model: 'gpt-5', messages }, false)).toBe(
      null,
    );
    expect(
      chatStreamUsagePassthrough('openai-responses', { model: 'gpt-5', input: 'Hi' }, true),
    ).toBeNull();
  });
});

describe(ChatUsageChunkFilter.name, () => {
  describe('push', () => {
    it('should turn the include_usage stream into the bytes of the stream the client asked for', () => {
      expect(filterAll([Buffer.from(answer(true))])).toBe(answer(false));
    });

    it('should give the same bytes whatever the reads split, inside events and characters', () => {
      const bytes = Buffer.from(answer(true));
      for (const size of [1, 2, 3, 7, 64]) {
        expect(filterAll(splitEvery(bytes, size))).toBe(answer(false));
      }
    });

    it('should hold an event until its blank line has arrived, then write it whole', () => {
      const filter = new ChatUsageChunkFilter();
      const event = sse(chunk({ content: 'Hi' }, null, null));
      const cut = event.indexOf('"usage"') + 3;
      expect(filter.push(Buffer.from(event.slice(0, cut))).length).toBe(0);
      // The blank line split between reads too: LF, then LF.
      expect(filter.push(Buffer.from(event.slice(cut, -1))).length).toBe(0);
      expect(filter.push(Buffer.from('\n')).toString()).toBe(sse(chunk({ content: 'Hi' }, null)));
    });

    it('should drop a usage chunk split across reads while the tap still reads its usage', () => {
      const bytes = Buffer.from(answer(true));
      const tap = new OpenAIChatTap();
      const filter = new ChatUsageChunkFilter();
      const out: Buffer[] = [];
      for (const piece of splitEvery(bytes, 5)) {
        tap.push(piece);
        out.push(filter.push(piece));
      }
      tap.end();
      out.push(filter.end());
      expect(Buffer.concat(out).toString()).not.toContain('prompt_tokens');
      expect(tap.usage).toMatchObject({
        inputTokens: 200,
        cacheReadTokens: 1000,
        outputTokens: 300,
      });
      expect(tap.complete).toBe(true);
    });

    it('should read CRLF-framed events and pass other events and comments untouched', () => {
      const text =
        ': keep-alive\r\n\r\n' +
        `data: ${JSON.stringify(chunk({ content: 'x' }, null, null))}\r\n\r\n` +
        `data: ${JSON.stringify({ ...chunk({}, null), choices: [], usage: USAGE })}\r\n\r\n` +
        'data: [DONE]\r\n\r\n';
      expect(filterAll(splitEvery(Buffer.from(text), 4))).toBe(
        ': keep-alive\r\n\r\n' +
          `data: ${JSON.stringify(chunk({ content: 'x' }, null))}\r\n\r\n` +
          'data: [DONE]\r\n\r\n',
      );
    });

    it('should keep a chunk whose usage is an object while it still has choices', () => {
      // Not the usage-only chunk the forced option adds: the client sees what the upstream sent.
      const event = sse(chunk({ content: 'x' }, 'stop', USAGE));
      expect(filterAll([Buffer.from(event)])).toBe(event);
    });

    it('should keep an Azure content-filter chunk (empty choices, no usage)', () => {
      const event = sse({
        choices: [],
        created: 0,
        id: '',
        prompt_filter_results: [],
        usage: null,
      });
      expect(filterAll([Buffer.from(event)])).toBe(
        sse({ choices: [], created: 0, id: '', prompt_filter_results: [] }),
      );
    });
  });

  describe('end', () => {
    it('should write a last event that came without its blank line', () => {
      const filter = new ChatUsageChunkFilter();
      expect(filter.push(Buffer.from('data: [DONE]')).length).toBe(0);
      expect(filter.end().toString()).toBe('data: [DONE]');
    });
  });
});

describe(withoutTopLevelNull.name, () => {
  it('should take out the member wherever it stands and nothing else', () => {
    expect(withoutTopLevelNull('{"a":1,"usage":null}', 'usage')).toBe('{"a":1}');
    expect(withoutTopLevelNull('{"usage":null,"a":1}', 'usage')).toBe('{"a":1}');
    expect(withoutTopLevelNull('{"usage":null}', 'usage')).toBe('{}');
    expect(withoutTopLevelNull('{"a":1, "usage" : null ,"b":2}', 'usage')).toBe('{"a":1 ,"b":2}');
  });

  it('should leave nested members, strings and other values alone', () => {
    expect(withoutTopLevelNull('{"a":{"usage":null}}', 'usage')).toBeNull();
    expect(withoutTopLevelNull('{"a":[{"usage":null}]}', 'usage')).toBeNull();
    expect(withoutTopLevelNull('{"a":"\\",\\"usage\\":null"}', 'usage')).toBeNull();
    expect(withoutTopLevelNull('{"a":"x\\\\","usage":{}}', 'usage')).toBeNull();
    expect(withoutTopLevelNull('{"usage":nullx}', 'usage')).toBeNull();
    expect(withoutTopLevelNull('[{"usage":null}]', 'usage')).toBeNull();
    expect(withoutTopLevelNull('{"a":"x\\\\","usage":null}', 'usage')).toBe('{"a":"x\\\\"}');
  });
});

import { emptyUsage } from 'src/modules/usage/pricing/token-usage';
import { OpenAIChatTap, usageFromChatCompletion } from './openai-chat.tap';

type Json = Record<string, unknown>;

function chunk(delta: Json, finish: string | null = null, usage: unknown = null): Json {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-5',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage,
  };
}

const USAGE = {
  prompt_tokens: 1200,
  completion_tokens: 300,
  total_tokens: 1500,
  prompt_tokens_details: { cached_tokens: 1000, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 200 },
};

function sse(payloads: (Json | string)[]): Buffer {
  return Buffer.from(
    payloads.map((p) => `data: ${typeof p === 'string' ? p : JSON.stringify(p)}\n\n`).join(''),
    'utf8',
  );
}

/** A whole include_usage stream: role, content (quoting the word "usage"), tool call, finish, usage. */
const STREAM = sse([
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'The "usage": {field} and "error": {x} ' }),
  chunk({ content: 'usage' }),
  chunk({
    tool_calls: [
      { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } },
    ],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"usage":{"a":1}}' } }] }),
  chunk({}, 'tool_calls'),
  { ...chunk({}), choices: [], usage: USAGE },
  '[DONE]',
]);

function tapOver(pieces: Buffer[]): OpenAIChatTap {
  const tap = new OpenAIChatTap();
  for (const piece of pieces) tap.push(piece);
  tap.end();
  return tap;
}

describe(OpenAIChatTap.name, () => {
  describe('usage', () => {
    it('should split the prompt into uncached input and cache reads and count reasoning as output when the usage chunk arrives', () => {
      const tap = tapOver([STREAM]);
      expect(tap.usage).toEqual({
        ...emptyUsage(),
        inputTokens: 200,
        cacheReadTokens: 1000,
        outputTokens: 300,
      });
      expect(tap.complete).toBe(true);
      expect(tap.sawError).toBe(false);
    });

    it('should read the same usage and completeness when the stream is split at every byte offset', () => {
      const whole = tapOver([STREAM]);
      for (let at = 1; at < STREAM.length; at++) {
        const tap = tapOver([STREAM.subarray(0, at), STREAM.subarray(at)]);
        expect([tap.usage, tap.complete, tap.sawError]).toEqual([
          whole.usage,
          whole.complete,
          whole.sawError,
        ]);
      }
    });

    it('should parse only the usage chunk, not the content chunks that carry usage: null', () => {
      const parse = jest.spyOn(JSON, 'parse');
      try {
        tapOver([STREAM]);
        expect(parse).toHaveBeenCalledTimes(1);
      } finally {
        parse.mockRestore();
      }
    });

    it('should read a pretty-printed usage object when an OpenAI-compatible upstream sends one', () => {
      const tap = tapOver([
        Buffer.from(
          'data: {"choices": [], "usage" : {"prompt_tokens": 7, "completion_tokens": 2}}\n\ndata: [DONE]\n\n',
        ),
      ]);
      expect(tap.usage).toMatchObject({ inputTokens: 7, outputTokens: 2, cacheReadTokens: 0 });
    });

    it('should charge one output token per chunk forwarded when the stream is cut before its usage', () => {
      const cut = STREAM.subarray(0, STREAM.lastIndexOf('data: ', STREAM.indexOf('"choices":[],')));
      const tap = tapOver([cut]);
      // role, two contents, two tool-call deltas and the finish chunk went out.
      expect(tap.usage).toEqual({ ...emptyUsage(), outputTokens: 6 });
    });
  });

  describe('complete', () => {
    it('should not count a stream cut after its finish chunk but before [DONE] as complete', () => {
      const cut = STREAM.subarray(0, STREAM.indexOf('data: [DONE]'));
      const tap = tapOver([cut]);
      expect(tap.complete).toBe(false);
      // The usage chunk did arrive, so billing is exact even though the stream was cut.
      expect(tap.usage.outputTokens).toBe(300);
    });

    it('should count a stream without include_usage as complete at [DONE]', () => {
      const tap = tapOver([sse([chunk({ content: 'hi' }), chunk({}, 'stop'), '[DONE]'])]);
      expect(tap.complete).toBe(true);
      expect(tap.usage).toEqual({ ...emptyUsage(), outputTokens: 2 });
    });
  });

  describe('sawError', () => {
    it('should report an error when a data line carries an error object', () => {
      const tap = tapOver([
        sse([
          chunk({ content: 'partial' }),
          { error: { message: 'overloaded', type: 'server_error', param: null, code: null } },
        ]),
      ]);
      expect([tap.sawError, tap.complete]).toEqual([true, false]);
    });

    it('should report an error when an upstream sends the error as a string', () => {
      expect(tapOver([sse([{ error: 'upstream exploded' }])]).sawError).toBe(true);
    });

    it('should not report an error when only the content mentions one', () => {
      const tap = tapOver([sse([chunk({ content: '{"error": "not really"}' }), '[DONE]'])]);
      expect(tap.sawError).toBe(false);
    });
  });
});

describe(usageFromChatCompletion.name, () => {
  it('should read the usage of a chat.completion body', () => {
    const body = Buffer.from(
      JSON.stringify({ object: 'chat.completion', choices: [], usage: USAGE }),
      'utf8',
    );
    expect(usageFromChatCompletion(body)).toEqual({
      ...emptyUsage(),
      inputTokens: 200,
      cacheReadTokens: 1000,
      outputTokens: 300,
    });
  });

  it('should give empty usage for an error body, garbage and an empty body', () => {
    for (const text of [
      '{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}',
      '<html>502</html>',
      '{"usage": "lots"}',
      '',
    ]) {
      expect(usageFromChatCompletion(Buffer.from(text))).toEqual(emptyUsage());
    }
  });

  it('should read a whole chunk stream when the body is one', () => {
    expect(usageFromChatCompletion(STREAM)).toMatchObject({ inputTokens: 200, outputTokens: 300 });
  });
});

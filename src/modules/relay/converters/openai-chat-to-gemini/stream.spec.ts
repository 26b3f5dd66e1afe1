import {
  geminiResponse,
  geminiSse,
  geminiStream,
  splitEvery,
} from '../../../../../test/factories/gemini-chunks.factory';
import { ChatStreamContext, GeminiChatChunkStream } from './stream';

const ctx: ChatStreamContext = {
  id: 'chatcmpl-req-1',
  model: 'gpt-4o',
  created: 1_700_000_000,
  requestId: 'req-1',
  includeUsage: false,
};

function run(pieces: Buffer[], overrides: Partial<ChatStreamContext> = {}): string {
  const stream = new GeminiChatChunkStream({ ...ctx, ...overrides });
  const out = pieces.map((piece) => stream.push(piece));
  return Buffer.concat([...out, stream.end()]).toString('utf8');
}

/** The JSON payloads of the data lines, [DONE] as a string; fails on anything else. */
function payloads(sse: string): any[] {
  expect(sse.endsWith('\n\n')).toBe(true);
  return sse
    .split('\n\n')
    .filter((event) => event.length > 0)
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      const data = event.slice(6);
      return data === '[DONE]' ? data : JSON.parse(data);
    });
}

function deltas(sse: string): any[] {
  return payloads(sse)
    .filter((chunk) => chunk !== '[DONE]' && chunk.choices?.length > 0)
    .map((chunk) => chunk.choices[0].delta);
}

const usage = {
  promptTokenCount: 12,
  cachedContentTokenCount: 2,
  candidatesTokenCount: 7,
  thoughtsTokenCount: 3,
  totalTokenCount: 22,
};

const textStream = geminiStream([{ text: 'Héllo ' }, { text: 'wörld 🌍' }], {
  finishReason: 'STOP',
  usage,
});

describe(GeminiChatChunkStream.name, () => {
  describe('push', () => {
    it('should stream a role chunk, content deltas, a finish chunk and [DONE]', () => {
      const chunks = payloads(run([textStream]));
      expect(chunks).toEqual([
        ...[{ role: 'assistant', content: '' }, { content: 'Héllo ' }, { content: 'wörld 🌍' }].map(
          (delta) => ({
            id: 'chatcmpl-req-1',
            object: 'chat.completion.chunk',
            created: 1_700_000_000,
            model: 'gpt-4o',
            choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
          }),
        ),
        {
          id: 'chatcmpl-req-1',
          object: 'chat.completion.chunk',
          created: 1_700_000_000,
          model: 'gpt-4o',
          choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
        },
        '[DONE]',
      ]);
    });

    it('should write the same stream whatever the chunk boundaries, inside events and characters', () => {
      const whole = run([textStream]);
      for (const size of [1, 2, 3, 5, 7, 13]) expect(run(splitEvery(textStream, size))).toBe(whole);
    });

    it('should end with a usage chunk, and null usage on every other, when include_usage is asked', () => {
      const chunks = payloads(run([textStream], { includeUsage: true }));
      expect(chunks.at(-1)).toBe('[DONE]');
      expect(chunks.at(-2)).toEqual({
        id: 'chatcmpl-req-1',
        object: 'chat.completion.chunk',
        created: 1_700_000_000,
        model: 'gpt-4o',
        choices: [],
        usage: {
          prompt_tokens: 12,
          completion_tokens: 10,
          total_tokens: 22,
          prompt_tokens_details: { cached_tokens: 2 },
          completion_tokens_details: { reasoning_tokens: 3 },
        },
      });
      expect(chunks.slice(0, -2).every((chunk) => chunk.usage === null)).toBe(true);
    });

    it('should stream thoughts as reasoning_content and each call as one tool_calls delta', () => {
      const sse = run(
        splitEvery(
          geminiStream(
            [
              { text: 'Thinking…', thought: true },
              {
                functionCall: { name: 'get_weather', args: { city: 'Zürich' } },
                thoughtSignature: 's1',
              },
              { functionCall: { id: 'g-2', name: 'get_time', args: {} } },
            ],
            { finishReason: 'STOP' },
          ),
          4,
        ),
      );
      expect(deltas(sse)).toEqual([
        { role: 'assistant', content: '' },
        { reasoning_content: 'Thinking…' },
        {
          tool_calls: [
            {
              index: 0,
              id: 'call_sy_req-1_0',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Zürich"}' },
              extra_content: { google: { thought_signature: 's1' } },
            },
          ],
        },
        {
          tool_calls: [
            {
              index: 1,
              id: 'g-2',
              type: 'function',
              function: { name: 'get_time', arguments: '{}' },
            },
          ],
        },
        {},
      ]);
      expect(payloads(sse).at(-2).choices[0].finish_reason).toBe('tool_calls');
    });

    it('should map MAX_TOKENS to length', () => {
      const sse = run([geminiStream([{ text: 'cut' }], { finishReason: 'MAX_TOKENS' })]);
      expect(payloads(sse).at(-2).choices[0].finish_reason).toBe('length');
    });
  });

  describe('end', () => {
    it('should end with an error and no [DONE] when the stream stops before a finish reason', () => {
      const sse = run([geminiSse([geminiResponse([{ text: 'half' }])])]);
      const chunks = payloads(sse);
      expect(chunks).not.toContain('[DONE]');
      expect(chunks.at(-1)).toEqual({
        error: {
          message: 'upstream stream ended before it was complete',
          type: 'server_error',
          param: null,
          code: null,
        },
      });
    });

    it('should turn an error object in the stream into an OpenAI stream error with nothing after it', () => {
      const sse = run([
        geminiSse([
          geminiResponse([{ text: 'a' }]),
          { error: { code: 429, message: 'Resource exhausted', status: 'RESOURCE_EXHAUSTED' } },
          geminiResponse([{ text: 'b' }], { finishReason: 'STOP' }),
        ]),
      ]);
      const chunks = payloads(sse);
      expect(chunks.at(-1)).toEqual({
        error: {
          message: 'Resource exhausted',
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      });
      expect(deltas(sse)).toEqual([{ role: 'assistant', content: '' }, { content: 'a' }]);
    });

    it('should fail the stream on an event that is not JSON', () => {
      const chunks = payloads(run([Buffer.from('data: {not json\r\n\r\n')]));
      expect(chunks).toHaveLength(1);
      expect(chunks[0].error.message).toBe('upstream sent a malformed stream event');
    });
  });
});

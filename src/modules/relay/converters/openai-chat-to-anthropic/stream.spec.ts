import { Stream } from 'openai/streaming';
import {
  AnthropicScript,
  anthropicStream,
  anthropicStreamEvents,
  sseBytes,
} from '../../../../../test/factories/anthropic-message.factory';
import { ChatCompletionChunkStream, ChatStreamContext } from './stream';

const ctx: ChatStreamContext = {
  id: 'chatcmpl-req-1',
  model: 'gpt-4o',
  created: 1_700_000_000,
  jsonTool: 'switchyard_json_response',
  includeUsage: false,
};

/** Runs bytes through a fresh transform, in the given pieces, and returns everything it wrote. */
function run(
  pieces: Buffer[],
  overrides: Partial<ChatStreamContext> = {},
): { text: string; endText: string } {
  const stream = new ChatCompletionChunkStream({ ...ctx, ...overrides });
  const out = pieces.map((piece) => stream.push(piece));
  const end = stream.end();
  return { text: Buffer.concat([...out, end]).toString('utf8'), endText: end.toString('utf8') };
}

function convert(script: AnthropicScript, overrides: Partial<ChatStreamContext> = {}): string {
  return run([anthropicStream(script)], overrides).text;
}

/** The JSON payloads of the data lines, without [DONE]; fails on anything that is not SSE data. */
function payloads(sse: string): any[] {
  expect(sse.endsWith('\n\n') || sse === '').toBe(true);
  return sse
    .split('\n\n')
    .filter((event) => event.length > 0)
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      expect(event.includes('\n')).toBe(false);
      return event.slice(6);
    })
    .filter((data) => data !== '[DONE]')
    .map((data) => JSON.parse(data));
}

function deltas(sse: string): any[] {
  return payloads(sse)
    .filter((chunk) => chunk.choices?.length > 0)
    .map((chunk) => chunk.choices[0].delta);
}

const text: AnthropicScript = {
  content: [{ type: 'text', text: 'Hello there, world.' }],
  deltaSize: 7,
};

describe(ChatCompletionChunkStream.name, () => {
  describe('push', () => {
    it('should stream a role chunk, content deltas and a finish chunk when Claude answers with text', () => {
      const sse = convert(text);
      const chunks = payloads(sse);
      expect(chunks).toEqual([
        ...[
          { role: 'assistant', content: '' },
          { content: 'Hello t' },
          { content: 'here, w' },
          { content: 'orld.' },
        ].map((delta) => ({
          id: 'chatcmpl-req-1',
          object: 'chat.completion.chunk',
          created: 1_700_000_000,
          model: 'gpt-4o',
          choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
        })),
        {
          id: 'chatcmpl-req-1',
          object: 'chat.completion.chunk',
          created: 1_700_000_000,
          model: 'gpt-4o',
          choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
        },
      ]);
      expect(sse.endsWith('data: [DONE]\n\n')).toBe(true);
    });

    it('should end with a usage chunk, cached tokens included, and usage: null elsewhere when include_usage is set', () => {
      const script: AnthropicScript = {
        ...text,
        usage: {
          input_tokens: 20,
          cache_read_input_tokens: 3000,
          cache_creation_input_tokens: 100,
          output_tokens: 9,
        },
      };
      for (const cumulativeDeltaUsage of [false, true]) {
        const chunks = payloads(
          convert({ ...script, cumulativeDeltaUsage }, { includeUsage: true }),
        );
        const last = chunks.at(-1);
        expect(last).toEqual({
          id: 'chatcmpl-req-1',
          object: 'chat.completion.chunk',
          created: 1_700_000_000,
          model: 'gpt-4o',
          choices: [],
          usage: {
            prompt_tokens: 3120,
            completion_tokens: 9,
            total_tokens: 3129,
            prompt_tokens_details: { cached_tokens: 3000, cache_write_tokens: 100 },
          },
        });
        for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
      }
    });

    it('should carry no usage field at all when include_usage is not set', () => {
      for (const chunk of payloads(convert(text))) expect(chunk).not.toHaveProperty('usage');
    });

    it('should stream parallel tool calls interleaved with text with OpenAI tool-call indexes', () => {
      const sse = convert({
        content: [
          { type: 'text', text: 'Let me check both.' },
          {
            type: 'tool_use',
            id: 'toolu_A',
            name: 'weather',
            input: { city: 'Paris', units: 'c' },
          },
          { type: 'text', text: 'And…' },
          { type: 'tool_use', id: 'toolu_B', name: 'time', input: { zone: 'Europe/Rome' } },
        ],
        stopReason: 'tool_use',
        deltaSize: 5,
      });
      const all = deltas(sse);
      const calls = all.filter((delta) => delta.tool_calls).map((delta) => delta.tool_calls);
      expect(calls[0]).toEqual([
        { index: 0, id: 'toolu_A', type: 'function', function: { name: 'weather', arguments: '' } },
      ]);
      const openB = calls.findIndex((call) => call[0].id === 'toolu_B');
      expect(calls[openB]).toEqual([
        { index: 1, id: 'toolu_B', type: 'function', function: { name: 'time', arguments: '' } },
      ]);
      for (const call of calls) {
        expect(call).toHaveLength(1);
        if (call[0].id === undefined)
          expect(Object.keys(call[0]).sort()).toEqual(['function', 'index']);
      }
      const args = (index: number): string =>
        calls
          .filter((call) => call[0].index === index)
          .map((call) => call[0].function.arguments)
          .join('');
      expect(JSON.parse(args(0))).toEqual({ city: 'Paris', units: 'c' });
      expect(JSON.parse(args(1))).toEqual({ zone: 'Europe/Rome' });
      expect(calls.slice(1, openB).every((call) => call[0].index === 0)).toBe(true);
      expect(all.map((delta) => delta.content ?? '').join('')).toBe('Let me check both.And…');
      expect(payloads(sse).at(-1).choices[0].finish_reason).toBe('tool_calls');
    });

    it('should stream the json_schema tool input as content and finish with stop', () => {
      const sse = convert({
        content: [
          { type: 'tool_use', id: 'toolu_J', name: ctx.jsonTool!, input: { answer: 'oui', n: 2 } },
        ],
        stopReason: 'tool_use',
        deltaSize: 3,
      });
      const all = deltas(sse);
      expect(all.some((delta) => delta.tool_calls)).toBe(false);
      expect(JSON.parse(all.map((delta) => delta.content ?? '').join(''))).toEqual({
        answer: 'oui',
        n: 2,
      });
      expect(payloads(sse).at(-1).choices[0].finish_reason).toBe('stop');
    });

    it('should stream thinking as reasoning_content and each signed block as thinking_blocks', () => {
      const sse = convert({
        content: [
          { type: 'thinking', thinking: 'Think about it carefully.', signature: 'EqQBCkYI' },
          { type: 'redacted_thinking', data: 'EmwKAhgB' },
          { type: 'text', text: 'Done.' },
        ],
        deltaSize: 6,
      });
      const all = deltas(sse);
      expect(all.map((delta) => delta.reasoning_content ?? '').join('')).toBe(
        'Think about it carefully.',
      );
      expect(
        all.filter((delta) => delta.thinking_blocks).map((delta) => delta.thinking_blocks),
      ).toEqual([
        [{ type: 'thinking', thinking: 'Think about it carefully.', signature: 'EqQBCkYI' }],
        [{ type: 'redacted_thinking', data: 'EmwKAhgB' }],
      ]);
      expect(all.map((delta) => delta.content ?? '').join('')).toBe('Done.');
    });

    it('should turn an Anthropic error event into an OpenAI stream error and stop there', () => {
      const events = anthropicStreamEvents(text);
      const broken = sseBytes([
        ...events.slice(0, 3),
        ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
        ...events.slice(3),
      ]);
      const { text: sse, endText } = run([broken]);
      const last = sse.split('\n\n').filter(Boolean).at(-1);
      expect(JSON.parse(last!.slice(6))).toEqual({
        error: { message: 'Overloaded', type: 'server_error', param: null, code: null },
      });
      expect(sse).not.toContain('[DONE]');
      expect(sse).not.toContain('finish_reason":"stop');
      expect(endText).toBe('');
    });

    it('should fail the stream instead of sending [DONE] when the upstream ends before message_stop', () => {
      const events = anthropicStreamEvents(text);
      const { text: sse, endText } = run([sseBytes(events.slice(0, -2))]);
      expect(sse).not.toContain('[DONE]');
      expect(JSON.parse(endText.slice(6))).toMatchObject({
        error: { message: 'upstream stream ended before it was complete', type: 'server_error' },
      });
    });

    it('should fail the stream when an event is not JSON', () => {
      const { text: sse } = run([Buffer.from('event: content_block_delta\ndata: {not json\n\n')]);
      expect(payloads(sse)).toEqual([
        { error: expect.objectContaining({ message: 'upstream sent a malformed stream event' }) },
      ]);
    });

    it('should write nothing for pings and incomplete events', () => {
      const stream = new ChatCompletionChunkStream(ctx);
      expect(stream.push(Buffer.from('event: ping\ndata: {"type":"ping"}\n\n')).length).toBe(0);
      expect(stream.push(Buffer.from('event: message_start\ndata: {"type":"mess')).length).toBe(0);
    });

    it('should produce the same bytes when a multibyte stream is split at every byte offset', () => {
      const bytes = anthropicStream({
        content: [{ type: 'text', text: 'héllo wörld — 世界 🎉!' }],
        deltaSize: 3,
      });
      const whole = run([bytes]).text;
      expect(
        deltas(whole)
          .map((delta) => delta.content ?? '')
          .join(''),
      ).toBe('héllo wörld — 世界 🎉!');
      for (let at = 0; at <= bytes.length; at++) {
        expect(run([bytes.subarray(0, at), bytes.subarray(at)]).text).toBe(whole);
      }
      const oneByOne = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
      expect(run(oneByOne).text).toBe(whole);
    });

    it('should produce chunks the openai SDK stream reader parses', async () => {
      const sse = convert(
        {
          content: [
            { type: 'text', text: 'A' },
            { type: 'tool_use', id: 'toolu_1', name: 'f', input: { x: 1 } },
          ],
          stopReason: 'tool_use',
        },
        { includeUsage: true },
      );
      const stream = Stream.fromSSEResponse<any>(new Response(sse), new AbortController());
      const chunks: any[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks).toEqual(payloads(sse));
      expect(chunks.at(-1).usage.total_tokens).toBe(15);
    });
  });

  describe('end', () => {
    it('should send [DONE] exactly once, after everything else, when the stream completed', () => {
      const { text: sse, endText } = run([anthropicStream(text)]);
      expect(endText).toBe('data: [DONE]\n\n');
      expect(sse.split('[DONE]')).toHaveLength(2);
    });

    it('should flush an event whose blank line never came before closing', () => {
      const bytes = anthropicStream(text);
      const { endText } = run([bytes.subarray(0, bytes.length - 1)]);
      expect(endText).toBe('data: [DONE]\n\n');
    });
  });
});

import {
  AnthropicUsageTap,
  anthropicErrorEvent,
  usageFromAnthropicMessage,
} from './anthropic-usage.tap';
import { SseParser } from 'src/modules/relay/sse/sse-parser';

/** Serialises [event, payload] pairs the way the Messages API streams them. */
function sse(events: [string, unknown][]): Buffer {
  return Buffer.from(
    events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join(''),
    'utf8',
  );
}

function messageStart(model: string, usage: Record<string, unknown>): [string, unknown] {
  return [
    'message_start',
    {
      type: 'message_start',
      message: {
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        content: [],
        model,
        stop_reason: null,
        stop_sequence: null,
        usage,
      },
    },
  ];
}

const ping: [string, unknown] = ['ping', { type: 'ping' }];
const stop: [string, unknown] = ['message_stop', { type: 'message_stop' }];

function messageDelta(stopReason: string, usage: Record<string, unknown>): [string, unknown] {
  return [
    'message_delta',
    { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage },
  ];
}

/** A text answer: one block, several deltas. */
const textStream = sse([
  messageStart('claude-sonnet-4-5-20250929', {
    input_tokens: 25,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: 1,
  }),
  [
    'content_block_start',
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ],
  ping,
  [
    'content_block_delta',
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
  ],
  [
    'content_block_delta',
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' wörld 😀' } },
  ],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  messageDelta('end_turn', { output_tokens: 15 }),
  stop,
]);

/** Extended thinking then a tool call, with 5m/1h cache writes and a cache read. */
const thinkingToolStream = sse([
  messageStart('claude-opus-4-1-20250805', {
    input_tokens: 472,
    cache_creation_input_tokens: 3000,
    cache_read_input_tokens: 12000,
    cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
    output_tokens: 2,
  }),
  [
    'content_block_start',
    { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
  ],
  [
    'content_block_delta',
    {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'thinking_delta', thinking: 'Need the weather.' },
    },
  ],
  [
    'content_block_delta',
    {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' },
    },
  ],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  [
    'content_block_start',
    {
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: {} },
    },
  ],
  [
    'content_block_delta',
    {
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: '{"location": "San Fra' },
    },
  ],
  [
    'content_block_delta',
    {
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: 'ncisco, CA"}' },
    },
  ],
  ['content_block_stop', { type: 'content_block_stop', index: 1 }],
  messageDelta('tool_use', { output_tokens: 89 }),
  stop,
]);

describe(AnthropicUsageTap.name, () => {
  describe('push', () => {
    it('should report usage, model and stop reason when a text stream completes', () => {
      const tap = new AnthropicUsageTap();
      tap.push(textStream);
      tap.end();
      expect(tap.usage).toEqual({
        inputTokens: 25,
        outputTokens: 15,
        cacheCreation5mTokens: 0,
        cacheCreation1hTokens: 0,
        cacheReadTokens: 0,
      });
      expect(tap.model).toBe('claude-sonnet-4-5-20250929');
      expect(tap.stopReason).toBe('end_turn');
      expect(tap.sawMessageStart).toBe(true);
      expect(tap.sawMessageStop).toBe(true);
      expect(tap.sawError).toBe(false);
      expect(tap.eventCount).toBe(8);
      expect(tap.malformedEvents).toBe(0);
    });

    it('should split cache writes into 5m and 1h when the breakdown is present', () => {
      const tap = new AnthropicUsageTap();
      tap.push(thinkingToolStream);
      tap.end();
      expect(tap.usage).toEqual({
        inputTokens: 472,
        outputTokens: 89,
        cacheCreation5mTokens: 1000,
        cacheCreation1hTokens: 2000,
        cacheReadTokens: 12000,
      });
      expect(tap.model).toBe('claude-opus-4-1-20250805');
      expect(tap.stopReason).toBe('tool_use');
      expect(tap.sawMessageStop).toBe(true);
    });

    it('should give the same result for every chunk split when a stream is cut in two', () => {
      for (let cut = 0; cut <= thinkingToolStream.length; cut += 7) {
        const tap = new AnthropicUsageTap();
        tap.push(thinkingToolStream.subarray(0, cut));
        tap.push(thinkingToolStream.subarray(cut));
        tap.end();
        expect(tap.usage.outputTokens).toBe(89);
        expect(tap.usage.cacheCreation1hTokens).toBe(2000);
        expect(tap.sawMessageStop).toBe(true);
      }
    });

    it('should count all cache writes as 5m when the breakdown is absent', () => {
      const tap = new AnthropicUsageTap();
      tap.push(
        sse([
          messageStart('claude-3-5-haiku-20241022', {
            input_tokens: 10,
            cache_creation_input_tokens: 4096,
            cache_read_input_tokens: 0,
            output_tokens: 1,
          }),
          messageDelta('end_turn', { output_tokens: 3 }),
          stop,
        ]),
      );
      expect(tap.usage.cacheCreation5mTokens).toBe(4096);
      expect(tap.usage.cacheCreation1hTokens).toBe(0);
    });

    it('should count the unexplained remainder as 5m when the total exceeds the breakdown', () => {
      const tap = new AnthropicUsageTap();
      tap.push(
        sse([
          messageStart('claude-sonnet-4', {
            input_tokens: 1,
            cache_creation_input_tokens: 500,
            cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 300 },
            output_tokens: 1,
          }),
        ]),
      );
      expect(tap.usage.cacheCreation5mTokens).toBe(200);
      expect(tap.usage.cacheCreation1hTokens).toBe(300);
    });

    it('should take the latest cumulative output count when several message_delta events arrive', () => {
      const tap = new AnthropicUsageTap();
      tap.push(
        sse([
          messageStart('claude-sonnet-4', { input_tokens: 5, output_tokens: 1 }),
          messageDelta('pause_turn', { output_tokens: 40 }),
          messageDelta('end_turn', { output_tokens: 95 }),
          stop,
        ]),
      );
      expect(tap.usage.outputTokens).toBe(95);
      expect(tap.stopReason).toBe('end_turn');
    });

    it('should take updated input and cache counts when message_delta carries them', () => {
      // Server tools (web search) can grow the prompt during the turn; delta totals are final.
      const tap = new AnthropicUsageTap();
      tap.push(
        sse([
          messageStart('claude-sonnet-4', {
            input_tokens: 100,
            cache_creation_input_tokens: 300,
            cache_read_input_tokens: 50,
            cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
            output_tokens: 1,
          }),
          messageDelta('end_turn', {
            input_tokens: 900,
            cache_creation_input_tokens: 700,
            cache_read_input_tokens: 80,
            output_tokens: 60,
          }),
          stop,
        ]),
      );
      expect(tap.usage).toEqual({
        inputTokens: 900,
        outputTokens: 60,
        cacheCreation5mTokens: 500,
        cacheCreation1hTokens: 200,
        cacheReadTokens: 80,
      });
    });

    it('should keep earlier counts when message_delta sends null for them', () => {
      const tap = new AnthropicUsageTap();
      tap.push(
        sse([
          messageStart('claude-sonnet-4', {
            input_tokens: 100,
            cache_creation_input_tokens: 30,
            cache_read_input_tokens: 20,
            output_tokens: 1,
          }),
          messageDelta('end_turn', {
            input_tokens: null,
            cache_creation_input_tokens: null,
            cache_read_input_tokens: null,
            output_tokens: 9,
          }),
        ]),
      );
      expect(tap.usage).toEqual({
        inputTokens: 100,
        outputTokens: 9,
        cacheCreation5mTokens: 30,
        cacheCreation1hTokens: 0,
        cacheReadTokens: 20,
      });
    });

    it('should report a truncated stream when message_stop never arrives', () => {
      const tap = new AnthropicUsageTap();
      const cut = textStream.indexOf('event: message_delta');
      tap.push(textStream.subarray(0, cut));
      tap.end();
      expect(tap.sawMessageStart).toBe(true);
      expect(tap.sawMessageStop).toBe(false);
      expect(tap.stopReason).toBeUndefined();
      // Usage seen so far still counts: message_start's input and its initial output.
      expect(tap.usage.inputTokens).toBe(25);
      expect(tap.usage.outputTokens).toBe(1);
    });

    it('should record the error type and message when the stream carries an error event', () => {
      const tap = new AnthropicUsageTap();
      tap.push(
        sse([
          messageStart('claude-sonnet-4', { input_tokens: 12, output_tokens: 1 }),
          ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
        ]),
      );
      tap.end();
      expect(tap.sawError).toBe(true);
      expect(tap.errorType).toBe('overloaded_error');
      expect(tap.errorMessage).toBe('Overloaded');
      expect(tap.sawMessageStop).toBe(false);
      expect(tap.usage.inputTokens).toBe(12);
    });

    it('should count malformed JSON and carry on when a tracked event has bad data', () => {
      const tap = new AnthropicUsageTap();
      const bad = Buffer.from('event: message_delta\ndata: {"type":"message_delta",\n\n');
      const notObject = Buffer.from('event: message_delta\ndata: [1,2]\n\n');
      expect(() => {
        tap.push(bad);
        tap.push(notObject);
        tap.push(textStream);
        tap.end();
      }).not.toThrow();
      expect(tap.malformedEvents).toBe(2);
      expect(tap.usage.outputTokens).toBe(15);
      expect(tap.sawMessageStop).toBe(true);
    });

    it('should not parse content events when they are named, even when their data is broken', () => {
      const tap = new AnthropicUsageTap();
      tap.push(Buffer.from('event: content_block_delta\ndata: {not json\n\n'));
      expect(tap.malformedEvents).toBe(0);
      expect(tap.eventCount).toBe(1);
    });

    it('should use the data type when events come without event names', () => {
      const unnamed = textStream
        .toString('utf8')
        .split('\n')
        .filter((line) => !line.startsWith('event:'))
        .join('\n');
      const tap = new AnthropicUsageTap();
      tap.push(Buffer.from(unnamed, 'utf8'));
      tap.end();
      expect(tap.usage.outputTokens).toBe(15);
      expect(tap.sawMessageStop).toBe(true);
    });

    it('should ignore counts that are not non-negative integers when the upstream sends them', () => {
      const tap = new AnthropicUsageTap();
      tap.push(
        sse([
          messageStart('claude-sonnet-4', { input_tokens: 10, output_tokens: 1 }),
          messageDelta('end_turn', { input_tokens: -5, output_tokens: '7' }),
        ]),
      );
      expect(tap.usage.inputTokens).toBe(10);
      expect(tap.usage.outputTokens).toBe(1);
    });

    it('should return a copy of usage when read, so later events do not change it', () => {
      const tap = new AnthropicUsageTap();
      tap.push(sse([messageStart('claude-sonnet-4', { input_tokens: 10, output_tokens: 1 })]));
      const snapshot = tap.usage;
      tap.push(sse([messageDelta('end_turn', { output_tokens: 50 })]));
      expect(snapshot.outputTokens).toBe(1);
      expect(tap.usage.outputTokens).toBe(50);
    });

    it('should leave the forwarded chunk untouched when it observes it', () => {
      const chunk = Buffer.from(textStream);
      const tap = new AnthropicUsageTap();
      tap.push(chunk);
      expect(chunk.equals(textStream)).toBe(true);
    });
  });

  describe('end', () => {
    it('should flush message_stop when the stream ends without its blank line', () => {
      const tap = new AnthropicUsageTap(new SseParser());
      tap.push(Buffer.from('event: message_stop\ndata: {"type":"message_stop"}\n'));
      expect(tap.sawMessageStop).toBe(false);
      tap.end();
      expect(tap.sawMessageStop).toBe(true);
    });
  });

  describe('billableUsage', () => {
    const delta = (text: string): [string, unknown] => [
      'content_block_delta',
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
    ];

    it('should count one output token per content delta when the stream stops before message_delta', () => {
      const tap = new AnthropicUsageTap();
      tap.push(
        sse([
          messageStart('m', { input_tokens: 10, output_tokens: 1 }),
          delta('a'),
          delta('b'),
          delta('c'),
        ]),
      );
      expect(tap.usage.outputTokens).toBe(1);
      expect(tap.billableUsage.outputTokens).toBe(3);
      expect(tap.billableUsage.inputTokens).toBe(10);
    });

    it('should use the reported output once message_delta arrived', () => {
      const tap = new AnthropicUsageTap();
      tap.push(
        sse([
          messageStart('m', { input_tokens: 10, output_tokens: 1 }),
          delta('a'),
          delta('b'),
          messageDelta('end_turn', { output_tokens: 2 }),
        ]),
      );
      expect(tap.billableUsage.outputTokens).toBe(2);
    });
  });
});

describe(usageFromAnthropicMessage.name, () => {
  it('should read all token kinds when given a Message object', () => {
    const message = {
      id: 'msg_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-20250514',
      content: [{ type: 'text', text: 'Hi' }],
      stop_reason: 'end_turn',
      usage: {
        input_tokens: 1000,
        output_tokens: 500,
        cache_creation_input_tokens: 5000,
        cache_read_input_tokens: 4000,
        cache_creation: { ephemeral_5m_input_tokens: 2000, ephemeral_1h_input_tokens: 3000 },
      },
    };
    expect(usageFromAnthropicMessage(message)).toEqual({
      inputTokens: 1000,
      outputTokens: 500,
      cacheCreation5mTokens: 2000,
      cacheCreation1hTokens: 3000,
      cacheReadTokens: 4000,
    });
  });

  it('should return zeros when the value has no usage', () => {
    expect(usageFromAnthropicMessage({ type: 'error' })).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cacheCreation5mTokens: 0,
      cacheCreation1hTokens: 0,
      cacheReadTokens: 0,
    });
    expect(usageFromAnthropicMessage(null)).toEqual(usageFromAnthropicMessage('x'));
  });
});

describe(anthropicErrorEvent.name, () => {
  it('should produce one SSE error event that a parser reads back when given a type and message', () => {
    const bytes = anthropicErrorEvent('api_error', 'Upstream reset\nmid-stream "quoted"');
    expect(bytes.toString('utf8')).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"api_error",' +
        '"message":"Upstream reset\\nmid-stream \\"quoted\\""}}\n\n',
    );
    const events = new SseParser().push(bytes);
    expect(events).toHaveLength(1);
    expect(events[0].event).toBe('error');
    expect(JSON.parse(events[0].data)).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'Upstream reset\nmid-stream "quoted"' },
    });
  });

  it('should be recognised by the tap as an error when it is appended to a stream', () => {
    const tap = new AnthropicUsageTap();
    tap.push(anthropicErrorEvent('overloaded_error', 'Overloaded'));
    expect(tap.sawError).toBe(true);
    expect(tap.errorType).toBe('overloaded_error');
  });
});

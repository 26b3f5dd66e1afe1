import {
  geminiResponse,
  geminiSse,
  geminiStream,
  splitEvery,
} from '../../../../../test/factories/gemini-chunks.factory';
import { MessageContext } from './response';
import { GeminiMessageEventStream } from './stream';

const ctx: MessageContext = { id: 'msg_req1', model: 'claude-sonnet-4-5', requestId: 'req1' };

function run(pieces: Buffer[]): string {
  const stream = new GeminiMessageEventStream(ctx);
  const out = pieces.map((piece) => stream.push(piece));
  return Buffer.concat([...out, stream.end()]).toString('utf8');
}

/** [event, data] pairs; fails unless every event is `event:` + `data:` with matching types. */
function events(sse: string): [string, any][] {
  expect(sse.endsWith('\n\n')).toBe(true);
  return sse
    .split('\n\n')
    .filter((event) => event.length > 0)
    .map((event) => {
      const [eventLine, dataLine, ...rest] = event.split('\n');
      expect(rest).toEqual([]);
      expect(eventLine.startsWith('event: ')).toBe(true);
      expect(dataLine.startsWith('data: ')).toBe(true);
      const data = JSON.parse(dataLine.slice(6));
      expect(data.type).toBe(eventLine.slice(7));
      return [data.type, data];
    });
}

const usage = {
  promptTokenCount: 120,
  cachedContentTokenCount: 20,
  candidatesTokenCount: 9,
  thoughtsTokenCount: 6,
  totalTokenCount: 135,
};

const thinkingAndCall = geminiStream(
  [
    { text: 'Plan: ', thought: true },
    { text: 'read a.ts — ünïcode', thought: true },
    { text: 'Reading ' },
    { text: 'it.' },
    { functionCall: { name: 'read_file', args: { path: 'a.ts' } }, thoughtSignature: 'sig-C' },
  ],
  { finishReason: 'STOP', usage },
);

describe(GeminiMessageEventStream.name, () => {
  it('should stream message_start, blocks with their deltas, message_delta and message_stop', () => {
    expect(events(run([thinkingAndCall]))).toEqual([
      [
        'message_start',
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
              input_tokens: 100,
              cache_creation_input_tokens: 0,
              cache_read_input_tokens: 20,
              output_tokens: 0,
            },
          },
        },
      ],
      [
        'content_block_start',
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'thinking_delta', thinking: 'Plan: ' },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'thinking_delta', thinking: 'read a.ts — ünïcode' },
        },
      ],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      [
        'content_block_start',
        { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      ],
      [
        'content_block_delta',
        { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Reading ' } },
      ],
      [
        'content_block_delta',
        { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'it.' } },
      ],
      ['content_block_stop', { type: 'content_block_stop', index: 1 }],
      [
        'content_block_start',
        {
          type: 'content_block_start',
          index: 2,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 2,
          delta: { type: 'signature_delta', signature: 'sig-C' },
        },
      ],
      ['content_block_stop', { type: 'content_block_stop', index: 2 }],
      [
        'content_block_start',
        {
          type: 'content_block_start',
          index: 3,
          content_block: { type: 'tool_use', id: 'toolu_sy_req1_0', name: 'read_file', input: {} },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 3,
          delta: { type: 'input_json_delta', partial_json: '{"path":"a.ts"}' },
        },
      ],
      ['content_block_stop', { type: 'content_block_stop', index: 3 }],
      [
        'message_delta',
        {
          type: 'message_delta',
          delta: { stop_reason: 'tool_use', stop_sequence: null },
          usage: {
            input_tokens: 100,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 20,
            output_tokens: 15,
          },
        },
      ],
      ['message_stop', { type: 'message_stop' }],
    ]);
  });

  it('should write the same events whatever the chunk boundaries, inside events and characters', () => {
    const whole = run([thinkingAndCall]);
    for (const size of [1, 2, 3, 4, 11]) expect(run(splitEvery(thinkingAndCall, size))).toBe(whole);
  });

  it('should close a thinking block with the signature of its last thought part', () => {
    const types = events(
      run([
        geminiStream(
          [{ text: 'Hmm', thought: true, thoughtSignature: 'sig-T' }, { text: 'Answer' }],
          { finishReason: 'MAX_TOKENS' },
        ),
      ]),
    ).map(([type, data]) => [type, data.delta ?? data.content_block]);
    expect(types.slice(1, 5)).toEqual([
      ['content_block_start', { type: 'thinking', thinking: '', signature: '' }],
      ['content_block_delta', { type: 'thinking_delta', thinking: 'Hmm' }],
      ['content_block_delta', { type: 'signature_delta', signature: 'sig-T' }],
      ['content_block_stop', undefined],
    ]);
    expect(types.at(-2)).toEqual([
      'message_delta',
      { stop_reason: 'max_tokens', stop_sequence: null },
    ]);
  });

  it('should end with an error event when the stream stops before a finish reason', () => {
    const out = events(run([geminiSse([geminiResponse([{ text: 'half' }])])]));
    expect(out.at(-1)).toEqual([
      'error',
      {
        type: 'error',
        error: { type: 'api_error', message: 'upstream stream ended before it was complete' },
      },
    ]);
    expect(out.map(([type]) => type)).not.toContain('message_stop');
  });

  it('should turn an error object in the stream into an overloaded_error event with nothing after it', () => {
    const out = events(
      run([
        geminiSse([
          geminiResponse([{ text: 'a' }]),
          { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } },
          geminiResponse([{ text: 'b' }], { finishReason: 'STOP' }),
        ]),
      ]),
    );
    expect(out.at(-1)).toEqual([
      'error',
      { type: 'error', error: { type: 'overloaded_error', message: 'The model is overloaded.' } },
    ]);
    expect(out.filter(([type]) => type === 'content_block_delta')).toHaveLength(1);
  });
});

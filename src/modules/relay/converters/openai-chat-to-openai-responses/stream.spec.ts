import {
  ResponsesScript,
  responsesObject,
  responsesSse,
  responsesStream,
  responsesStreamEvents,
} from '../../../../../test/factories/openai-response.factory';
import { toChatCompletion } from './response';
import { ChatChunkStream, ChatStreamContext } from './stream';

type Json = Record<string, unknown>;

const ctx: ChatStreamContext = {
  id: 'chatcmpl-req-1',
  model: 'gpt-4o',
  created: 1_700_000_000,
  includeUsage: false,
};

/** Runs bytes through a fresh transform, in the given pieces, and returns everything it wrote. */
function run(pieces: Buffer[], overrides: Partial<ChatStreamContext> = {}): string {
  const stream = new ChatChunkStream({ ...ctx, ...overrides });
  const out = pieces.map((piece) => stream.push(piece));
  out.push(stream.end());
  return Buffer.concat(out).toString('utf8');
}

function convert(script: ResponsesScript, overrides: Partial<ChatStreamContext> = {}): string {
  return run([responsesStream(script)], overrides);
}

/** The JSON payloads of the data lines, without [DONE]; fails on anything that is not SSE data. */
function payloads(sse: string): any[] {
  expect(sse.endsWith('\n\n')).toBe(true);
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

/** What a client accumulates from the chunks (the fields of a non-stream message). */
function accumulate(sse: string): { message: Json; finish: string | null } {
  const message: Json = { role: 'assistant', content: null, refusal: null };
  const calls: { id: string; type: string; function: { name: string; arguments: string } }[] = [];
  const details: Json[] = [];
  let finish: string | null = null;
  for (const chunk of payloads(sse)) {
    const choice = chunk.choices?.[0];
    if (choice === undefined) continue;
    finish = choice.finish_reason ?? finish;
    const delta = choice.delta;
    for (const field of ['content', 'refusal', 'reasoning_content']) {
      if (typeof delta[field] === 'string' && delta[field].length > 0) {
        message[field] = `${(message[field] as string | null) ?? ''}${delta[field]}`;
      }
    }
    for (const call of delta.tool_calls ?? []) {
      const known = calls[call.index];
      if (known === undefined) {
        calls[call.index] = { id: call.id, type: call.type, function: { ...call.function } };
      } else {
        known.function.arguments += String(call.function.arguments);
      }
    }
    if (Array.isArray(delta.reasoning_details)) details.push(...delta.reasoning_details);
  }
  if (calls.length > 0) message.tool_calls = calls;
  if (details.length > 0) message.reasoning_details = details;
  return { message, finish };
}

/** The non-stream completion's message and finish reason for the same script. */
function plain(script: ResponsesScript): { message: Json; finish: string } {
  const body = Buffer.from(JSON.stringify(responsesObject(script)), 'utf8');
  const out = JSON.parse(toChatCompletion(body, ctx).toString('utf8'));
  const message = { ...out.choices[0].message };
  // A stream that never sends content accumulates to null, where the body says ''.
  if (message.content === '') message.content = null;
  return { message, finish: out.choices[0].finish_reason };
}

const text: ResponsesScript = {
  output: [{ type: 'message', text: 'Hello there, world.' }],
  deltaSize: 7,
};

const parallel: ResponsesScript = {
  output: [
    {
      type: 'reasoning',
      summary: ['Two cities.', 'One call each.'],
      encrypted: 'gAAAA-1',
      id: 'rs_1',
    },
    { type: 'message', text: 'Checking both…' },
    { type: 'function_call', callId: 'call_P', name: 'weather', arguments: '{"city":"Paris"}' },
    {
      type: 'function_call',
      callId: 'call_Z',
      name: 'weather',
      arguments: '{"city":"Zürich","days":[1,2]}',
    },
  ],
  usage: { input_tokens: 1200, cached_tokens: 1000, output_tokens: 300, reasoning_tokens: 200 },
  deltaSize: 4,
};

describe(ChatChunkStream.name, () => {
  describe('push', () => {
    it('should stream a role chunk, content deltas, a finish chunk and [DONE] when the model answers with text', () => {
      const sse = convert(text);
      expect(payloads(sse)).toEqual(
        [
          [{ role: 'assistant', content: '' }, null],
          [{ content: 'Hello t' }, null],
          [{ content: 'here, w' }, null],
          [{ content: 'orld.' }, null],
          [{}, 'stop'],
        ].map(([delta, finish]) => ({
          id: 'chatcmpl-req-1',
          object: 'chat.completion.chunk',
          created: 1_700_000_000,
          model: 'gpt-4o',
          choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        })),
      );
      expect(sse.endsWith('data: [DONE]\n\n')).toBe(true);
    });

    it('should end with a choices-less usage chunk, and usage: null on every other chunk, when include_usage is set', () => {
      const chunks = payloads(convert(parallel, { includeUsage: true }));
      expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
      expect(chunks.at(-1)).toEqual({
        id: 'chatcmpl-req-1',
        object: 'chat.completion.chunk',
        created: 1_700_000_000,
        model: 'gpt-4o',
        choices: [],
        usage: {
          prompt_tokens: 1200,
          completion_tokens: 300,
          total_tokens: 1500,
          prompt_tokens_details: { cached_tokens: 1000 },
          completion_tokens_details: { reasoning_tokens: 200 },
        },
      });
      expect(payloads(convert(parallel)).every((chunk) => !('usage' in chunk))).toBe(true);
    });

    it('should accumulate into the non-stream message when the model reasons and calls tools in parallel', () => {
      const streamed = accumulate(convert(parallel));
      expect(streamed).toEqual(plain(parallel));
      expect(streamed.finish).toBe('tool_calls');
    });

    it('should start each call with its id and name, then send argument fragments under its own index when calls stream side by side', () => {
      const events = responsesStreamEvents(parallel);
      const isArgs = (e: Json, index: number): boolean =>
        e.type === 'response.function_call_arguments.delta' && e.output_index === index;
      const first = events.filter((e) => isArgs(e, 2));
      const second = events.filter((e) => isArgs(e, 3));
      // Both calls announced first, then their fragments interleaved, then everything else.
      const added = events.filter(
        (e) => e.type === 'response.output_item.added' && (e.item as Json).type === 'function_call',
      );
      const rest = events.filter((e) => !isArgs(e, 2) && !isArgs(e, 3) && !added.includes(e));
      const interleaved: Json[] = [];
      for (let i = 0; i < Math.max(first.length, second.length); i++) {
        if (second[i] !== undefined) interleaved.push(second[i]);
        if (first[i] !== undefined) interleaved.push(first[i]);
      }
      const at = rest.findIndex(
        (e) => e.type === 'response.output_item.done' && e.output_index === 2,
      );
      const reordered = [...rest.slice(0, at), ...added, ...interleaved, ...rest.slice(at)];
      const sse = run([responsesSse(reordered)]);
      const callDeltas = deltas(sse).flatMap((d) => d.tool_calls ?? []);
      expect(callDeltas.slice(0, 2)).toEqual([
        { index: 0, id: 'call_P', type: 'function', function: { name: 'weather', arguments: '' } },
        { index: 1, id: 'call_Z', type: 'function', function: { name: 'weather', arguments: '' } },
      ]);
      expect(callDeltas[2]).toEqual({ index: 1, function: { arguments: '{"ci' } });
      expect(accumulate(sse)).toEqual(plain(parallel));
    });

    it('should give the same bytes when the upstream stream is split at every byte offset, inside UTF-8 characters too', () => {
      const script: ResponsesScript = {
        output: [
          { type: 'reasoning', summary: ['思考 🌦'], encrypted: 'e' },
          { type: 'message', text: 'Grüße — 天気 🌦' },
          { type: 'function_call', callId: 'c', name: 'f', arguments: '{"c":"Zü🌦"}' },
        ],
        usage: null,
        deltaSize: 4,
      };
      // The item events with a bare terminal event: every offset re-runs the stream, so keep it short.
      const boilerplate = ['response.created', 'response.in_progress', 'response.completed'];
      const items = responsesStreamEvents(script).filter(
        (e) => !boilerplate.includes(String(e.type)),
      );
      const upstream = responsesSse([
        ...items,
        { type: 'response.completed', response: { status: 'completed', output: [] } },
      ]);
      const whole = run([upstream], { includeUsage: true });
      expect(accumulate(whole)).toEqual(plain(script));
      expect(whole).not.toContain('\ufffd');
      for (let at = 1; at < upstream.length; at++) {
        const split = run([upstream.subarray(0, at), upstream.subarray(at)], {
          includeUsage: true,
        });
        expect(split).toBe(whole);
      }
      const oneByOne: Buffer[] = [];
      for (let i = 0; i < upstream.length; i++) oneByOne.push(upstream.subarray(i, i + 1));
      expect(run(oneByOne, { includeUsage: true })).toBe(whole);
    });

    it('should give the same result without event: lines', () => {
      const bare = responsesSse(responsesStreamEvents(parallel), { eventLines: false });
      expect(run([bare])).toBe(convert(parallel));
    });

    it('should separate the texts of separate message items and summary parts with a blank line, as the body does', () => {
      const script: ResponsesScript = {
        output: [
          { type: 'reasoning', summary: ['One.', 'Two.'] },
          { type: 'reasoning', summary: ['Three.'] },
          { type: 'message', text: 'First.' },
          { type: 'message', text: 'Second.' },
        ],
        deltaSize: 3,
      };
      const { message } = accumulate(convert(script));
      expect(message.reasoning_content).toBe('One.\n\nTwo.\n\nThree.');
      expect(message.content).toBe('First.\n\nSecond.');
      expect(accumulate(convert(script))).toEqual(plain(script));
    });

    it('should stream a refusal as delta.refusal', () => {
      const sse = convert({ output: [{ type: 'refusal', refusal: 'No, sorry.' }], deltaSize: 4 });
      expect(deltas(sse).flatMap((d) => d.refusal ?? [])).toEqual(['No, ', 'sorr', 'y.']);
      expect(accumulate(sse)).toEqual(
        plain({ output: [{ type: 'refusal', refusal: 'No, sorry.' }] }),
      );
    });

    it('should show items that arrive only finished, and an output that arrives only in response.completed', () => {
      const events = responsesStreamEvents(parallel);
      const doneOnly = events.filter(
        (e) =>
          !String(e.type).endsWith('.delta') &&
          e.type !== 'response.output_item.added' &&
          e.type !== 'response.function_call_arguments.done',
      );
      expect(accumulate(run([responsesSse(doneOnly)]))).toEqual(plain(parallel));
      const finalOnly = [events[0], events.at(-1)!];
      expect(accumulate(run([responsesSse(finalOnly)]))).toEqual(plain(parallel));
    });

    it('should send what the finished arguments hold beyond the fragments that arrived', () => {
      const events = responsesStreamEvents(parallel).filter(
        (e) => !(e.type === 'response.function_call_arguments.delta' && e.output_index === 3),
      );
      expect(accumulate(run([responsesSse(events)]))).toEqual(plain(parallel));
    });

    it('should finish with length when the response is incomplete for its token limit', () => {
      const script: ResponsesScript = {
        output: [{ type: 'message', text: 'Once upon a' }],
        status: 'incomplete',
        incompleteReason: 'max_output_tokens',
      };
      const sse = convert(script);
      expect(accumulate(sse).finish).toBe('length');
      expect(sse.endsWith('data: [DONE]\n\n')).toBe(true);
    });
  });

  describe('errors', () => {
    it('should turn response.failed into an OpenAI stream error with nothing after it', () => {
      const sse = convert({
        output: [{ type: 'message', text: 'Partial' }],
        status: 'failed',
        error: { code: 'server_error', message: 'The model crashed.' },
      });
      const last = payloads(sse).at(-1);
      expect(last).toEqual({
        error: {
          message: 'The model crashed.',
          type: 'server_error',
          param: null,
          code: 'server_error',
        },
      });
      expect(sse).not.toContain('[DONE]');
      expect(payloads(sse).some((c) => c.choices?.[0]?.finish_reason)).toBe(false);
    });

    it('should turn an error event into an OpenAI stream error, rate limits as such', () => {
      const sse = run([
        responsesSse([
          { type: 'response.created', response: {} },
          { type: 'error', code: 'rate_limit_exceeded', message: 'Slow down.', param: null },
          { type: 'response.completed', response: { status: 'completed', output: [] } },
        ]),
      ]);
      expect(payloads(sse).at(-1)).toEqual({
        error: {
          message: 'Slow down.',
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      });
      expect(sse).not.toContain('[DONE]');
    });

    it('should end a stream cut before its terminal event with an error, never [DONE]', () => {
      const events = responsesStreamEvents(text);
      const sse = run([responsesSse(events.slice(0, -1))]);
      expect(payloads(sse).at(-1)).toEqual({
        error: {
          message: 'upstream stream ended before it was complete',
          type: 'server_error',
          param: null,
          code: null,
        },
      });
      expect(sse).not.toContain('[DONE]');
    });

    it('should fail on an event whose data is not JSON', () => {
      const sse = run([Buffer.from('event: response.created\ndata: {oops\n\n')]);
      expect(payloads(sse)).toEqual([
        {
          error: {
            message: 'upstream sent a malformed stream event',
            type: 'server_error',
            param: null,
            code: null,
          },
        },
      ]);
    });
  });
});

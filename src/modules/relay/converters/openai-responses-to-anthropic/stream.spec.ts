import {
  AnthropicScript,
  anthropicMessage,
  anthropicStream,
  anthropicStreamEvents,
  sseBytes,
} from '../../../../../test/factories/anthropic-message.factory';
import {
  responsesContext,
  thinkingToolCalls,
  webSearchAnswer,
} from '../../../../../test/factories/responses.factory';
import { LOCAL_SHELL_TOOL } from './request';
import { ResponsesContext, toResponse } from './response';
import { ResponsesEventStream } from './stream';

const context = responsesContext;

/** Runs bytes through a fresh transform, in the given pieces; returns everything it wrote. */
function run(pieces: Buffer[], ctx: ResponsesContext = context()): string {
  const stream = new ResponsesEventStream(ctx);
  const out = pieces.map((piece) => stream.push(piece));
  return Buffer.concat([...out, stream.end()]).toString('utf8');
}

interface Event {
  type: string;
  [key: string]: any;
}

/** Parses the SSE text, checking each event's framing: its `event:` line names its type. */
function events(sse: string): Event[] {
  expect(sse.endsWith('\n\n')).toBe(true);
  return sse
    .slice(0, -2)
    .split('\n\n')
    .map((frame) => {
      const [eventLine, dataLine, ...rest] = frame.split('\n');
      expect(rest).toEqual([]);
      expect(eventLine.startsWith('event: ')).toBe(true);
      expect(dataLine.startsWith('data: ')).toBe(true);
      const data = JSON.parse(dataLine.slice(6)) as Event;
      expect(data.type).toBe(eventLine.slice(7));
      return data;
    });
}

function convert(script: AnthropicScript, ctx?: ResponsesContext): Event[] {
  return events(run([anthropicStream(script)], ctx));
}

const parallelCalls = thinkingToolCalls;

describe(ResponsesEventStream.name, () => {
  describe('push', () => {
    it('should number the events from 0 and open with response.created and response.in_progress', () => {
      const all = convert({ content: [{ type: 'text', text: 'Hi' }] });
      expect(all.map((event) => event.sequence_number)).toEqual(all.map((_, i) => i));
      expect(all.slice(0, 2)).toEqual([
        {
          type: 'response.created',
          sequence_number: 0,
          response: expect.objectContaining({
            id: 'resp_req-1',
            status: 'in_progress',
            output: [],
          }),
        },
        {
          type: 'response.in_progress',
          sequence_number: 1,
          response: expect.objectContaining({ status: 'in_progress' }),
        },
      ]);
    });

    it('should stream a text answer as OpenAI does, ending with the completed Response', () => {
      const all = convert({ content: [{ type: 'text', text: 'Hello world' }], deltaSize: 6 });
      const item = { item_id: 'msg_req-1_0', output_index: 0 };
      expect(all.slice(2).map(({ sequence_number: _, ...event }) => event)).toEqual([
        {
          type: 'response.output_item.added',
          output_index: 0,
          item: {
            id: 'msg_req-1_0',
            type: 'message',
            status: 'in_progress',
            role: 'assistant',
            content: [],
          },
        },
        {
          type: 'response.content_part.added',
          ...item,
          content_index: 0,
          part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
        },
        {
          type: 'response.output_text.delta',
          ...item,
          content_index: 0,
          delta: 'Hello ',
          logprobs: [],
        },
        {
          type: 'response.output_text.delta',
          ...item,
          content_index: 0,
          delta: 'world',
          logprobs: [],
        },
        {
          type: 'response.output_text.done',
          ...item,
          content_index: 0,
          text: 'Hello world',
          logprobs: [],
        },
        {
          type: 'response.content_part.done',
          ...item,
          content_index: 0,
          part: { type: 'output_text', text: 'Hello world', annotations: [], logprobs: [] },
        },
        {
          type: 'response.output_item.done',
          output_index: 0,
          item: {
            id: 'msg_req-1_0',
            type: 'message',
            status: 'completed',
            role: 'assistant',
            content: [{ type: 'output_text', text: 'Hello world', annotations: [], logprobs: [] }],
          },
        },
        {
          type: 'response.completed',
          response: expect.objectContaining({ status: 'completed' }),
        },
      ]);
    });

    it.each([
      ['parallel function calls with thinking', parallelCalls],
      [
        'custom and local shell calls',
        {
          content: [
            {
              type: 'tool_use',
              id: 'toolu_P',
              name: 'apply_patch',
              input: { input: '*** Begin Patch\n+é\n' },
            },
            { type: 'tool_use', id: 'toolu_S', name: LOCAL_SHELL_TOOL, input: { command: ['ls'] } },
          ],
          stopReason: 'tool_use',
        },
      ],
      ['a web search with citations', webSearchAnswer],
      [
        'redacted thinking and a cut-off answer',
        {
          content: [
            { type: 'redacted_thinking', data: 'REDACTED' },
            { type: 'text', text: 'Once upon a' },
          ],
          stopReason: 'max_tokens',
        },
      ],
    ] as [string, AnthropicScript][])(
      'should end with the same Response as the non-stream conversion for %s',
      (_what, script) => {
        const last = convert(script).at(-1);
        const plain = JSON.parse(
          toResponse(Buffer.from(JSON.stringify(anthropicMessage(script))), context()).toString(),
        );
        expect(last?.response).toEqual(plain);
      },
    );

    it('should stream each parallel call’s argument deltas to its own item', () => {
      const all = convert(parallelCalls);
      const outputs = all.filter((event) => event.type === 'response.output_item.added');
      expect(outputs.map((event) => [event.output_index, event.item.type, event.item.id])).toEqual([
        [0, 'reasoning', 'rs_req-1_0'],
        [1, 'message', 'msg_req-1_1'],
        [2, 'function_call', 'fc_req-1_2'],
        [3, 'function_call', 'fc_req-1_3'],
      ]);
      expect(outputs[2].item).toEqual({
        id: 'fc_req-1_2',
        type: 'function_call',
        status: 'in_progress',
        arguments: '',
        call_id: 'toolu_01A',
        name: 'weather',
      });
      for (const [index, args] of [
        [2, '{"city":"Paris"}'],
        [3, '{"city":"Zürich","days":[1,2]}'],
      ] as const) {
        const deltas = all.filter(
          (event) =>
            event.type === 'response.function_call_arguments.delta' && event.output_index === index,
        );
        expect(deltas.length).toBeGreaterThan(1);
        expect(deltas.every((event) => event.item_id === `fc_req-1_${index}`)).toBe(true);
        expect(deltas.map((event) => event.delta).join('')).toBe(args);
        expect(
          all.find(
            (event) =>
              event.type === 'response.function_call_arguments.done' &&
              event.output_index === index,
          ),
        ).toMatchObject({ item_id: `fc_req-1_${index}`, arguments: args });
      }
      // The first call is done before the second one starts.
      const order = all.map((event) => `${event.type}:${event.output_index}`);
      expect(order.indexOf('response.output_item.done:2')).toBeLessThan(
        order.indexOf('response.output_item.added:3'),
      );
    });

    it('should stream thinking as reasoning summary text, and none when summaries are off', () => {
      const thinking: AnthropicScript = {
        content: [
          { type: 'thinking', thinking: 'Let me see.', signature: 'SIG' },
          { type: 'text', text: 'Yes.' },
        ],
        deltaSize: 4,
      };
      const types = (events: Event[]): string[] =>
        events.filter((event) => event.item_id === 'rs_req-1_0').map((event) => event.type);
      const on = convert(thinking);
      expect(types(on)).toEqual([
        'response.reasoning_summary_part.added',
        'response.reasoning_summary_text.delta',
        'response.reasoning_summary_text.delta',
        'response.reasoning_summary_text.delta',
        'response.reasoning_summary_text.done',
        'response.reasoning_summary_part.done',
      ]);
      expect(
        on.find((event) => event.type === 'response.reasoning_summary_text.done'),
      ).toMatchObject({
        summary_index: 0,
        text: 'Let me see.',
      });
      expect(types(convert(thinking, context({ summaries: false })))).toEqual([]);
    });

    it('should send a custom tool’s input in one delta once the call is complete', () => {
      const all = convert({
        content: [
          { type: 'tool_use', id: 'toolu_P', name: 'apply_patch', input: { input: 'a\n"b"' } },
        ],
        stopReason: 'tool_use',
        deltaSize: 2,
      });
      expect(
        all
          .filter((event) => event.type.startsWith('response.custom_tool_call_input'))
          .map(({ sequence_number: _, ...event }) => event),
      ).toEqual([
        {
          type: 'response.custom_tool_call_input.delta',
          item_id: 'ctc_req-1_0',
          output_index: 0,
          delta: 'a\n"b"',
        },
        {
          type: 'response.custom_tool_call_input.done',
          item_id: 'ctc_req-1_0',
          output_index: 0,
          input: 'a\n"b"',
        },
      ]);
    });

    it('should report a web search’s progress and add citations when the cited block ends', () => {
      const types = convert(webSearchAnswer).map((event) => event.type);
      expect(types.slice(2)).toEqual([
        'response.output_item.added',
        'response.web_search_call.in_progress',
        'response.web_search_call.searching',
        'response.web_search_call.completed',
        'response.output_item.done',
        'response.output_item.added',
        'response.content_part.added',
        ...Array(4).fill('response.output_text.delta'),
        'response.output_text.annotation.added',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
    });

    it('should end with response.incomplete when Claude hit its token limit', () => {
      const last = convert({
        content: [{ type: 'text', text: 'Once' }],
        stopReason: 'max_tokens',
      }).at(-1);
      expect(last).toMatchObject({
        type: 'response.incomplete',
        response: {
          status: 'incomplete',
          incomplete_details: { reason: 'max_output_tokens' },
          output: [expect.objectContaining({ status: 'incomplete' })],
        },
      });
    });

    it('should count usage as the non-stream answer does when message_delta repeats input and cache counts', () => {
      const script = { ...parallelCalls, cumulativeDeltaUsage: true };
      const plain = JSON.parse(
        toResponse(Buffer.from(JSON.stringify(anthropicMessage(script))), context()).toString(),
      );
      expect(convert(script).at(-1)?.response.usage).toEqual(plain.usage);
      expect(plain.usage.input_tokens_details.cached_tokens).toBe(400);
    });

    it('should give the same bytes however the upstream bytes are split, even inside a UTF-8 character', () => {
      const script: AnthropicScript = {
        content: [
          { type: 'thinking', thinking: 'Zürich ☀ 東京', signature: 'S' },
          { type: 'text', text: 'Grüße 🌍 aus Zürich' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Zürich 東京' } },
        ],
        deltaSize: 2,
      };
      const bytes = anthropicStream(script);
      const whole = run([bytes]);
      for (let cut = 1; cut < bytes.length; cut++) {
        expect(run([bytes.subarray(0, cut), bytes.subarray(cut)])).toBe(whole);
      }
      const byteByByte = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
      expect(run(byteByByte)).toBe(whole);
    });

    it('should fail the response, then send an error event, when Anthropic reports an error mid-stream', () => {
      const upstream = anthropicStreamEvents({
        content: [{ type: 'text', text: 'Partial answer' }],
      });
      const cut = upstream.findIndex(([name]) => name === 'content_block_stop');
      const bytes = sseBytes([
        ...upstream.slice(0, cut),
        ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
        ...upstream.slice(cut),
      ]);
      const all = events(run([bytes]));
      expect(all.slice(-2)).toEqual([
        {
          type: 'response.failed',
          sequence_number: all.length - 2,
          response: expect.objectContaining({
            status: 'failed',
            error: { code: 'server_error', message: 'Overloaded' },
            output: [expect.objectContaining({ type: 'message', status: 'in_progress' })],
          }),
        },
        {
          type: 'error',
          sequence_number: all.length - 1,
          code: 'server_error',
          message: 'Overloaded',
          param: null,
        },
      ]);
      expect(all.some((event) => event.type === 'response.completed')).toBe(false);
    });

    it('should give a rate limit its OpenAI code and redact credentials from the message', () => {
      const bytes = sseBytes([
        [
          'error',
          {
            type: 'error',
            error: {
              type: 'rate_limit_error',
              message: 'slow down, key sk-ant-api03-abcdefghijkl',
            },
          },
        ],
      ]);
      const [, , failed, error] = events(run([bytes]));
      expect(failed.response.error).toEqual({
        code: 'rate_limit_exceeded',
        message: 'slow down, key sk-[redacted]',
      });
      expect(error).toMatchObject({ type: 'error', code: 'rate_limit_exceeded' });
    });

    it('should fail the response when the upstream sends an event that is not JSON', () => {
      const all = events(run([Buffer.from('event: message_start\ndata: {oops\n\n')]));
      expect(all.map((event) => event.type)).toEqual([
        'response.created',
        'response.in_progress',
        'response.failed',
        'error',
      ]);
    });
  });

  describe('end', () => {
    it('should add nothing after a complete stream', () => {
      const stream = new ResponsesEventStream(context());
      stream.push(anthropicStream({ content: [{ type: 'text', text: 'Hi' }] }));
      expect(stream.end().length).toBe(0);
    });

    it('should fail a stream that ended without message_stop rather than complete it', () => {
      const upstream = anthropicStreamEvents({ content: [{ type: 'text', text: 'Partial' }] });
      const all = events(run([sseBytes(upstream.slice(0, -2))]));
      expect(all.at(-2)).toMatchObject({
        type: 'response.failed',
        response: { error: { message: 'upstream stream ended before it was complete' } },
      });
      expect(all.at(-1)?.type).toBe('error');
    });
  });
});

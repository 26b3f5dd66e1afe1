import { RelayException } from 'src/modules/relay/relay.exception';
import {
  ResponsesScript,
  responsesObject,
  responsesSse,
  responsesStream,
  responsesStreamEvents,
} from '../../../../../test/factories/openai-response.factory';
import { responseFromEventStream, responsesEventType } from './openai-responses-stream';

const script: ResponsesScript = {
  output: [
    { type: 'reasoning', summary: ['First.', 'Second.'], encrypted: 'gAAAA-enc' },
    { type: 'message', text: 'Two calls follow.' },
    { type: 'function_call', callId: 'call_a', name: 'f', arguments: '{"x":1}' },
    { type: 'function_call', callId: 'call_b', name: 'g', arguments: '{}' },
  ],
  usage: { input_tokens: 50, output_tokens: 20, cached_tokens: 10, reasoning_tokens: 5 },
};

describe(responseFromEventStream.name, () => {
  it('should give the Response the non-stream API returns for the same answer', () => {
    expect(responseFromEventStream(responsesStream(script))).toEqual(responsesObject(script));
  });

  it('should take the items of output_item.done, in output order, when the final Response has no output', () => {
    const events = responsesStreamEvents({ ...script, emptyTerminalOutput: true });
    // Items may finish out of order; output_index puts them back.
    const done = events.filter((e) => e.type === 'response.output_item.done').reverse();
    const rest = events.filter((e) => e.type !== 'response.output_item.done');
    const body = responsesSse([...rest.slice(0, -1), ...done, rest[rest.length - 1]]);
    expect(responseFromEventStream(body)).toEqual(responsesObject(script));
  });

  it('should give an incomplete or failed Response as such', () => {
    const incomplete = responseFromEventStream(
      responsesStream({ ...script, status: 'incomplete', incompleteReason: 'max_output_tokens' }),
    );
    expect(incomplete).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
    });
    const failed = responseFromEventStream(
      responsesStream({
        output: [],
        status: 'failed',
        error: { code: 'server_error', message: 'The model crashed.' },
      }),
    );
    expect(failed).toMatchObject({ status: 'failed', error: { message: 'The model crashed.' } });
  });

  it('should refuse a stream that reports an error event', () => {
    const body = responsesSse([
      { type: 'response.created', response: {} },
      { type: 'error', code: 'server_error', message: 'kaput', param: null },
    ]);
    expect(() => responseFromEventStream(body)).toThrow(RelayException);
    expect(() => responseFromEventStream(body)).toThrow(/kaput/);
  });

  it('should refuse a stream that ends before its terminal event', () => {
    const events = responsesStreamEvents(script);
    expect(() => responseFromEventStream(responsesSse(events.slice(0, -1)))).toThrow(
      /ended before the response was complete/,
    );
  });

  it('should read a stream without event: lines', () => {
    const body = responsesSse(responsesStreamEvents(script), { eventLines: false });
    expect(responseFromEventStream(body)).toEqual(responsesObject(script));
  });
});

describe(responsesEventType.name, () => {
  it("should take the event line, else the data's leading type, else nothing", () => {
    expect(responsesEventType({ event: 'response.completed', data: '{}' })).toBe(
      'response.completed',
    );
    expect(
      responsesEventType({ event: undefined, data: '{"type":"response.output_text.delta"}' }),
    ).toBe('response.output_text.delta');
    expect(
      responsesEventType({ event: undefined, data: '{"item":{"type":"message"},"type":"x"}' }),
    ).toBeUndefined();
  });
});

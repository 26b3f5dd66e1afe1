import { emptyUsage } from 'src/modules/usage/pricing/token-usage';
import {
  ResponsesScript,
  responsesObject,
  responsesSse,
  responsesStream,
  responsesStreamEvents,
} from '../../../../../test/factories/openai-response.factory';
import { OpenAIResponsesTap, usageFromResponse } from './openai-responses.tap';

const script: ResponsesScript = {
  output: [
    { type: 'reasoning', summary: ['Look up the weather.'], encrypted: 'ENC' },
    { type: 'message', text: 'Checking "usage": {now} — ünïcødé 🌦' },
    { type: 'function_call', callId: 'call_1', name: 'weather', arguments: '{"usage":{"a":1}}' },
  ],
  usage: { input_tokens: 2000, cached_tokens: 1500, output_tokens: 400, reasoning_tokens: 250 },
  deltaSize: 3,
};

const EXPECTED = { ...emptyUsage(), inputTokens: 500, cacheReadTokens: 1500, outputTokens: 400 };

function tapOver(pieces: Buffer[]): OpenAIResponsesTap {
  const tap = new OpenAIResponsesTap();
  for (const piece of pieces) tap.push(piece);
  tap.end();
  return tap;
}

describe(OpenAIResponsesTap.name, () => {
  describe('usage', () => {
    it('should split input into uncached and cache reads and count reasoning as output when response.completed arrives', () => {
      const tap = tapOver([responsesStream(script)]);
      expect(tap.usage).toEqual(EXPECTED);
      expect([tap.complete, tap.sawError]).toEqual([true, false]);
    });

    it('should read the same usage when the stream is split at every byte offset', () => {
      const stream = responsesStream(script);
      for (let at = 1; at < stream.length; at++) {
        const tap = tapOver([stream.subarray(0, at), stream.subarray(at)]);
        expect([tap.usage, tap.complete]).toEqual([EXPECTED, true]);
      }
    });

    it('should read the same usage when the upstream sends no event: lines', () => {
      const tap = tapOver([responsesSse(responsesStreamEvents(script), { eventLines: false })]);
      expect([tap.usage, tap.complete]).toEqual([EXPECTED, true]);
    });

    it('should parse only the terminal event, with or without event: lines', () => {
      const events = responsesStreamEvents(script);
      for (const eventLines of [true, false]) {
        const parse = jest.spyOn(JSON, 'parse');
        try {
          tapOver([responsesSse(events, { eventLines })]);
          expect(parse).toHaveBeenCalledTimes(1);
        } finally {
          parse.mockRestore();
        }
      }
    });

    it('should charge one output token per delta forwarded when the stream is cut before its end', () => {
      const events = responsesStreamEvents(script);
      const cut = events.slice(0, -1);
      const deltas = cut.filter((e) => String(e.type).endsWith('.delta')).length;
      const tap = tapOver([responsesSse(cut)]);
      expect(tap.usage).toEqual({ ...emptyUsage(), outputTokens: deltas });
      expect(tap.complete).toBe(false);
    });
  });

  describe('complete', () => {
    it('should count a response cut by its token limit (response.incomplete) as complete', () => {
      const tap = tapOver([
        responsesStream({
          output: [{ type: 'message', text: 'Once upon' }],
          status: 'incomplete',
          usage: { input_tokens: 10, output_tokens: 16 },
        }),
      ]);
      expect([tap.complete, tap.sawError, tap.usage.outputTokens]).toEqual([true, false, 16]);
    });
  });

  describe('sawError', () => {
    it('should report response.failed, keeping the usage it carries', () => {
      const tap = tapOver([
        responsesStream({
          output: [],
          status: 'failed',
          usage: { input_tokens: 30, output_tokens: 0 },
        }),
      ]);
      expect([tap.sawError, tap.complete]).toEqual([true, false]);
      expect(tap.usage).toEqual({ ...emptyUsage(), inputTokens: 30 });
    });

    it('should report an error event', () => {
      const tap = tapOver([
        responsesSse([
          { type: 'response.created', response: {} },
          { type: 'error', code: 'server_error', message: 'boom', param: null },
        ]),
      ]);
      expect([tap.sawError, tap.complete]).toEqual([true, false]);
    });
  });
});

describe(usageFromResponse.name, () => {
  it('should read the usage of a Response body', () => {
    const body = Buffer.from(JSON.stringify(responsesObject(script)), 'utf8');
    expect(usageFromResponse(body)).toEqual(EXPECTED);
  });

  it('should read a whole event stream when the upstream only streams', () => {
    expect(usageFromResponse(responsesStream(script))).toEqual(EXPECTED);
  });

  it('should give empty usage for an error body, garbage and an empty body', () => {
    for (const text of [
      '{"error":{"message":"bad","type":"invalid_request_error","param":"input","code":null}}',
      '{"detail":"Unsupported parameter: max_output_tokens"}',
      '<html>bad gateway</html>',
      '',
    ]) {
      expect(usageFromResponse(Buffer.from(text))).toEqual(emptyUsage());
    }
  });
});

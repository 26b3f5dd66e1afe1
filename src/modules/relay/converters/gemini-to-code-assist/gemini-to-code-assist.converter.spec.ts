import type { ConversionInput } from 'src/modules/relay/converters/converter';
import { RelayException } from 'src/modules/relay/relay.exception';
import { GeminiToCodeAssistConverter } from './gemini-to-code-assist.converter';

function input(overrides: Partial<ConversionInput> = {}): ConversionInput {
  return {
    body: {
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      systemInstruction: { parts: [{ text: 'Be brief' }] },
      tools: [{ functionDeclarations: [{ name: 'lookup', parameters: { type: 'object' } }] }],
      generationConfig: { maxOutputTokens: 64, temperature: 0.2 },
    },
    upstreamModel: 'gemini-2.5-pro',
    requestedModel: 'gemini-pro-latest',
    stream: false,
    operation: 'generate',
    requestId: 'req-1',
    ...overrides,
  };
}

const json = (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8'));

/** Runs a stream through a fresh transform in the given pieces; everything it wrote. */
function runStream(pieces: Buffer[], streamFraming?: 'sse' | 'json-array'): string {
  const stream = new GeminiToCodeAssistConverter()
    .convert(input({ stream: true, ...(streamFraming === undefined ? {} : { streamFraming }) }))
    .stream();
  const out = pieces.map((piece) => stream.push(piece));
  out.push(stream.end());
  return Buffer.concat(out).toString('utf8');
}

const streamBytes = Buffer.from(
  [
    {
      response: { candidates: [{ content: { role: 'model', parts: [{ text: 'Grüß ' }] } }] },
      traceId: 't-1',
    },
    {
      response: {
        candidates: [
          { content: { role: 'model', parts: [{ text: 'dich 👋' }] }, finishReason: 'STOP' },
        ],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 },
      },
      traceId: 't-1',
    },
  ]
    .map((event) => `data: ${JSON.stringify(event)}\r\n\r\n`)
    .join(''),
  'utf8',
);

const expectedEvents = [
  {
    candidates: [{ content: { role: 'model', parts: [{ text: 'Grüß ' }] } }],
    responseId: 't-1',
  },
  {
    candidates: [
      { content: { role: 'model', parts: [{ text: 'dich 👋' }] }, finishReason: 'STOP' },
    ],
    usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 },
    responseId: 't-1',
  },
];

function events(sse: string): unknown[] {
  expect(sse.endsWith('\r\n\r\n')).toBe(true);
  return sse
    .split('\r\n\r\n')
    .filter((e) => e !== '')
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      return JSON.parse(e.slice(6));
    });
}

describe(GeminiToCodeAssistConverter.name, () => {
  describe('convert', () => {
    it('should wrap a generate request in the envelope with the upstream model, fields untouched', () => {
      const conversion = new GeminiToCodeAssistConverter().convert(input());
      expect(json(conversion.body)).toEqual({
        model: 'gemini-2.5-pro',
        request: input().body,
      });
    });

    it('should drop a model named in the body (the Gemini API names it in the path)', () => {
      const body = { ...input().body, model: 'models/other' };
      const conversion = new GeminiToCodeAssistConverter().convert(input({ body }));
      expect((json(conversion.body) as { request: object }).request).not.toHaveProperty('model');
    });

    it('should send countTokens as Code Assist does: models/{model} and the contents', () => {
      const conversion = new GeminiToCodeAssistConverter().convert(
        input({ operation: 'count_tokens', body: { contents: [{ parts: [{ text: 'x' }] }] } }),
      );
      expect(json(conversion.body)).toEqual({
        request: { model: 'models/gemini-2.5-pro', contents: [{ parts: [{ text: 'x' }] }] },
      });
      const nested = new GeminiToCodeAssistConverter().convert(
        input({
          operation: 'count_tokens',
          body: { generateContentRequest: { contents: [{ parts: [{ text: 'y' }] }] } },
        }),
      );
      expect(json(nested.body)).toMatchObject({
        request: { contents: [{ parts: [{ text: 'y' }] }] },
      });
      expect(json(conversion.response(Buffer.from('{"totalTokens":7}')))).toEqual({
        totalTokens: 7,
      });
    });

    it('should refuse a request without contents in the Gemini dialect (400)', () => {
      expect(() => new GeminiToCodeAssistConverter().convert(input({ body: {} }))).toThrow(
        RelayException,
      );
    });
  });

  describe('response', () => {
    it('should unwrap the response and keep traceId as responseId', () => {
      const conversion = new GeminiToCodeAssistConverter().convert(input());
      const body = Buffer.from(
        JSON.stringify({
          response: {
            candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }],
          },
          traceId: 'abc',
        }),
      );
      expect(json(conversion.response(body))).toEqual({
        candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }],
        responseId: 'abc',
      });
    });

    it('should pass Google error bodies unchanged', () => {
      const conversion = new GeminiToCodeAssistConverter().convert(input());
      const error = Buffer.from(
        '{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}',
      );
      expect(conversion.error(400, error)).toBe(error);
    });
  });

  describe('stream', () => {
    it('should unwrap each event', () => {
      expect(events(runStream([streamBytes]))).toEqual(expectedEvents);
    });

    it('should give the same events whatever the chunk boundaries, even inside a UTF-8 character', () => {
      for (let split = 1; split < streamBytes.length; split++) {
        const out = runStream([streamBytes.subarray(0, split), streamBytes.subarray(split)]);
        expect(events(out)).toEqual(expectedEvents);
      }
      const bytewise = [...streamBytes].map((byte) => Buffer.from([byte]));
      expect(events(runStream(bytewise))).toEqual(expectedEvents);
    });

    it("should write Google's JSON array when the client did not ask for alt=sse, whatever the chunks", () => {
      const whole = runStream([streamBytes], 'json-array');
      expect(JSON.parse(whole)).toEqual(expectedEvents);
      expect(whole.startsWith('[{')).toBe(true);
      expect(whole).toContain('}\r\n,\r\n{');
      expect(whole.endsWith('}\r\n]')).toBe(true);
      for (let split = 1; split < streamBytes.length; split += 5) {
        const out = runStream(
          [streamBytes.subarray(0, split), streamBytes.subarray(split)],
          'json-array',
        );
        expect(out).toBe(whole);
      }
      const stream = new GeminiToCodeAssistConverter()
        .convert(input({ stream: true, streamFraming: 'json-array' }))
        .stream();
      expect(stream.contentType).toBe('application/json; charset=UTF-8');
      expect(stream.end().toString()).toBe('[]');
      expect(
        new GeminiToCodeAssistConverter().convert(input({ stream: true })).stream().contentType,
      ).toBeUndefined();
    });

    it('should pass an error event unchanged', () => {
      const error = '{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}';
      expect(runStream([Buffer.from(`data: ${error}\n\n`)])).toBe(`data: ${error}\r\n\r\n`);
    });
  });
});

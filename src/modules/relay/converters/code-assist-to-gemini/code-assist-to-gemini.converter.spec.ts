import type { ConversionInput } from 'src/modules/relay/converters/converter';
import { RelayException } from 'src/modules/relay/relay.exception';
import { CodeAssistToGeminiConverter } from './code-assist-to-gemini.converter';

const request = {
  contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
  generationConfig: { maxOutputTokens: 10 },
  session_id: 'sess-1',
};

function input(overrides: Partial<ConversionInput> = {}): ConversionInput {
  return {
    body: { model: 'gemini-2.5-flash', project: 'p-1', user_prompt_id: 'u-1', request },
    upstreamModel: 'gemini-2.5-flash',
    requestedModel: 'gemini-2.5-flash',
    stream: false,
    operation: 'generate',
    requestId: 'req-1',
    ...overrides,
  };
}

const json = (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8'));

describe(CodeAssistToGeminiConverter.name, () => {
  it("should send the envelope's request as the Gemini API body, without Code Assist's session_id", () => {
    const conversion = new CodeAssistToGeminiConverter().convert(input());
    expect(json(conversion.body)).toEqual({
      contents: request.contents,
      generationConfig: request.generationConfig,
    });
  });

  it('should send countTokens contents', () => {
    const conversion = new CodeAssistToGeminiConverter().convert(
      input({
        operation: 'count_tokens',
        body: { request: { model: 'models/gemini-2.5-flash', contents: request.contents } },
      }),
    );
    expect(json(conversion.body)).toEqual({ contents: request.contents });
  });

  it('should refuse an envelope without request (400)', () => {
    expect(() =>
      new CodeAssistToGeminiConverter().convert(input({ body: { model: 'x' } })),
    ).toThrow(RelayException);
  });

  it('should wrap a response with its responseId as traceId', () => {
    const conversion = new CodeAssistToGeminiConverter().convert(input());
    const body = Buffer.from(JSON.stringify({ candidates: [], responseId: 'r-9' }));
    expect(json(conversion.response(body))).toEqual({
      response: { candidates: [], responseId: 'r-9' },
      traceId: 'r-9',
    });
  });

  it('should wrap every stream event, whatever the chunk boundaries', () => {
    const sse = Buffer.from(
      'data: {"candidates":[{"content":{"parts":[{"text":"日本"}]}}]}\r\n\r\n' +
        'data: {"candidates":[{"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":2}}\r\n\r\n',
    );
    const expected =
      'data: {"response":{"candidates":[{"content":{"parts":[{"text":"日本"}]}}]}}\r\n\r\n' +
      'data: {"response":{"candidates":[{"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":2}}}\r\n\r\n';
    for (let split = 1; split < sse.length; split++) {
      const stream = new CodeAssistToGeminiConverter().convert(input({ stream: true })).stream();
      const out = Buffer.concat([
        stream.push(sse.subarray(0, split)),
        stream.push(sse.subarray(split)),
        stream.end(),
      ]);
      expect(out.toString('utf8')).toBe(expected);
    }
  });
});

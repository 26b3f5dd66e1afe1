import type { Request } from 'express';
import { RelayException } from 'src/modules/relay/relay.exception';
import { CodeAssistDialect } from './code-assist.dialect';

const body = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

const generate = {
  model: 'gemini-2.5-pro',
  project: 'switchyard',
  user_prompt_id: 'p-1',
  request: {
    contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
    generationConfig: { maxOutputTokens: 256 },
  },
};

describe(CodeAssistDialect.name, () => {
  describe('parse', () => {
    it('should read the model, the output cap and the stream flag of the route', () => {
      expect(new CodeAssistDialect('generate').parse(body(generate))).toMatchObject({
        model: 'gemini-2.5-pro',
        stream: false,
        maxTokens: 256,
      });
      expect(new CodeAssistDialect('stream').parse(body(generate)).stream).toBe(true);
    });

    it('should read countTokens’ model from request.model without models/', () => {
      const parsed = new CodeAssistDialect('count').parse(
        body({ request: { model: 'models/gemini-2.5-flash', contents: [] } }),
      );
      expect(parsed).toMatchObject({ model: 'gemini-2.5-flash', stream: false });
    });

    it('should refuse a body without request, contents or model (400)', () => {
      const dialect = new CodeAssistDialect('generate');
      expect(() => dialect.parse(body({ model: 'm' }))).toThrow(RelayException);
      expect(() => dialect.parse(body({ model: 'm', request: {} }))).toThrow(RelayException);
      expect(() => dialect.parse(body({ request: generate.request }))).toThrow(RelayException);
      expect(() => dialect.parse(Buffer.from('{'))).toThrow(RelayException);
    });
  });

  describe('extractKey', () => {
    const req = (headers: Record<string, string>, url = '/gemini/v1internal:generateContent') =>
      ({ headers, url }) as unknown as Request;

    it('should take the bearer token, then x-goog-api-key, then ?key=', () => {
      const dialect = new CodeAssistDialect('generate');
      expect(dialect.extractKey(req({ authorization: 'Bearer sk-sy-a' }))).toBe('sk-sy-a');
      expect(dialect.extractKey(req({ 'x-goog-api-key': 'sk-sy-b' }))).toBe('sk-sy-b');
      expect(dialect.extractKey(req({}, '/gemini/v1internal:generateContent?key=sk-sy-c'))).toBe(
        'sk-sy-c',
      );
      expect(dialect.extractKey(req({}))).toBeNull();
    });
  });

  describe('renderError', () => {
    it("should answer in Google's shape, a rate limit with RetryInfo", () => {
      const rendered = new CodeAssistDialect('generate').renderError({
        kind: 'rate_limited',
        status: 429,
        code: 'ALL_ACCOUNTS_RATE_LIMITED',
        message: 'every account is rate limited',
        headers: { 'retry-after': '30' },
      });
      expect(rendered.status).toBe(429);
      expect(rendered.headers['retry-after']).toBe('30');
      expect(JSON.parse(rendered.body.toString())).toEqual({
        error: {
          code: 429,
          message: 'every account is rate limited',
          status: 'RESOURCE_EXHAUSTED',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'ALL_ACCOUNTS_RATE_LIMITED',
              domain: 'switchyard',
            },
            { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' },
          ],
        },
      });
    });

    it('should answer a spent budget as 429 RESOURCE_EXHAUSTED', () => {
      const rendered = new CodeAssistDialect('generate').renderError({
        kind: 'budget',
        status: 402,
        code: 'BUDGET_EXHAUSTED',
        message: 'budget spent',
      });
      expect(rendered.status).toBe(429);
      expect(JSON.parse(rendered.body.toString()).error.status).toBe('RESOURCE_EXHAUSTED');
    });
  });

  it('should write a stream error as an SSE data event', () => {
    const event = new CodeAssistDialect('stream').streamErrorEvent('internal', 'broke').toString();
    expect(event.startsWith('data: ')).toBe(true);
    expect(event.endsWith('\r\n\r\n')).toBe(true);
    expect(JSON.parse(event.slice(6))).toMatchObject({ error: { code: 500, message: 'broke' } });
  });
});

import type { Request } from 'express';
import { RelayException } from 'src/modules/relay/relay.exception';
import type { RelayErrorView } from 'src/modules/relay/relay.types';
import { GeminiDialect, geminiTarget } from './gemini.dialect';

function request(url: string, headers: Record<string, string> = {}): Request {
  return { url, headers } as unknown as Request;
}

function body(rendered: { body: Buffer }): any {
  return JSON.parse(rendered.body.toString('utf8'));
}

const dialect = new GeminiDialect();
const GENERATE = '/gemini/v1beta/models/gemini-2.5-pro:generateContent';
const CONTENTS = Buffer.from('{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}');

describe(GeminiDialect.name, () => {
  describe('extractKey', () => {
    it('should read x-goog-api-key first, then ?key=, then a bearer token', () => {
      expect(
        dialect.extractKey(
          request(`${GENERATE}?key=from-query`, {
            'x-goog-api-key': 'from-header',
            authorization: 'Bearer from-bearer',
          }),
        ),
      ).toBe('from-header');
      expect(
        dialect.extractKey(
          request(`${GENERATE}?alt=sse&key=from-query`, { authorization: 'Bearer b' }),
        ),
      ).toBe('from-query');
      expect(dialect.extractKey(request(GENERATE, { authorization: 'Bearer from-bearer' }))).toBe(
        'from-bearer',
      );
      expect(dialect.extractKey(request(`${GENERATE}?key=`))).toBeNull();
    });
  });

  describe('parse', () => {
    it('should take the model and the stream flag from the path and keep the model out of the body', () => {
      const parsed = dialect.parse(
        CONTENTS,
        request('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'),
      );
      expect(parsed).toMatchObject({
        model: 'gemini-2.5-flash',
        stream: true,
        maxTokens: 8192,
        modelInPath: true,
      });
      expect(dialect.parse(CONTENTS, request(GENERATE)).stream).toBe(false);
    });

    it('should read the stream framing the client asked for: events with alt=sse, else the JSON array', () => {
      const stream = '/v1beta/models/gemini-2.5-flash:streamGenerateContent';
      expect(dialect.parse(CONTENTS, request(`${stream}?alt=sse`)).streamFraming).toBe('sse');
      expect(dialect.parse(CONTENTS, request(`${stream}?key=k&%24alt=sse`)).streamFraming).toBe(
        'sse',
      );
      expect(dialect.parse(CONTENTS, request(stream)).streamFraming).toBe('json-array');
      expect(dialect.parse(CONTENTS, request(`${stream}?alt=json`)).streamFraming).toBe(
        'json-array',
      );
      expect(dialect.parse(CONTENTS, request(GENERATE)).streamFraming).toBeUndefined();
    });

    it('should percent-decode the model and read maxOutputTokens for admission', () => {
      const raw = Buffer.from(
        '{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":123}}',
      );
      const parsed = dialect.parse(raw, request('/gemini/v1/models/my%2Dmodel:generateContent'));
      expect(parsed.model).toBe('my-model');
      expect(parsed.maxTokens).toBe(123);
    });

    it('should accept countTokens with contents or a generateContentRequest', () => {
      const path = '/gemini/v1beta/models/gemini-2.5-pro:countTokens';
      expect(dialect.parse(CONTENTS, request(path)).stream).toBe(false);
      expect(
        dialect.parse(Buffer.from('{"generateContentRequest":{"contents":[]}}'), request(path))
          .model,
      ).toBe('gemini-2.5-pro');
      expect(() => dialect.parse(Buffer.from('{}'), request(path))).toThrow(RelayException);
    });

    it.each([
      ['not JSON', '{"contents":', GENERATE, 'Invalid JSON payload'],
      ['no contents', '{}', GENERATE, 'contents is not specified'],
      ['empty contents', '{"contents":[]}', GENERATE, 'contents is not specified'],
      [
        'a bad maxOutputTokens',
        '{"contents":[{}],"generationConfig":{"maxOutputTokens":0}}',
        GENERATE,
        'maxOutputTokens',
      ],
      ['an unknown method', '{"contents":[{}]}', '/v1beta/models/x:embedContent', 'path must be'],
      ['no model', '{"contents":[{}]}', '/v1beta/models/:generateContent', 'path must be'],
    ])('should refuse %s with an invalid-request error', (_name, raw, url, message) => {
      let error: unknown;
      try {
        dialect.parse(Buffer.from(raw), request(url));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RelayException);
      expect((error as RelayException).kind).toBe('invalid');
      expect((error as RelayException).message).toContain(message);
    });
  });

  describe('passthroughQuery', () => {
    it("should keep the client's query (its stream format) without its key, and ignore the provider's", () => {
      expect(dialect.passthroughQuery('alt=sse&key=sk-sy-secret', 'alt=sse')).toBe('alt=sse');
      expect(dialect.passthroughQuery('key=sk-sy-secret', 'alt=sse')).toBe('');
      expect(dialect.passthroughQuery('', 'alt=sse')).toBe('');
      expect(dialect.passthroughQuery('%6Bey=x&%24alt=json', '')).toBe('%24alt=json');
    });
  });

  describe('renderError', () => {
    const view = (overrides: Partial<RelayErrorView>): RelayErrorView => ({
      kind: 'invalid',
      status: 400,
      code: 'INVALID_REQUEST',
      message: 'bad',
      ...overrides,
    });

    it.each([
      ['invalid', 400, 400, 'INVALID_ARGUMENT'],
      ['auth', 401, 401, 'UNAUTHENTICATED'],
      ['permission', 403, 403, 'PERMISSION_DENIED'],
      ['not_found', 404, 404, 'NOT_FOUND'],
      ['rate_limited', 429, 429, 'RESOURCE_EXHAUSTED'],
      ['budget', 402, 429, 'RESOURCE_EXHAUSTED'],
      ['internal', 500, 500, 'INTERNAL'],
      ['upstream_failure', 502, 502, 'UNAVAILABLE'],
      ['unavailable', 503, 503, 'UNAVAILABLE'],
      ['overloaded', 503, 503, 'UNAVAILABLE'],
      ['timeout', 504, 504, 'DEADLINE_EXCEEDED'],
    ] as const)('should render %s (%i) as %i %s', (kind, generic, status, name) => {
      const rendered = dialect.renderError(view({ kind, status: generic }));
      expect(rendered.status).toBe(status);
      expect(body(rendered).error).toMatchObject({ code: status, status: name, message: 'bad' });
    });

    it('should carry the retry delay as RetryInfo and the Switchyard code as ErrorInfo', () => {
      const rendered = dialect.renderError(
        view({
          kind: 'rate_limited',
          status: 429,
          code: 'ALL_ACCOUNTS_RATE_LIMITED',
          headers: { 'retry-after': '17' },
        }),
      );
      expect(rendered.headers['retry-after']).toBe('17');
      expect(body(rendered).error.details).toEqual([
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'ALL_ACCOUNTS_RATE_LIMITED',
          domain: 'switchyard',
        },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '17s' },
      ]);
    });

    it('should name the field of a bad request and redact credentials from the message', () => {
      const rendered = dialect.renderError(
        view({ param: 'contents', message: 'key AIzaSyA0123456789abcdefghijklmnop leaked' }),
      );
      const error = body(rendered).error;
      expect(error.message).not.toContain('AIzaSyA0123456789');
      expect(error.details).toContainEqual({
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [{ field: 'contents', description: error.message }],
      });
    });
  });

  describe('streamErrorEvent', () => {
    it('should write one CRLF-terminated data event with a Google error', () => {
      const event = dialect.streamErrorEvent('upstream_failure', 'cut').toString('utf8');
      expect(event.endsWith('\r\n\r\n')).toBe(true);
      expect(JSON.parse(event.slice('data: '.length))).toEqual({
        error: { code: 502, message: 'cut', status: 'UNAVAILABLE' },
      });
    });

    it('should end a streamed JSON array that broke off with the error as its last element', () => {
      const sent = '[{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}';
      const tail = dialect
        .streamErrorEvent('upstream_failure', 'cut', {
          framing: 'json-array',
          started: true,
          endedCleanly: false,
        })
        .toString('utf8');
      const whole = JSON.parse(sent + tail) as unknown[];
      expect(whole).toHaveLength(2);
      expect(whole[1]).toEqual({ error: { code: 502, message: 'cut', status: 'UNAVAILABLE' } });
    });

    it('should send a whole array holding the error when no byte of the array went out', () => {
      const bytes = dialect
        .streamErrorEvent('upstream_failure', 'cut', {
          framing: 'json-array',
          started: false,
          endedCleanly: false,
        })
        .toString('utf8');
      expect(JSON.parse(bytes)).toEqual([
        { error: { code: 502, message: 'cut', status: 'UNAVAILABLE' } },
      ]);
    });

    it('should add nothing to a JSON array the upstream closed itself', () => {
      const at = { framing: 'json-array' as const, started: true, endedCleanly: true };
      expect(dialect.streamErrorEvent('upstream_failure', 'short', at)).toHaveLength(0);
    });
  });
});

describe(geminiTarget.name, () => {
  it('should split the last path segment at its last colon', () => {
    expect(geminiTarget('/v1beta/models/a:b:countTokens?x=1')).toEqual({
      model: 'a:b',
      method: 'countTokens',
    });
    expect(geminiTarget('/v1beta/models/abc')).toBeNull();
    expect(geminiTarget('/v1beta/models/abc:')).toBeNull();
  });
});

import { APIError, BadRequestError, RateLimitError } from 'openai';
import { Stream } from 'openai/streaming';
import { RelayExceptionCode } from 'src/modules/relay/relay.exception';
import {
  OpenAIRequestException,
  defaultOpenAIErrorCode,
  openAIErrorBody,
  openAIErrorType,
  openAIStreamErrorEvent,
  redactCredentials,
} from './openai-error';

function parse(body: Buffer): unknown {
  return JSON.parse(body.toString('utf8'));
}

describe('openai-error', () => {
  describe(openAIErrorType.name, () => {
    it.each([
      [400, 'invalid_request_error'],
      [401, 'invalid_request_error'],
      [403, 'invalid_request_error'],
      [404, 'invalid_request_error'],
      [413, 'invalid_request_error'],
      [402, 'insufficient_quota'],
      [429, 'requests'],
      [500, 'server_error'],
      [503, 'server_error'],
      [529, 'server_error'],
    ])('should map status %i to %s', (status, type) => {
      expect(openAIErrorType(status)).toBe(type);
    });

    it('should use insufficient_quota when the code says the quota is gone', () => {
      expect(openAIErrorType(429, 'insufficient_quota')).toBe('insufficient_quota');
    });
  });

  describe(defaultOpenAIErrorCode.name, () => {
    it('should name the code OpenAI sends for a bad key, a rate limit and no quota', () => {
      expect(defaultOpenAIErrorCode(401)).toBe('invalid_api_key');
      expect(defaultOpenAIErrorCode(429)).toBe('rate_limit_exceeded');
      expect(defaultOpenAIErrorCode(402)).toBe('insufficient_quota');
      expect(defaultOpenAIErrorCode(400)).toBeNull();
    });
  });

  describe(openAIErrorBody.name, () => {
    it('should build the four-field error object when given a status, message, code and param', () => {
      expect(
        parse(openAIErrorBody(400, 'temperature: too hot', 'invalid_value', 'temperature')),
      ).toEqual({
        error: {
          message: 'temperature: too hot',
          type: 'invalid_request_error',
          param: 'temperature',
          code: 'invalid_value',
        },
      });
    });

    it('should fill the status default code when the code is undefined, and keep an explicit null', () => {
      expect(parse(openAIErrorBody(401, 'bad key'))).toEqual({
        error: {
          message: 'bad key',
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
      expect(parse(openAIErrorBody(401, 'bad key', null))).toMatchObject({
        error: { code: null },
      });
    });

    it('should make a 429 insufficient_quota when the code says so', () => {
      expect(parse(openAIErrorBody(429, 'budget spent', 'insufficient_quota'))).toMatchObject({
        error: { type: 'insufficient_quota', code: 'insufficient_quota' },
      });
    });

    it('should take an explicit type when the caller knows the limit kind', () => {
      expect(parse(openAIErrorBody(429, 'tpm', undefined, null, 'tokens'))).toMatchObject({
        error: { type: 'tokens', code: 'rate_limit_exceeded' },
      });
    });

    it('should redact credentials when the message carries one', () => {
      const body = openAIErrorBody(400, 'key sk-ant-api03-AbCdEfGhIjKlMnOp is bad').toString();
      expect(body).not.toContain('AbCdEfGhIjKlMnOp');
      expect(body).toContain('[redacted]');
    });

    it('should be read by openai-node as the matching APIError subclass', () => {
      const headers = new Headers();
      const bad = APIError.generate(
        400,
        parse(openAIErrorBody(400, 'n: only 1', 'unsupported_value', 'n')) as object,
        undefined,
        headers,
      );
      expect(bad).toBeInstanceOf(BadRequestError);
      expect(bad).toMatchObject({
        status: 400,
        param: 'n',
        code: 'unsupported_value',
        type: 'invalid_request_error',
        message: '400 n: only 1',
      });
      const limited = APIError.generate(
        429,
        parse(openAIErrorBody(429, 'slow down')) as object,
        undefined,
        headers,
      );
      expect(limited).toBeInstanceOf(RateLimitError);
      expect(limited.code).toBe('rate_limit_exceeded');
    });
  });

  describe(openAIStreamErrorEvent.name, () => {
    it('should be one data line with an error object when a stream breaks', () => {
      const event = openAIStreamErrorEvent('upstream went\naway', 'server_error').toString();
      expect(event).toBe(
        'data: {"error":{"message":"upstream went\\naway","type":"server_error","param":null,"code":null}}\n\n',
      );
    });

    it('should make the openai SDK stream throw an APIError when it reads the event', async () => {
      const bytes = Buffer.concat([
        Buffer.from('data: {"id":"x","object":"chat.completion.chunk","choices":[]}\n\n'),
        openAIStreamErrorEvent('overloaded', 'server_error', 'overloaded'),
      ]);
      const stream = Stream.fromSSEResponse<unknown>(new Response(bytes), new AbortController());
      const seen: unknown[] = [];
      const read = async (): Promise<void> => {
        for await (const chunk of stream) seen.push(chunk);
      };
      await expect(read()).rejects.toMatchObject({
        message: 'overloaded',
        type: 'server_error',
        code: 'overloaded',
      });
      expect(seen).toHaveLength(1);
    });
  });

  describe(redactCredentials.name, () => {
    it.each([
      ['an Anthropic key', 'invalid x-api-key sk-ant-api03-abcdefghijklmnop', 'abcdefghijklmnop'],
      ['an OpenAI project key', 'key sk-proj-ABCDEFGH12345678 revoked', 'ABCDEFGH12345678'],
      ['a Switchyard key', 'sk-sy-0123456789abcdef denied', '0123456789abcdef'],
      ['a bearer token', 'Authorization: Bearer abc.def.ghijklmnop', 'abc.def.ghijklmnop'],
      ['a JWT', 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig', 'eyJzdWIiOiIxIn0'],
      ['an api_key pair', 'bad api_key=hunter2hunter2', 'hunter2hunter2'],
      ['a quoted access token', '{"access_token": "ya29.secretvalue"}', 'ya29.secretvalue'],
      ['a Google key', 'key AIzaSyA1234567890abcdefghijklmnopqr', 'AIzaSyA1234567890'],
    ])('should hide %s', (_what, text, secret) => {
      expect(redactCredentials(text)).not.toContain(secret);
    });

    it('should leave ordinary error text alone', () => {
      const text =
        'max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for ' +
        'claude-sonnet-4-5; prompt is too long: 210000 tokens > 200000 maximum';
      expect(redactCredentials(text)).toBe(text);
    });

    it('should cut an enormous message when an upstream sends one', () => {
      expect(redactCredentials('x'.repeat(100_000)).length).toBeLessThanOrEqual(4001);
    });
  });

  describe(OpenAIRequestException.name, () => {
    it('should be a 400 INVALID_REQUEST relay exception carrying param and code', () => {
      const error = new OpenAIRequestException('n', 'n: only 1', 'unsupported_value');
      expect(error.code).toBe(RelayExceptionCode.INVALID_REQUEST);
      expect(error.status).toBe(400);
      expect(error.message).toBe('n: only 1');
      expect(error.details).toEqual({ param: 'n', openAICode: 'unsupported_value' });
    });
  });
});

import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import type { UpstreamResponse } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import type { BedrockCredentials } from 'src/modules/accounts/types/bedrock';
import { BedrockProvider, bedrockRequestBody } from './bedrock.provider';
import { signBedrockRequest } from './bedrock-signer';

function account(credentials: Partial<BedrockCredentials>): RoutableAccount {
  return {
    id: 'a1',
    name: 'bedrock',
    platform: 'claude',
    type: 'bedrock',
    baseUrl: 'https://bedrock-runtime.{region}.amazonaws.com',
    priority: 50,
    weight: 1,
    enabled: true,
    schedulable: true,
    models: null,
    credentials: { type: 'bedrock', region: 'us-east-1', ...credentials },
    proxyUrl: null,
    concurrencyLimit: null,
    status: 'active',
    groupIds: [],
    lastUsedAt: null,
  };
}

const KEYS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

describe(BedrockProvider.name, () => {
  const provider = new BedrockProvider();

  describe('endpoint', () => {
    it('should name the mapped model, escaped, and the operation', () => {
      const a = account(KEYS);
      expect(
        provider.endpoint(a, 'anthropic-messages', 'generate', 'claude-sonnet-4-5', true).path,
      ).toBe('/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream');
      expect(
        provider.endpoint(a, 'anthropic-messages', 'generate', 'claude-sonnet-4-5', false).path,
      ).toBe('/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
      expect(
        provider.endpoint(a, 'anthropic-messages', 'count_tokens', 'claude-sonnet-4-5', false).path,
      ).toBe('/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens');
    });
  });

  describe('buildRequest', () => {
    it('should sign with SigV4 exactly as the algorithm defines it, on the region endpoint', async () => {
      const a = account({ ...KEYS, sessionToken: 'TOKEN' });
      const body = Buffer.from(
        '{"model":"claude-sonnet-4-5","stream":true,"max_tokens":5,"messages":[]}',
      );
      const endpoint = provider.endpoint(
        a,
        'anthropic-messages',
        'generate',
        'claude-sonnet-4-5',
        true,
      );
      const request = await provider.buildRequest(a, {
        format: 'anthropic-messages',
        endpoint,
        headers: { 'anthropic-beta': 'context-1m-2025-08-07, oauth-2025-04-20', cookie: 'x' },
        body,
      });
      expect(request.url).toBe(
        'https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream',
      );
      const sent = request.body as Buffer;
      expect(JSON.parse(sent.toString())).toEqual({
        anthropic_version: 'bedrock-2023-05-31',
        anthropic_beta: ['context-1m-2025-08-07'],
        max_tokens: 5,
        messages: [],
      });
      const h = request.headers;
      expect(h.cookie).toBeUndefined();
      expect(h['x-amz-security-token']).toBe('TOKEN');
      // Recompute the signature by hand from the SigV4 definition.
      const auth =
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/(\d{8})\/us-east-1\/bedrock\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
          h.authorization,
        );
      expect(auth).not.toBeNull();
      const [, day, signedList, signature] = auth!;
      const all: Record<string, string> = { ...h, host: 'bedrock-runtime.us-east-1.amazonaws.com' };
      const names = signedList.split(';');
      expect(names).toEqual(
        expect.arrayContaining([
          'host',
          'x-amz-date',
          'x-amz-content-sha256',
          'x-amz-security-token',
          'content-type',
        ]),
      );
      const canonical = [
        'POST',
        '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%253A0/invoke-with-response-stream',
        '',
        ...names.map((n) => `${n}:${all[n].trim()}`),
        '',
        signedList,
        createHash('sha256').update(sent).digest('hex'),
      ].join('\n');
      const scope = `${day}/us-east-1/bedrock/aws4_request`;
      const toSign = [
        'AWS4-HMAC-SHA256',
        h['x-amz-date'],
        scope,
        createHash('sha256').update(canonical).digest('hex'),
      ].join('\n');
      let key = hmac(`AWS4${KEYS.secretAccessKey}`, day);
      for (const part of ['us-east-1', 'bedrock', 'aws4_request']) key = hmac(key, part);
      expect(hmac(key, toSign).toString('hex')).toBe(signature);
    });

    it('should send a Bedrock API key as a bearer token, unsigned', async () => {
      const a = account({ apiKey: 'ABSK-key' });
      const request = await provider.buildRequest(a, {
        format: 'anthropic-messages',
        endpoint: { path: '/model/claude-haiku-4-5/invoke', query: 'beta=true' },
        headers: {},
        body: Buffer.from('{"model":"m","max_tokens":1,"messages":[]}'),
      });
      expect(request.url).toBe(
        'https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke',
      );
      expect(request.headers.authorization).toBe('Bearer ABSK-key');
      expect(request.headers['x-amz-date']).toBeUndefined();
    });

    it('should give the same signature for the same request and time', async () => {
      const input = {
        url: new URL('http://127.0.0.1:9/model/x/invoke'),
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from('{}'),
        region: 'eu-west-1',
        credentials: KEYS,
        signingDate: new Date('2025-01-02T03:04:05Z'),
      };
      const one = await signBedrockRequest(input);
      expect(one['x-amz-date']).toBe('20250102T030405Z');
      expect(await signBedrockRequest(input)).toEqual(one);
      expect(
        (await signBedrockRequest({ ...input, body: Buffer.from('{ }') })).authorization,
      ).not.toBe(one.authorization);
    });
  });

  describe('bedrockRequestBody', () => {
    it('should wrap a count_tokens body for CountTokens, with the max_tokens InvokeModel needs', () => {
      const out = JSON.parse(
        bedrockRequestBody(Buffer.from('{"model":"m","messages":[]}'), undefined, true).toString(),
      );
      const inner = JSON.parse(Buffer.from(out.input.invokeModel.body, 'base64').toString());
      expect(inner).toEqual({
        anthropic_version: 'bedrock-2023-05-31',
        messages: [],
        max_tokens: 1,
      });
    });
  });

  describe('classifyFailure', () => {
    const a = account(KEYS);
    const type = (name: string) => ({
      'x-amzn-errortype': `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    });

    it('should rate-limit the model family briefly on throttling and quota errors', () => {
      const now = Date.now();
      for (const name of ['ThrottlingException', 'ServiceQuotaExceededException']) {
        const outcome = provider.classifyFailure(a, 429, type(name), '');
        expect(outcome).toMatchObject({ kind: 'rate_limited', scope: 'model' });
        const resetAt = (outcome as { resetAt: number }).resetAt;
        expect(resetAt - now).toBeGreaterThanOrEqual(9_000);
        expect(resetAt - now).toBeLessThan(20_000);
      }
      expect(
        provider.classifyFailure(
          a,
          429,
          { ...type('ThrottlingException'), 'retry-after': '42' },
          '',
        ),
      ).toMatchObject({
        resetAt: expect.any(Number),
      });
    });

    it('should cool the account on a model not ready, a model timeout and 5xx', () => {
      expect(provider.classifyFailure(a, 429, type('ModelNotReadyException'), '')).toEqual({
        kind: 'server_error',
        status: 429,
      });
      expect(provider.classifyFailure(a, 408, type('ModelTimeoutException'), '')).toEqual({
        kind: 'server_error',
        status: 408,
      });
      expect(provider.classifyFailure(a, 503, type('ServiceUnavailableException'), '')).toEqual({
        kind: 'server_error',
        status: 503,
      });
      expect(provider.classifyFailure(a, 500, type('InternalServerException'), '')).toEqual({
        kind: 'server_error',
        status: 500,
      });
    });

    it('should call refused credentials auth failures, and leave validation errors to the client', () => {
      for (const name of [
        'AccessDeniedException',
        'UnrecognizedClientException',
        'InvalidSignatureException',
      ]) {
        expect(provider.classifyFailure(a, 403, type(name), '')).toEqual({
          kind: 'auth_failed',
          status: 403,
        });
      }
      expect(provider.classifyFailure(a, 400, type('ValidationException'), '')).toBeNull();
    });
  });

  describe('adaptResponse', () => {
    async function read(response: UpstreamResponse): Promise<string> {
      const chunks: Buffer[] = [];
      for await (const c of response.body as AsyncIterable<Buffer>) chunks.push(c);
      return Buffer.concat(chunks).toString('utf8');
    }
    function response(
      status: number,
      headers: Record<string, string>,
      body: string,
    ): UpstreamResponse {
      return {
        statusCode: status,
        headers,
        body: Readable.from([Buffer.from(body)]),
      } as unknown as UpstreamResponse;
    }

    it('should put an AWS error in Anthropic error shape', async () => {
      const adapted = provider.adaptResponse(
        'anthropic-messages',
        'generate',
        response(
          400,
          {
            'content-type': 'application/json',
            'x-amzn-errortype': 'ValidationException:x',
            'content-length': '20',
          },
          '{"message":"bad input"}',
        ),
      );
      expect(adapted.headers['content-length']).toBeUndefined();
      expect(JSON.parse(await read(adapted))).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'bad input' },
      });
    });

    it('should leave a Messages body untouched and rename CountTokens usage', async () => {
      const plain = response(200, { 'content-type': 'application/json' }, '{"id":"msg"}');
      expect(provider.adaptResponse('anthropic-messages', 'generate', plain)).toBe(plain);
      const count = provider.adaptResponse(
        'anthropic-messages',
        'count_tokens',
        response(200, { 'content-type': 'application/json' }, '{"inputTokens":12}'),
      );
      expect(JSON.parse(await read(count))).toEqual({ input_tokens: 12 });
    });
  });

  describe('createTap', () => {
    it('should fall back to the invocation metrics when the events carry no usage', () => {
      const tap = provider.createTap();
      tap.push(
        Buffer.from('event: message_start\ndata: {"type":"message_start","message":{}}\n\n'),
      );
      tap.push(
        Buffer.from(
          'event: message_stop\ndata: {"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":7,"outputTokenCount":9}}\n\n',
        ),
      );
      tap.end();
      expect(tap.complete).toBe(true);
      expect(tap.usage).toMatchObject({ inputTokens: 7, outputTokens: 9 });
    });
  });
});

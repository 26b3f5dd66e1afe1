import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { DROID_CREDITS_COOLDOWN_MS } from 'src/modules/accounts/types/droid.health-rules';
import type { WireFormat } from 'src/modules/relay/wire-format';
import {
  chatApiProvider,
  DROID_USER_AGENT,
  DroidProvider,
  droidSessionId,
  responsesApiProvider,
} from './droid.provider';

const KEY = 'fk-droid-unit-0123456789';

function account(credentials: Record<string, unknown> = {}): RoutableAccount {
  return {
    id: 'd1',
    type: 'droid',
    baseUrl: 'https://api.factory.ai/api/llm',
    proxyUrl: null,
    credentials: { type: 'droid', apiKey: KEY, ...credentials },
  } as unknown as RoutableAccount;
}

const provider = new DroidProvider();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function build(
  format: WireFormat,
  model: string,
  headers: Record<string, string> = {},
  credentials: Record<string, unknown> = {},
) {
  const body = Buffer.from(JSON.stringify({ model }));
  return provider.buildRequest(account(credentials), {
    format,
    endpoint: provider.endpoint(account(), format, 'generate'),
    headers,
    body,
    model,
  });
}

describe(DroidProvider.name, () => {
  describe('endpoint', () => {
    it('should send each format to its own Factory path', () => {
      const paths = (['anthropic-messages', 'openai-responses', 'openai-chat'] as const).map(
        (format) => provider.endpoint(account(), format, 'generate').path,
      );
      expect(paths).toEqual(['/a/v1/messages', '/o/v1/responses', '/o/v1/chat/completions']);
      expect(provider.endpoint(account(), 'anthropic-messages', 'count_tokens')).toEqual({
        path: '/a/v1/messages/count_tokens',
        query: '',
      });
    });

    it('should prefer Messages, then Responses, then Chat Completions', () => {
      expect(provider.formats).toEqual(['anthropic-messages', 'openai-responses', 'openai-chat']);
    });
  });

  describe('buildRequest', () => {
    it('should call the Anthropic endpoint as the Droid CLI does', async () => {
      const request = await build('anthropic-messages', 'claude-sonnet-4-5', {
        'anthropic-beta': 'interleaved-thinking-2025-05-14',
        'x-api-key': 'sk-switchyard-client-key',
        'user-agent': 'claude-cli/2.0.0',
        'x-stainless-os': 'Linux',
        'openai-beta': 'x',
      });
      expect(request.url).toBe('https://api.factory.ai/api/llm/a/v1/messages');
      expect(request.headers).toMatchObject({
        authorization: `Bearer ${KEY}`,
        'x-api-key': 'placeholder',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'interleaved-thinking-2025-05-14',
        'x-api-provider': 'anthropic',
        'x-factory-client': 'cli',
        'user-agent': DROID_USER_AGENT,
        'content-type': 'application/json',
      });
      expect(request.headers['x-session-id']).toMatch(UUID);
      expect(request.headers['x-stainless-os']).toBeUndefined();
      expect(request.headers['openai-beta']).toBeUndefined();
      expect(JSON.stringify(request.headers)).not.toContain('sk-switchyard-client-key');
    });

    it('should name azure_openai on Responses, and openai for the -max models', async () => {
      const plain = await build('openai-responses', 'gpt-5-codex');
      expect(plain.url).toBe('https://api.factory.ai/api/llm/o/v1/responses');
      expect(plain.headers['x-api-provider']).toBe('azure_openai');
      expect(plain.headers['x-api-key']).toBeUndefined();
      expect(plain.headers['anthropic-version']).toBeUndefined();
      const max = await build('openai-responses', 'gpt-5.1-codex-max');
      expect(max.headers['x-api-provider']).toBe('openai');
    });

    it('should infer the model’s host on Chat Completions', async () => {
      const request = await build('openai-chat', 'glm-4.6', { 'anthropic-beta': 'x' });
      expect(request.url).toBe('https://api.factory.ai/api/llm/o/v1/chat/completions');
      expect(request.headers['x-api-provider']).toBe('fireworks');
      expect(request.headers['anthropic-beta']).toBeUndefined();
      expect(
        ['gemini-2.5-pro', 'claude-opus-4-1', 'gpt-5', 'o3', 'kimi-k2'].map(chatApiProvider),
      ).toEqual(['google', 'anthropic', 'azure_openai', 'azure_openai', 'baseten']);
      expect(responsesApiProvider('GPT-5-MAX')).toBe('openai');
    });

    it('should read the model from the body when none is given (account tests)', async () => {
      const request = await provider.buildRequest(account(), {
        format: 'openai-chat',
        endpoint: { path: '/o/v1/chat/completions', query: '' },
        headers: {},
        body: Buffer.from('{"model":"gemini-2.5-flash","max_tokens":1}'),
      });
      expect(request.headers['x-api-provider']).toBe('google');
    });

    it('should send the account’s own User-Agent when it names one', async () => {
      const request = await build(
        'anthropic-messages',
        'claude-sonnet-4-5',
        {},
        {
          userAgent: 'factory-cli/0.40.0',
        },
      );
      expect(request.headers['user-agent']).toBe('factory-cli/0.40.0');
    });

    it('should refuse an account of another type', async () => {
      const other = { ...account(), credentials: { type: 'openai', apiKey: 'x' } };
      await expect(
        provider.buildRequest(other as unknown as RoutableAccount, {
          format: 'openai-chat',
          endpoint: { path: '/o/v1/chat/completions', query: '' },
          headers: {},
          body: undefined,
        }),
      ).rejects.toThrow('the droid provider cannot serve openai accounts');
    });
  });

  describe(droidSessionId.name, () => {
    it('should keep the Droid CLI’s own UUID', () => {
      const id = '0b6c6f5e-8f0e-4c4b-9a55-0f1e2d3c4b5a';
      expect(droidSessionId({ 'x-session-id': id })).toBe(id);
    });

    it('should derive one stable UUID per conversation from another client’s session', () => {
      const a = droidSessionId({ 'x-claude-code-session-id': 'conversation one' });
      expect(a).toMatch(UUID);
      expect(droidSessionId({ 'x-claude-code-session-id': 'conversation one' })).toBe(a);
      expect(droidSessionId({ session_id: 'conversation two' })).not.toBe(a);
    });

    it('should make a fresh one per request when the client names no session', () => {
      const a = droidSessionId({});
      expect(a).toMatch(UUID);
      expect(droidSessionId({})).not.toBe(a);
    });
  });

  describe('classifyFailure', () => {
    const classify = (status: number, body = '', headers: Record<string, string> = {}) =>
      provider.classifyFailure(account(), status, headers, body);

    it('should rate limit a 429 until retry-after', () => {
      const before = Date.now();
      const outcome = classify(429, '{"error":"slow down"}', { 'retry-after': '20' });
      expect(outcome).toMatchObject({ kind: 'rate_limited', scope: 'account' });
      const resetAt = (outcome as { resetAt: number }).resetAt;
      expect(resetAt).toBeGreaterThanOrEqual(before + 20_000);
      expect(resetAt).toBeLessThanOrEqual(Date.now() + 20_000);
    });

    it('should rest an account an hour when its credits ran out (402)', () => {
      const before = Date.now();
      const outcome = classify(402, '{"error":"Payment required: insufficient credits"}');
      expect(outcome).toMatchObject({ kind: 'rate_limited', scope: 'account' });
      expect((outcome as { resetAt: number }).resetAt).toBeGreaterThanOrEqual(
        before + DROID_CREDITS_COOLDOWN_MS,
      );
    });

    it('should mark 401 and 403 auth failed', () => {
      expect(classify(401, 'Invalid API key')).toEqual({ kind: 'auth_failed', status: 401 });
      expect(classify(403, 'Forbidden')).toEqual({ kind: 'auth_failed', status: 403 });
    });

    it('should call 5xx transient and leave the client’s own 4xx to it', () => {
      expect(classify(500)).toEqual({ kind: 'server_error', status: 500 });
      expect(classify(502)).toEqual({ kind: 'server_error', status: 502 });
      expect(classify(503)).toEqual({ kind: 'overloaded', status: 503 });
      expect(classify(529)).toEqual({ kind: 'overloaded', status: 529 });
      expect(classify(400, '{"error":"bad request"}')).toBeNull();
      expect(classify(404)).toBeNull();
    });
  });

  describe('usage', () => {
    it('should read Anthropic usage on Messages and OpenAI usage on the others', () => {
      const anthropic = provider.usageFromBody(
        'anthropic-messages',
        Buffer.from('{"usage":{"input_tokens":12,"output_tokens":5}}'),
      );
      expect(anthropic).toMatchObject({ inputTokens: 12, outputTokens: 5 });
      const chat = provider.usageFromBody(
        'openai-chat',
        Buffer.from('{"usage":{"prompt_tokens":30,"completion_tokens":7}}'),
      );
      expect(chat).toMatchObject({ inputTokens: 30, outputTokens: 7 });
      expect(provider.usageFromBody('anthropic-messages', Buffer.from('not json'))).toMatchObject({
        inputTokens: 0,
      });
    });

    it('should ask a Chat Completions stream for its usage and leave the others alone', () => {
      const body = { model: 'glm-4.6', stream: true, messages: [] };
      expect(provider.passthrough('openai-chat', body, true)?.body).toMatchObject({
        stream_options: { include_usage: true },
      });
      expect(provider.passthrough('anthropic-messages', body, true)).toBeNull();
      expect(provider.passthrough('openai-responses', body, true)).toBeNull();
    });
  });
});

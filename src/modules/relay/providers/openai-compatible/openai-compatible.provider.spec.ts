import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { PERMISSIVE } from 'src/modules/relay/converters/anthropic-to-openai-chat/request';
import { OpenAIRequestException } from 'src/modules/relay/dialects/openai/openai-error';
import { OpenAICompatibleProvider, fitChatRequest } from './openai-compatible.provider';

function account(credentials: Record<string, unknown>): RoutableAccount {
  return {
    id: 'a1',
    type: 'openai-compatible',
    baseUrl: 'http://127.0.0.1:9/v1',
    proxyUrl: null,
    credentials: { type: 'openai-compatible', ...credentials },
  } as unknown as RoutableAccount;
}

const MESSAGES = [{ role: 'user', content: 'hi' }];

describe(fitChatRequest.name, () => {
  it('should change nothing for a request every server takes', () => {
    expect(
      fitChatRequest({ model: 'm', messages: MESSAGES, max_tokens: 10 }, PERMISSIVE),
    ).toBeNull();
  });

  it('should lower output caps and merge extra body fields', () => {
    expect(
      fitChatRequest(
        { model: 'm', messages: MESSAGES, max_tokens: 9000, max_completion_tokens: 9000 },
        { ...PERMISSIVE, maxOutputTokens: 4096, extraBody: { top_k: 5 } },
      ),
    ).toEqual({
      model: 'm',
      messages: MESSAGES,
      max_tokens: 4096,
      max_completion_tokens: 4096,
      top_k: 5,
    });
  });

  it('should leave out stream_options for a server that refuses it', () => {
    expect(
      fitChatRequest(
        { model: 'm', messages: MESSAGES, stream: true, stream_options: { include_usage: true } },
        { ...PERMISSIVE, streamOptions: false },
      ),
    ).toEqual({ model: 'm', messages: MESSAGES, stream: true });
  });

  it('should refuse tools and images the server cannot take, in OpenAI’s shape', () => {
    expect(() =>
      fitChatRequest(
        { model: 'm', messages: MESSAGES, tools: [{ type: 'function', function: { name: 'f' } }] },
        { ...PERMISSIVE, tools: false },
      ),
    ).toThrow(OpenAIRequestException);
    const image = [
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
    ];
    expect(() =>
      fitChatRequest({ model: 'm', messages: image }, { ...PERMISSIVE, images: false }),
    ).toThrow("messages: this account's server does not read images");
  });
});

describe(OpenAICompatibleProvider.name, () => {
  const provider = new OpenAICompatibleProvider();

  describe('passthrough', () => {
    it('should pass a non-stream request untouched and ask a stream for its usage', () => {
      const a = account({});
      expect(
        provider.passthrough('openai-chat', { model: 'm', messages: MESSAGES }, false, a),
      ).toBeNull();
      expect(
        provider.passthrough(
          'openai-chat',
          { model: 'm', messages: MESSAGES, stream: true },
          true,
          a,
        )?.body,
      ).toEqual({
        model: 'm',
        messages: MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
      });
    });

    it('should not ask for the usage when the server refuses stream_options', () => {
      const a = account({ quirks: { streamOptions: false } });
      expect(
        provider.passthrough(
          'openai-chat',
          { model: 'm', messages: MESSAGES, stream: true },
          true,
          a,
        ),
      ).toBeNull();
    });
  });

  describe('buildRequest', () => {
    it('should send the key as a bearer with the extra headers, to /chat/completions', async () => {
      const request = await provider.buildRequest(
        account({ apiKey: 'k', extraHeaders: { 'X-Title': 'S' } }),
        {
          format: 'openai-chat',
          endpoint: provider.endpoint(),
          headers: { authorization: 'Bearer client-key', 'user-agent': 'ua' },
          body: Buffer.from('{}'),
        },
      );
      expect(request.url).toBe('http://127.0.0.1:9/v1/chat/completions');
      expect(request.headers).toMatchObject({
        authorization: 'Bearer k',
        'x-title': 'S',
        'user-agent': 'ua',
      });
    });

    it('should send no authorization at all for an account without a key', async () => {
      const request = await provider.buildRequest(account({}), {
        format: 'openai-chat',
        endpoint: provider.endpoint(),
        headers: { authorization: 'Bearer client-key' },
        body: Buffer.from('{}'),
      });
      expect(request.headers.authorization).toBeUndefined();
    });
  });
});

import {
  openAICompatibleDescriptor,
  openAICompatibleHeaders,
  parseOpenAICompatibleCredentials,
  resolveQuirks,
} from './openai-compatible';

describe('openAICompatibleDescriptor', () => {
  describe(parseOpenAICompatibleCredentials.name, () => {
    it('should accept no key at all (a local server) and fill quirk defaults', () => {
      const credentials = parseOpenAICompatibleCredentials({});
      expect(credentials).toEqual({ type: 'openai-compatible' });
      expect(resolveQuirks(credentials)).toEqual({
        maxOutputTokens: null,
        maxTokensField: 'max_tokens',
        tools: true,
        streamOptions: true,
        images: true,
        reasoning: 'none',
      });
    });

    it('should keep valid quirks, headers and body fields', () => {
      const input = {
        apiKey: 'sk-or-v1-0123456789abcdef0123',
        extraHeaders: { 'HTTP-Referer': 'https://example.com', 'X-Title': 'Switchyard' },
        extraBody: { provider: { order: ['deepinfra'] } },
        quirks: { maxOutputTokens: 8192, tools: false, reasoning: 'openrouter' },
      };
      expect(parseOpenAICompatibleCredentials(input)).toEqual({
        type: 'openai-compatible',
        ...input,
      });
    });

    it.each([
      [{ quirks: { maxOutputTokens: 0 } }, 'credentials.quirks.maxOutputTokens must be an integer'],
      [{ quirks: { tools: 'no' } }, 'credentials.quirks.tools must be true or false'],
      [{ quirks: { reasoning: 'magic' } }, 'credentials.quirks.reasoning must be one of'],
      [{ quirks: { speed: 1 } }, 'unexpected: speed'],
      [{ extraBody: { model: 'x' } }, 'credentials.extraBody: model cannot be overridden'],
      [{ extraHeaders: { 'Content-Type': 'text/plain' } }, 'content-type is set by Switchyard'],
      [
        { apiKey: 'sk-0123456789abcdef0123', extraHeaders: { Authorization: 'Bearer x' } },
        'authorization comes from apiKey',
      ],
      [{ quirks: [] }, 'credentials.quirks must be an object'],
    ])('should refuse %j', (input, message) => {
      expect(() => parseOpenAICompatibleCredentials(input)).toThrow(message);
    });
  });

  describe('describeCredentials', () => {
    it('should show header names and a key hint, never a header value or the key', () => {
      const summary = openAICompatibleDescriptor.describeCredentials(
        parseOpenAICompatibleCredentials({
          apiKey: 'sk-SECRET-0123456789abcdef',
          extraHeaders: { 'X-Gateway-Key': 'SECRET-header' },
        }),
      );
      expect(summary.extraHeaderNames).toEqual(['X-Gateway-Key']);
      expect(JSON.stringify(summary)).not.toContain('SECRET');
    });
  });

  describe('baseUrlProblem', () => {
    it('should refuse a base URL that already ends in /chat/completions', () => {
      expect(openAICompatibleDescriptor.baseUrlProblem?.('https://api.deepseek.com/v1')).toBeNull();
      expect(
        openAICompatibleDescriptor.baseUrlProblem?.('https://api.deepseek.com/v1/chat/completions'),
      ).toContain('without /chat/completions');
    });
  });

  describe('health', () => {
    it('should read 401 and 403 as refused credentials', () => {
      const { health } = openAICompatibleDescriptor;
      expect(health.isAuthFailed(401, '{}')).toBe(true);
      expect(health.isAuthFailed(403, '{}')).toBe(true);
      expect(health.isAuthFailed(400, '{}')).toBe(false);
    });
  });

  describe(openAICompatibleHeaders.name, () => {
    it('should send the extra headers, then the key as a bearer', () => {
      expect(
        openAICompatibleHeaders({
          type: 'openai-compatible',
          apiKey: 'k',
          extraHeaders: { 'X-Title': 'S' },
        }),
      ).toEqual({ 'x-title': 'S', authorization: 'Bearer k' });
      expect(openAICompatibleHeaders({ type: 'openai-compatible' })).toEqual({});
    });
  });
});

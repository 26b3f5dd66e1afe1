import type { TestRequest } from './account-type.descriptor';

/**
 * The account test of every Anthropic type: a Messages request for at most one output token.
 * Haiku is the cheapest model every Anthropic account serves.
 */
export const anthropicTestRequest: TestRequest = {
  defaultModel: 'claude-haiku-4-5',
  build: (model) => ({
    method: 'POST',
    path: '/v1/messages',
    body: { model, max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] },
  }),
};

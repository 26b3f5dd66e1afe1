import type { TestRequest } from './account-type.descriptor';

/**
 * The account test of the Gemini API types: one generateContent call capped at one output token,
 * on the cheapest current model. Paths are relative to the account's base URL (the API root,
 * without a version).
 */
export const geminiTestRequest: TestRequest = {
  defaultModel: 'gemini-2.5-flash-lite',
  build: (model) => ({
    method: 'POST',
    path: `/v1beta/models/${encodeURIComponent(model)}:generateContent`,
    body: {
      contents: [{ role: 'user', parts: [{ text: 'ping' }] }],
      generationConfig: { maxOutputTokens: 1 },
    },
  }),
};

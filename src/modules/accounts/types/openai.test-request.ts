import type { TestRequest } from './account-type.descriptor';

/**
 * Reasoning models spend their output budget on reasoning first: Chat Completions answers a
 * one-token cap with 400 "Could not finish the message because max_tokens or model output limit
 * was reached", while the Responses API answers 200 with status `incomplete`.
 */
const REASONING_MODEL = /^(o\d|gpt-5|codex)/i;

/** The Responses API refuses `max_output_tokens` below 16 (`integer_below_min_value`). */
const RESPONSES_MIN_OUTPUT_TOKENS = 16;

/**
 * The account test of the `openai` and `azure-openai` types. Paths are relative to the API root
 * (the `openai` base URL includes `/v1`; the Azure provider maps them onto the account's URL
 * shape). A non-reasoning model gets a Chat Completions request for one output token; a
 * reasoning model a Responses request for the 16 the API allows at least.
 */
export const openAITestRequest: TestRequest = {
  defaultModel: 'gpt-4.1-mini',
  build: (model) =>
    REASONING_MODEL.test(model)
      ? {
          method: 'POST',
          path: '/responses',
          body: { model, input: 'ping', max_output_tokens: RESPONSES_MIN_OUTPUT_TOKENS },
        }
      : {
          method: 'POST',
          path: '/chat/completions',
          body: { model, max_completion_tokens: 1, messages: [{ role: 'user', content: 'ping' }] },
        },
};

/**
 * The account test of `codex-oauth`. The ChatGPT backend takes only streamed, unstored Responses
 * requests (400 "Stream must be set to true", "Store must be set to false"), wants `instructions`
 * (400 "Instructions are required") and refuses any output cap (400 "Unsupported parameter:
 * max_output_tokens"), so the prompt asks for one word instead.
 */
export const codexTestRequest: TestRequest = {
  defaultModel: 'gpt-5.1-codex-mini',
  build: (model) => ({
    method: 'POST',
    path: '/responses',
    body: {
      model,
      instructions: 'Answer with the single word: pong.',
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'ping' }] }],
      store: false,
      stream: true,
    },
  }),
};

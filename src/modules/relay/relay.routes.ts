import { AnthropicDialect } from './dialects/anthropic/anthropic.dialect';
import { GeminiDialect, type GeminiMethod } from './dialects/gemini/gemini.dialect';
import { CodeAssistDialect } from './dialects/code-assist/code-assist.dialect';
import { OpenAIChatDialect } from './dialects/openai/openai-chat.dialect';
import { OpenAIResponsesDialect } from './dialects/openai/openai-responses.dialect';
import type { InboundDialect } from './relay.types';
import type { RelayOperation } from './wire-format';

/** One relayed POST route: who calls it (dialect), what it asks for, whether it is metered. */
export interface RelayRoute {
  readonly name: string;
  readonly dialect: InboundDialect;
  readonly operation: RelayOperation;
  /** Metered calls take admission's cost reservation and produce a usage event. */
  readonly metered: boolean;
  /**
   * Express paths, without the leading slash. A path may name the model in its last segment as
   * `:model\\:<method>` (Gemini's `models/{model}:generateContent`); the fast path serves those
   * too (see MODEL_PARAM).
   */
  readonly paths: readonly string[];
}

/** How a path names its model segment (Express 5: `:model` then a literal, escaped colon). */
export const MODEL_PARAM = ':model\\:';

/** Where Gemini clients call: Google's own versions, under /gemini and at the root. */
const GEMINI_PREFIXES = ['gemini/v1beta', 'gemini/v1', 'v1beta'] as const;

/**
 * The generation methods are also served at the root's /v1 (`@google/genai` calls v1 unless told
 * otherwise); its model list is not, since `GET /v1/models` is the Anthropic and OpenAI one.
 */
function geminiPaths(method: GeminiMethod): string[] {
  return [...GEMINI_PREFIXES, 'v1'].map((prefix) => `${prefix}/models/${MODEL_PARAM}${method}`);
}

/** The Gemini model-list paths (`GET …/models` and `GET …/models/{model}`). */
export const GEMINI_MODEL_LIST_PATHS = GEMINI_PREFIXES.map((prefix) => `${prefix}/models`);

export const ANTHROPIC_DIALECT = new AnthropicDialect();
export const OPENAI_CHAT_DIALECT = new OpenAIChatDialect();
export const OPENAI_RESPONSES_DIALECT = new OpenAIResponsesDialect();
export const GEMINI_DIALECT = new GeminiDialect();
export const CODE_ASSIST_DIALECTS = {
  generate: new CodeAssistDialect('generate'),
  stream: new CodeAssistDialect('stream'),
  count: new CodeAssistDialect('count'),
} as const;

/**
 * The one route table: the controllers declare their handlers from it and the fast path serves
 * the same paths ahead of Express. Anthropic's routes are also mounted under /api and /claude so
 * existing relay client configs work.
 */
export const RELAY_ROUTES = {
  anthropicMessages: {
    name: 'anthropic.messages',
    dialect: ANTHROPIC_DIALECT,
    operation: 'generate',
    metered: true,
    paths: ['v1/messages', 'api/v1/messages', 'claude/v1/messages'],
  },
  anthropicCountTokens: {
    name: 'anthropic.count_tokens',
    dialect: ANTHROPIC_DIALECT,
    operation: 'count_tokens',
    metered: false,
    paths: [
      'v1/messages/count_tokens',
      'api/v1/messages/count_tokens',
      'claude/v1/messages/count_tokens',
    ],
  },
  openaiChat: {
    name: 'openai.chat_completions',
    dialect: OPENAI_CHAT_DIALECT,
    operation: 'generate',
    metered: true,
    paths: ['openai/v1/chat/completions', 'v1/chat/completions'],
  },
  openaiResponses: {
    name: 'openai.responses',
    dialect: OPENAI_RESPONSES_DIALECT,
    operation: 'generate',
    metered: true,
    paths: ['openai/v1/responses', 'openai/responses', 'v1/responses'],
  },
  geminiGenerateContent: {
    name: 'gemini.generate_content',
    dialect: GEMINI_DIALECT,
    operation: 'generate',
    metered: true,
    paths: geminiPaths('generateContent'),
  },
  geminiStreamGenerateContent: {
    name: 'gemini.stream_generate_content',
    dialect: GEMINI_DIALECT,
    operation: 'generate',
    metered: true,
    paths: geminiPaths('streamGenerateContent'),
  },
  geminiCountTokens: {
    name: 'gemini.count_tokens',
    dialect: GEMINI_DIALECT,
    operation: 'count_tokens',
    metered: false,
    paths: geminiPaths('countTokens'),
  },
  // Gemini CLI's Google-login mode (Code Assist); its other methods are answered locally.
  codeAssistGenerate: {
    name: 'code_assist.generate_content',
    dialect: CODE_ASSIST_DIALECTS.generate,
    operation: 'generate',
    metered: true,
    paths: ['gemini/v1internal:generateContent'],
  },
  codeAssistStream: {
    name: 'code_assist.stream_generate_content',
    dialect: CODE_ASSIST_DIALECTS.stream,
    operation: 'generate',
    metered: true,
    paths: ['gemini/v1internal:streamGenerateContent'],
  },
  codeAssistCountTokens: {
    name: 'code_assist.count_tokens',
    dialect: CODE_ASSIST_DIALECTS.count,
    operation: 'count_tokens',
    metered: false,
    paths: ['gemini/v1internal:countTokens'],
  },
} as const satisfies Record<string, RelayRoute>;

export const ALL_RELAY_ROUTES: readonly RelayRoute[] = Object.values(RELAY_ROUTES);

import type { WireFormat } from 'src/modules/relay/wire-format';
import type { RoutingScenario } from './routing-rule.types';

/**
 * The scenarios of one request, each detected at most once and only when a rule asks (most
 * requests meet no scenario rule at all, so nothing is scanned for them).
 *
 * Detection follows claude-code-router's router (src/utils/router.ts), generalised to the other
 * dialects where the request carries the same fact:
 * - background: the requested model is a Haiku (`*haiku*`): Claude Code sends its background
 *   work (titles, summaries, quota checks) to its small fast model, a Haiku by default.
 * - think: Anthropic `thinking` present and not `{"type":"disabled"}`; Chat Completions
 *   `reasoning_effort`, Responses `reasoning.effort`, each set and not `none`.
 * - long_context: estimated input tokens above the rule's threshold. The estimate is the request
 *   body's size in bytes / 4: free (the bytes were counted while reading), close to a tokenizer's
 *   count for English text and code in JSON, and it counts what claude-code-router counts
 *   (messages, system, tools); an inline base64 image inflates it.
 * - web_search: a tool whose `type` starts with `web_search` (Anthropic server tools,
 *   Responses tools), or Chat Completions `web_search_options`.
 * - image: an image anywhere in the conversation: Anthropic `image` blocks (tool results too),
 *   Chat Completions `image_url` parts, Responses `input_image` parts.
 */
export class RequestScenarios {
  private readonly seen = new Map<RoutingScenario, boolean>();

  constructor(
    private readonly model: string,
    private readonly format: WireFormat,
    private readonly body: Record<string, unknown>,
    private readonly bodyBytes: number,
  ) {}

  /** Estimated input tokens: body bytes / 4, rounded up. */
  get estimatedInputTokens(): number {
    return Math.ceil(this.bodyBytes / 4);
  }

  holds(scenario: RoutingScenario, longContextThreshold: number): boolean {
    if (scenario === 'long_context') return this.estimatedInputTokens > longContextThreshold;
    let known = this.seen.get(scenario);
    if (known === undefined) {
      known = detect(scenario, this.model, this.format, this.body);
      this.seen.set(scenario, known);
    }
    return known;
  }
}

function detect(
  scenario: Exclude<RoutingScenario, 'long_context'>,
  model: string,
  format: WireFormat,
  body: Record<string, unknown>,
): boolean {
  switch (scenario) {
    case 'background':
      return model.toLowerCase().includes('haiku');
    case 'think':
      return thinks(format, body);
    case 'web_search':
      return searchesWeb(format, body);
    case 'image':
      return hasImage(format, body);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function effortSet(effort: unknown): boolean {
  return typeof effort === 'string' && effort !== 'none';
}

function thinks(format: WireFormat, body: Record<string, unknown>): boolean {
  switch (format) {
    case 'anthropic-messages': {
      const thinking = body.thinking;
      if (thinking === undefined || thinking === null || thinking === false) return false;
      return !(isRecord(thinking) && thinking.type === 'disabled');
    }
    case 'openai-chat':
      return effortSet(body.reasoning_effort);
    case 'openai-responses':
      return isRecord(body.reasoning) && effortSet(body.reasoning.effort);
    case 'gemini':
    case 'code-assist':
      return false;
  }
}

function hasWebSearchTool(tools: unknown): boolean {
  return (
    Array.isArray(tools) &&
    tools.some(
      (tool) =>
        isRecord(tool) && typeof tool.type === 'string' && tool.type.startsWith('web_search'),
    )
  );
}

function searchesWeb(format: WireFormat, body: Record<string, unknown>): boolean {
  switch (format) {
    case 'anthropic-messages':
    case 'openai-responses':
      return hasWebSearchTool(body.tools);
    case 'openai-chat':
      return body.web_search_options !== undefined && body.web_search_options !== null;
    case 'gemini':
    case 'code-assist':
      return false;
  }
}

/** Content-part types that carry an image, per dialect. */
const IMAGE_PARTS: Partial<Record<WireFormat, ReadonlySet<string>>> = {
  'anthropic-messages': new Set(['image']),
  'openai-chat': new Set(['image_url']),
  'openai-responses': new Set(['input_image']),
};

/** Depth of nested `content` arrays looked into: a tool result's content holds blocks itself. */
const MAX_CONTENT_DEPTH = 3;

function partsHaveImage(parts: unknown, types: ReadonlySet<string>, depth: number): boolean {
  if (!Array.isArray(parts) || depth > MAX_CONTENT_DEPTH) return false;
  for (const part of parts) {
    if (!isRecord(part)) continue;
    if (typeof part.type === 'string' && types.has(part.type)) return true;
    if (partsHaveImage(part.content, types, depth + 1)) return true;
  }
  return false;
}

function hasImage(format: WireFormat, body: Record<string, unknown>): boolean {
  const types = IMAGE_PARTS[format];
  if (types === undefined) return false;
  // Chat and Anthropic hold the conversation in `messages`; Responses in `input` (a string, or
  // items whose `content` holds the parts).
  const items = format === 'openai-responses' ? body.input : body.messages;
  return partsHaveImage(items, types, 0);
}

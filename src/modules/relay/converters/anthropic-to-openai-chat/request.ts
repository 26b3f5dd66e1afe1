import type { ChatUpstreamOptions, ConversionInput } from 'src/modules/relay/converters/converter';
import {
  Json,
  MESSAGES_FIELDS,
  checkKnownFields,
  customTools,
  fail,
  given,
  messageList,
  outputSchema,
  quote,
  readMessage,
  readSource,
  readThinking,
  readToolChoice,
  readToolResultContent,
  readToolUse,
  requireObject,
  requireString,
  systemTexts,
  stopSequences,
  topK,
} from 'src/modules/relay/converters/shared/anthropic-request-reader';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';

/**
 * An Anthropic Messages request body → a Chat Completions request body for an openai-compatible
 * server, fitted to the account's quirks (ConversionInput.upstream).
 *
 * Everything a client sends is carried over, refused with a 400 in Anthropic's shape naming the
 * field, or accepted without effect (IGNORED_FIELDS, and `cache_control` everywhere, `citations`,
 * tools' `strict` / `input_examples`, `output_config.effort`): see docs/clients.md.
 *
 * - `system` (string or text blocks, joined by a blank line) → one `system` message; a message
 *   of role `system` among the turns (Claude Code sends them) → a `system` message there.
 * - user text → text (a message of text only as one string, which every server reads); images
 *   (base64 → a data URL, url → the URL) → `image_url` parts, refused when the server reads no
 *   images; plain-text documents → text; PDFs are refused.
 * - `tool_use` → the assistant message's `tool_calls`; `tool_result` → a `tool` message (text;
 *   `is_error` prefixes "Error: "), its images in a user message right after the tool messages
 *   (or a 400 when the server reads no images).
 * - thinking blocks given back are dropped: reasoning of an earlier turn is not sent back to
 *   these servers (DeepSeek refuses it), and the synthetic signature (THINKING_SIGNATURE) marks
 *   the blocks this converter made.
 * - `tools` (custom only) → functions (`input_schema` as `parameters`); `tool_choice` auto / any
 *   / tool / none → auto / required / the function / none; `disable_parallel_tool_use` →
 *   `parallel_tool_calls: false`. Tools on a server that takes none: 400.
 * - `thinking` → the account's reasoning style (see ChatUpstreamOptions.reasoning).
 * - `max_tokens` → `max_tokens` (or `max_completion_tokens`), lowered to the server's most;
 *   `temperature`, `top_p`, `top_k` (vLLM, OpenRouter, Ollama read it), `stop_sequences` →
 *   `stop`; `metadata.user_id` → `user`; `output_config.format` json_schema → `response_format`.
 * - `stream` → `stream` with `stream_options.include_usage` when the server takes it.
 * - the account's extra body fields are merged in last.
 */

/** The signature of thinking blocks made from a server's reasoning text (never Claude's). */
export const THINKING_SIGNATURE = 'switchyard.openai-compatible.reasoning.v1';

/** Accepted and ignored: no effect a client could observe from such servers. */
export const IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'service_tier',
  'context_management',
  'container',
  'mcp_servers',
]);

const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  ...MESSAGES_FIELDS,
  'metadata',
  ...IGNORED_FIELDS,
]);

/** How refusals name the upstream. */
const WHERE = 'this model';

/** The options of a server that takes everything (every quirk at its default). */
export const PERMISSIVE: ChatUpstreamOptions = {
  maxOutputTokens: null,
  maxTokensField: 'max_tokens',
  tools: true,
  streamOptions: true,
  images: true,
  reasoning: 'none',
  extraBody: null,
};

function numberField(value: unknown, path: string): number | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'Input should be a number');
  return value;
}

/** Converts one Messages request; throws a RelayException (400) for what the server cannot do. */
export function toChatRequest(input: ConversionInput): Json {
  const options = input.upstream;
  if (options === undefined) {
    // Only openai-compatible accounts hand their server's options over; OpenAI's own API (and
    // Azure's) would need its own model rules (max_completion_tokens, reasoning models).
    throw new RelayException(
      RelayExceptionCode.UNSUPPORTED_PARAMETER,
      'Anthropic Messages requests can be served by openai-compatible accounts only, not by ' +
        'other OpenAI accounts yet',
      null,
      'model',
    );
  }
  const body = input.body;
  if (input.operation !== 'generate') {
    fail(
      'model',
      'token counting is not available for models on OpenAI-compatible servers ' +
        '(they have no count_tokens endpoint)',
    );
  }
  checkKnownFields(body, KNOWN_FIELDS);
  const out: Json = { model: input.upstreamModel };
  out.messages = [...systemMessages(body.system), ...convertMessages(body.messages, options)];

  const maxTokens = body.max_tokens;
  if (typeof maxTokens !== 'number' || !Number.isSafeInteger(maxTokens) || maxTokens < 1) {
    fail('max_tokens', 'Field required: a positive integer');
  }
  const cap =
    options.maxOutputTokens === null ? maxTokens : Math.min(maxTokens, options.maxOutputTokens);
  out[options.maxTokensField] = cap;

  const temperature = numberField(body.temperature, 'temperature');
  if (temperature !== undefined) out.temperature = temperature;
  const topP = numberField(body.top_p, 'top_p');
  if (topP !== undefined) out.top_p = topP;
  const k = topK(body.top_k);
  if (k !== undefined) out.top_k = k;
  const stop = stopSequences(body.stop_sequences);
  if (stop !== undefined) out.stop = stop;

  const tools = convertTools(body.tools);
  if (tools.length > 0) {
    if (!options.tools) fail('tools', "this model's server does not take tools");
    out.tools = tools;
  }
  const choice = toolChoice(
    body.tool_choice,
    tools.map((tool) => String((tool.function as Json).name)),
  );
  if (choice !== undefined) {
    if (choice.choice !== undefined && tools.length > 0) out.tool_choice = choice.choice;
    if (choice.parallel === false && tools.length > 0) out.parallel_tool_calls = false;
  }

  Object.assign(out, reasoningFields(body.thinking, maxTokens, options));
  const format = responseFormat(body);
  if (format !== undefined) out.response_format = format;
  const user = userOf(body.metadata);
  if (user !== undefined) out.user = user;
  if (input.stream) {
    out.stream = true;
    if (options.streamOptions) out.stream_options = { include_usage: true };
  }
  for (const [key, value] of Object.entries(options.extraBody ?? {})) out[key] = value;
  return out;
}

function userOf(value: unknown): string | undefined {
  if (!given(value)) return undefined;
  const metadata = requireObject(value, 'metadata');
  const id = metadata.user_id;
  if (!given(id)) return undefined;
  const text = requireString(id, 'metadata.user_id');
  return text.length > 0 ? text : undefined;
}

// ---- thinking --------------------------------------------------------------------------------

type Thinking = { on: false } | { on: true; budget: number | null };

function thinkingOf(value: unknown, maxTokens: number): Thinking | undefined {
  const thinking = readThinking(value, maxTokens, false);
  switch (thinking?.type) {
    case undefined:
      return undefined;
    case 'disabled':
      return { on: false };
    case 'adaptive':
      return { on: true, budget: null };
    case 'enabled':
      return { on: true, budget: thinking.budget };
  }
}

/** A thinking budget as an OpenAI reasoning effort. */
export function effortOf(budget: number | null): 'low' | 'medium' | 'high' {
  if (budget === null) return 'medium';
  if (budget < 4096) return 'low';
  if (budget < 16384) return 'medium';
  return 'high';
}

/** `thinking` in the account's reasoning style; nothing for style `none` or no `thinking`. */
function reasoningFields(value: unknown, maxTokens: number, options: ChatUpstreamOptions): Json {
  const thinking = thinkingOf(value, maxTokens);
  if (thinking === undefined) return {};
  switch (options.reasoning) {
    case 'none':
      return {};
    case 'reasoning_effort':
      return thinking.on ? { reasoning_effort: effortOf(thinking.budget) } : {};
    case 'openrouter':
      if (!thinking.on) return { reasoning: { enabled: false } };
      return {
        reasoning: thinking.budget === null ? { enabled: true } : { max_tokens: thinking.budget },
      };
    case 'thinking':
      if (!thinking.on) return { thinking: { type: 'disabled' } };
      return {
        thinking:
          thinking.budget === null
            ? { type: 'enabled' }
            : { type: 'enabled', budget_tokens: thinking.budget },
      };
    case 'enable_thinking':
      if (!thinking.on) return { enable_thinking: false };
      return thinking.budget === null
        ? { enable_thinking: true }
        : { enable_thinking: true, thinking_budget: thinking.budget };
  }
}

/** `output_config.format` (or the older `output_format`) json_schema → `response_format`. */
function responseFormat(body: Json): Json | undefined {
  const schema = outputSchema(body);
  if (schema === undefined) return undefined;
  return { type: 'json_schema', json_schema: { name: 'output', schema, strict: true } };
}

// ---- tools -----------------------------------------------------------------------------------

function convertTools(value: unknown): Json[] {
  return customTools(value, WHERE, ({ spec, name, path }) => {
    const fn: Json = { name };
    if (given(spec.description))
      fn.description = requireString(spec.description, `${path}.description`);
    fn.parameters = given(spec.input_schema)
      ? requireObject(spec.input_schema, `${path}.input_schema`)
      : { type: 'object', properties: {} };
    return { type: 'function', function: fn };
  });
}

function toolChoice(
  value: unknown,
  names: string[],
): { choice?: unknown; parallel?: false } | undefined {
  const choice = readToolChoice(value);
  if (choice === undefined) return undefined;
  const withParallel = (picked: unknown): { choice?: unknown; parallel?: false } =>
    choice.disableParallel ? { choice: picked, parallel: false } : { choice: picked };
  switch (choice.type) {
    case 'auto':
      return withParallel('auto');
    case 'any':
      return withParallel('required');
    case 'none':
      return { choice: 'none' };
    case 'tool':
      if (!names.includes(choice.name)) {
        fail('tool_choice.name', `no tool is named ${quote(choice.name)}`);
      }
      return withParallel({ type: 'function', function: { name: choice.name } });
  }
}

// ---- system and messages ---------------------------------------------------------------------

function systemMessages(value: unknown): Json[] {
  const text = systemTexts(value)
    .filter((part) => part.length > 0)
    .join('\n\n');
  return text.length > 0 ? [{ role: 'system', content: text }] : [];
}

function convertMessages(value: unknown, options: ChatUpstreamOptions): Json[] {
  const messages = messageList(value);
  if (messages.length === 0) fail('messages', 'at least one message is required');
  const out: Json[] = [];
  messages.forEach((message: unknown, i) => {
    const { role, blocks, path } = readMessage(message, i);
    switch (role) {
      case 'user':
        out.push(...userMessages(blocks, path, options));
        break;
      case 'assistant': {
        const assistant = assistantMessage(blocks, path);
        if (assistant !== null) out.push(assistant);
        break;
      }
      case 'system': {
        // Claude Code sends system messages between turns (reminders); text only.
        const text = blocks
          .map((block, j) => {
            if (block.type !== 'text') {
              fail(`${path}.${j}.type`, "system messages hold 'text' blocks only");
            }
            return requireString(block.text, `${path}.${j}.text`);
          })
          .filter((part) => part.length > 0)
          .join('\n\n');
        if (text.length > 0) out.push({ role: 'system', content: text });
        break;
      }
      default:
        fail(
          `messages.${i}.role`,
          `unsupported value ${quote(role)}; use user, assistant or system`,
        );
    }
  });
  return out;
}

/** Content parts as a message's `content`: one string when they are all text. */
function partsContent(parts: Json[]): string | Json[] {
  if (parts.every((part) => part.type === 'text')) {
    return parts.map((part) => String(part.text)).join('\n\n');
  }
  return parts;
}

function imagePart(block: Json, path: string, options: ChatUpstreamOptions): Json {
  if (!options.images) fail(path, "this model's server does not read images");
  const source = readSource(
    block,
    path,
    ['base64', 'url'],
    'image sources cannot be sent to this model; use base64 or url',
  );
  const url =
    source.type === 'base64' ? `data:${source.mediaType};base64,${source.data}` : source.url;
  return { type: 'image_url', image_url: { url } };
}

function documentText(block: Json, path: string): string {
  return readSource(
    block,
    path,
    ['text'],
    'documents cannot be read by this model; only plain-text documents can',
  ).data;
}

/** One user turn → tool messages (its tool results) first, then a user message with the rest. */
function userMessages(blocks: Json[], path: string, options: ChatUpstreamOptions): Json[] {
  const tools: Json[] = [];
  const parts: Json[] = [];
  const resultImages: Json[] = [];
  blocks.forEach((block, j) => {
    const blockPath = `${path}.${j}`;
    switch (block.type) {
      case 'text': {
        const text = requireString(block.text, `${blockPath}.text`);
        if (text.length > 0) parts.push({ type: 'text', text });
        break;
      }
      case 'image':
        parts.push(imagePart(block, blockPath, options));
        break;
      case 'document':
        parts.push({ type: 'text', text: documentText(block, blockPath) });
        break;
      case 'tool_result': {
        const result = toolResult(block, blockPath, options);
        tools.push(result.message);
        resultImages.push(...result.images);
        break;
      }
      default:
        fail(`${blockPath}.type`, `${quote(block.type)} blocks are not supported on ${WHERE}`);
    }
  });
  const out = [...tools];
  // Tool messages must follow the assistant's calls directly: their images come after them.
  const userParts = [...resultImages, ...parts];
  if (userParts.length > 0) out.push({ role: 'user', content: partsContent(userParts) });
  return out;
}

function toolResult(
  block: Json,
  path: string,
  options: ChatUpstreamOptions,
): { message: Json; images: Json[] } {
  const id = requireString(block.tool_use_id, `${path}.tool_use_id`);
  if (id.length === 0) fail(`${path}.tool_use_id`, 'must not be empty');
  const texts: string[] = [];
  const images: Json[] = [];
  readToolResultContent(block.content, `${path}.content`, WHERE, {
    text: (value) => texts.push(value),
    media: (inner, innerPath) => {
      if (inner.type === 'image') images.push(imagePart(inner, innerPath, options));
      else texts.push(documentText(inner, innerPath));
    },
  });
  let text = texts.join('\n\n');
  if (images.length > 0) {
    text = `${text}${text.length > 0 ? '\n\n' : ''}(the image${images.length > 1 ? 's' : ''} of this result follow${images.length > 1 ? '' : 's'} in the next message)`;
  }
  if (block.is_error === true) text = `Error: ${text}`;
  return { message: { role: 'tool', tool_call_id: id, content: text }, images };
}

/** An assistant turn → one assistant message (text and tool calls); null when it is empty. */
function assistantMessage(blocks: Json[], path: string): Json | null {
  const texts: string[] = [];
  const calls: Json[] = [];
  blocks.forEach((block, j) => {
    const blockPath = `${path}.${j}`;
    switch (block.type) {
      case 'text':
        texts.push(requireString(block.text, `${blockPath}.text`));
        break;
      case 'thinking':
      case 'redacted_thinking':
        // Reasoning of earlier turns is not sent back (see the module comment).
        break;
      case 'tool_use': {
        const { id, name, input } = readToolUse(block, blockPath);
        calls.push({ id, type: 'function', function: { name, arguments: JSON.stringify(input) } });
        break;
      }
      default:
        fail(`${blockPath}.type`, `${quote(block.type)} blocks are not supported on ${WHERE}`);
    }
  });
  const text = texts.filter((part) => part.length > 0).join('\n\n');
  if (text.length === 0 && calls.length === 0) return null;
  const message: Json = { role: 'assistant', content: text.length > 0 ? text : null };
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

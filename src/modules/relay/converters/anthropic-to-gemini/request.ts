import type { ConversionInput } from 'src/modules/relay/converters/converter';
import {
  GeminiContent,
  GeminiToolChoice,
  compact,
  countField,
  functionCallPart,
  functionDeclaration,
  functionResponsePart,
  inlinePart,
  linkedFilePart,
  numberField,
  pushContent,
  toolConfig,
} from 'src/modules/relay/converters/shared/gemini-request';
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
  requireString,
  stopSequences,
  systemTexts,
  topK,
} from 'src/modules/relay/converters/shared/anthropic-request-reader';

/**
 * An Anthropic Messages request body → a Gemini `generateContent` request body (the model and
 * the stream choice are in the provider's URL), or for `count_tokens` a `countTokens` body
 * (`{generateContentRequest}`, so system prompt and tools are counted too).
 *
 * Everything a client sends is carried over, refused with a 400 in Anthropic's shape naming the
 * field, or accepted without effect (IGNORED_FIELDS and the list below, in docs/clients.md):
 * `metadata` (Gemini has no end-user field), `service_tier`, `context_management` (Gemini keeps
 * no server-side context to edit), `output_config.effort` (the thinking budget comes from
 * `thinking`), `cache_control` everywhere, the top-level one included (Gemini caches implicitly
 * and has no breakpoints), `citations` on text blocks, `strict` and `input_examples` on tools, a
 * top-level `$schema` in a tool's input schema (it only names the JSON Schema dialect), and
 * `redacted_thinking` blocks (Claude's encrypted thinking, which Gemini cannot read).
 *
 * Choices this module makes:
 * - `system` (string or text blocks) → `systemInstruction`; user / assistant turns → `user` /
 *   `model` contents.
 * - images and documents: base64 sources → `inlineData`, URL sources → `fileData` (an image's
 *   MIME type from the URL's extension, else a 400), plain-text documents → text parts.
 * - `tool_use` → `functionCall` parts (`input` as `args`); `tool_result` → `functionResponse`
 *   parts named after the function of the `tool_use` with that id (a result without one is
 *   refused): a JSON object result as it is, other text as `{content}`, `is_error` as `{error}`;
 *   images in a result follow it as parts of the same turn.
 * - thinking blocks carry Gemini's thought signatures (see response.ts): a block with text →
 *   a thought part (`thought: true`) with its signature; a block without text holds the
 *   signature of the part after it, and gives it back there (Gemini 3 checks the signatures of
 *   function calls).
 * - `tools` → one `functionDeclarations` tool (`input_schema` as `parametersJsonSchema`); only
 *   custom tools: server tools (web search, code execution, …) are refused.
 * - `tool_choice` auto / any / tool / none → mode AUTO / ANY / ANY with `allowedFunctionNames` /
 *   NONE; `disable_parallel_tool_use: true` is refused (Gemini has no such switch).
 * - `thinking` enabled → `thinkingConfig: {thinkingBudget: budget_tokens, includeThoughts: true}`
 *   (budget at least 1024 and below `max_tokens`, as Anthropic requires); adaptive → budget -1
 *   (Gemini's dynamic thinking); disabled → budget 0. `display: omitted` leaves the thoughts out.
 * - `max_tokens` → `maxOutputTokens`; `temperature`, `top_p`, `top_k`, `stop_sequences` → their
 *   generationConfig fields; `output_config.format` / `output_format` json_schema →
 *   `responseMimeType: application/json` + `responseJsonSchema`.
 */

/** Accepted and ignored: no effect a client could observe from Gemini (see the module comment). */
export const IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'metadata',
  'service_tier',
  'context_management',
  // Automatic prompt caching (a top-level breakpoint): Gemini caches implicitly.
  'cache_control',
]);

const KNOWN_FIELDS: ReadonlySet<string> = new Set([...MESSAGES_FIELDS, ...IGNORED_FIELDS]);

/** The id prefix of tool uses this converter returns (and so reads back). */
export const TOOL_ID_PREFIX = 'toolu_';

/** How refusals name the upstream. */
const WHERE = 'Gemini models';

/** Converts one Messages request; throws a RelayException (400) for what Gemini cannot do. */
export function toGeminiRequest(input: ConversionInput): Json {
  const body = input.body;
  checkKnownFields(body, KNOWN_FIELDS);
  const counting = input.operation === 'count_tokens';
  const out: Json = { contents: convertMessages(body.messages) };
  const system = systemTexts(body.system).flatMap(text);
  if (system.length > 0) out.systemInstruction = { parts: system };
  const declarations = customTools(body.tools, WHERE, ({ spec, name, path }) =>
    functionDeclaration(name, spec.description, spec.input_schema, path, fail),
  );
  if (declarations.length > 0) out.tools = [{ functionDeclarations: declarations }];
  const choice = toolChoice(body.tool_choice);
  if (choice !== undefined) {
    out.toolConfig = toolConfig(
      choice,
      declarations.map((d) => String(d.name)),
      fail,
    );
  }
  const config = generationConfig(body, counting);
  if (config !== undefined) out.generationConfig = config;
  if (counting)
    return { generateContentRequest: { model: `models/${input.upstreamModel}`, ...out } };
  return out;
}

// ---- generation config -----------------------------------------------------------------------

function generationConfig(body: Json, counting: boolean): Json | undefined {
  const maxTokens = countField(body.max_tokens, 'max_tokens', fail);
  if (maxTokens === undefined && !counting) fail('max_tokens', 'Field required');
  const k = topK(body.top_k);
  const format = outputSchema(body);
  return compact({
    maxOutputTokens: maxTokens,
    temperature: numberField(body.temperature, 'temperature', fail),
    topP: numberField(body.top_p, 'top_p', fail),
    topK: k,
    stopSequences: stopSequences(body.stop_sequences),
    responseMimeType: format === undefined ? undefined : 'application/json',
    responseJsonSchema: format,
    thinkingConfig: thinkingConfig(body.thinking, maxTokens),
  });
}

function thinkingConfig(value: unknown, maxTokens: number | undefined): Json | undefined {
  const thinking = readThinking(value, maxTokens, true);
  if (thinking === undefined) return undefined;
  switch (thinking.type) {
    case 'disabled':
      return { thinkingBudget: 0 };
    case 'adaptive':
      return { thinkingBudget: -1, includeThoughts: thinking.display !== 'omitted' };
    case 'enabled':
      return { thinkingBudget: thinking.budget, includeThoughts: thinking.display !== 'omitted' };
  }
}

// ---- tools -----------------------------------------------------------------------------------

function toolChoice(value: unknown): GeminiToolChoice | undefined {
  const choice = readToolChoice(value, 'Gemini models cannot be limited to one tool call per turn');
  switch (choice?.type) {
    case undefined:
      return undefined;
    case 'auto':
      return { mode: 'AUTO' };
    case 'any':
      return { mode: 'ANY' };
    case 'none':
      return { mode: 'NONE' };
    case 'tool':
      return { mode: 'ANY', only: choice.name, param: 'tool_choice.name' };
  }
}

// ---- system and messages ---------------------------------------------------------------------

function text(value: string): Json[] {
  return value.length > 0 ? [{ text: value }] : [];
}

function convertMessages(value: unknown): GeminiContent[] {
  const contents: GeminiContent[] = [];
  /** Function names by tool_use id, from the assistant turns read so far. */
  const calls = new Map<string, string>();
  messageList(value).forEach((message: unknown, i) => {
    const { role, blocks, path } = readMessage(message, i);
    switch (role) {
      case 'user':
        pushContent(contents, 'user', userParts(blocks, path, calls));
        break;
      case 'assistant':
        pushContent(contents, 'model', assistantParts(blocks, path, calls));
        break;
      default:
        fail(`messages.${i}.role`, `unsupported value ${quote(role)}; use user or assistant`);
    }
  });
  if (contents.length === 0) fail('messages', 'at least one message with content is required');
  return contents;
}

function userParts(blocks: Json[], path: string, calls: Map<string, string>): Json[] {
  return blocks.flatMap((block, j) => {
    const blockPath = `${path}.${j}`;
    switch (block.type) {
      case 'text':
        return text(requireString(block.text, `${blockPath}.text`));
      case 'image':
        return [imagePart(block, blockPath)];
      case 'document':
        return documentParts(block, blockPath);
      case 'tool_result':
        return toolResultParts(block, blockPath, calls);
      default:
        return fail(
          `${blockPath}.type`,
          `${quote(block.type)} blocks are not supported on ${WHERE}`,
        );
    }
  });
}

function imagePart(block: Json, path: string): Json {
  const source = readSource(
    block,
    path,
    ['base64', 'url'],
    'sources cannot be read from Gemini models; use base64 or url',
  );
  if (source.type === 'url') return linkedFilePart(source.url, `${path}.source.url`, fail);
  return inlinePart(source.mediaType, source.data, `${path}.source.data`, fail);
}

function documentParts(block: Json, path: string): Json[] {
  const source = readSource(
    block,
    path,
    ['base64', 'text', 'url'],
    'document sources cannot be read from Gemini models; use base64, text or url',
  );
  switch (source.type) {
    case 'base64':
      return [inlinePart(source.mediaType, source.data, `${path}.source.data`, fail)];
    case 'text':
      return text(source.data);
    case 'url':
      return [linkedFilePart(source.url, `${path}.source.url`, fail, 'application/pdf')];
  }
}

function toolResultParts(block: Json, path: string, calls: Map<string, string>): Json[] {
  const id = requireString(block.tool_use_id, `${path}.tool_use_id`);
  const name = calls.get(id);
  if (name === undefined) {
    fail(
      `${path}.tool_use_id`,
      `no earlier assistant turn has a tool_use with the id ${quote(id)}; Gemini needs the function's name for its result`,
    );
  }
  // Text blocks are the result; images follow it as parts of the same turn.
  const texts: string[] = [];
  const media: Json[] = [];
  readToolResultContent(block.content, `${path}.content`, WHERE, {
    text: (value) => texts.push(value),
    media: (inner, innerPath) => {
      if (inner.type === 'image') media.push(imagePart(inner, innerPath));
      else media.push(...documentParts(inner, innerPath));
    },
  });
  const result = texts.join('\n');
  return [
    functionResponsePart(name, id, TOOL_ID_PREFIX, result, block.is_error === true),
    ...media,
  ];
}

function assistantParts(blocks: Json[], path: string, calls: Map<string, string>): Json[] {
  const parts: Json[] = [];
  /** The signature of an empty thinking block: it belongs to the next part. */
  let pending: string | undefined;
  const add = (part: Json): void => {
    if (pending !== undefined) part.thoughtSignature = pending;
    pending = undefined;
    parts.push(part);
  };
  blocks.forEach((block, j) => {
    const blockPath = `${path}.${j}`;
    switch (block.type) {
      case 'text': {
        const value = requireString(block.text, `${blockPath}.text`);
        if (value.length > 0 || pending !== undefined) add({ text: value });
        break;
      }
      case 'thinking': {
        const thought = requireString(block.thinking, `${blockPath}.thinking`);
        const signature = given(block.signature)
          ? requireString(block.signature, `${blockPath}.signature`)
          : '';
        if (thought.length > 0) {
          const part: Json = { text: thought, thought: true };
          if (signature.length > 0) part.thoughtSignature = signature;
          parts.push(part);
        } else if (signature.length > 0) {
          pending = signature;
        }
        break;
      }
      case 'redacted_thinking':
        break;
      case 'tool_use': {
        const { id, name, input } = readToolUse(block, blockPath);
        calls.set(id, name);
        const part = functionCallPart(name, input, id, TOOL_ID_PREFIX, pending);
        pending = undefined;
        parts.push(part);
        break;
      }
      default:
        fail(`${blockPath}.type`, `${quote(block.type)} blocks are not supported on ${WHERE}`);
    }
  });
  // A signature Gemini sent on an empty last part goes back the same way.
  if (pending !== undefined) parts.push({ text: '', thoughtSignature: pending });
  return parts;
}

import type { ConversionInput } from 'src/modules/relay/converters/converter';
import {
  GeminiContent,
  GeminiToolChoice,
  Refuse,
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
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';

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

type Json = Record<string, unknown>;

/** Anthropic's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

/** Accepted and ignored: no effect a client could observe from Gemini (see the module comment). */
export const IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'metadata',
  'service_tier',
  'context_management',
  // Automatic prompt caching (a top-level breakpoint): Gemini caches implicitly.
  'cache_control',
]);

const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
  'output_format',
  ...IGNORED_FIELDS,
]);

/** The id prefix of tool uses this converter returns (and so reads back). */
export const TOOL_ID_PREFIX = 'toolu_';

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** A 400 in Anthropic's shape; the message leads with the field, as Anthropic's own do. */
export const fail: Refuse = (param, reason) => {
  throw new RelayException(RelayExceptionCode.INVALID_REQUEST, `${param}: ${reason}`, null, param);
};

function requireString(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'Input should be a valid string');
  return value;
}

function requireObject(value: unknown, path: string): Json {
  if (!isObject(value)) fail(path, 'Input should be a valid object');
  return value;
}

/** Converts one Messages request; throws a RelayException (400) for what Gemini cannot do. */
export function toGeminiRequest(input: ConversionInput): Json {
  const body = input.body;
  for (const key of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(key)) fail(key, 'Extra inputs are not permitted');
  }
  const counting = input.operation === 'count_tokens';
  const out: Json = { contents: convertMessages(body.messages) };
  const system = systemParts(body.system);
  if (system.length > 0) out.systemInstruction = { parts: system };
  const declarations = convertTools(body.tools);
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
  const topK = body.top_k;
  if (given(topK) && (typeof topK !== 'number' || !Number.isSafeInteger(topK) || topK < 0)) {
    fail('top_k', 'Input should be a non-negative integer');
  }
  const format = outputFormat(body);
  return compact({
    maxOutputTokens: maxTokens,
    temperature: numberField(body.temperature, 'temperature', fail),
    topP: numberField(body.top_p, 'top_p', fail),
    topK: given(topK) ? topK : undefined,
    stopSequences: stopSequences(body.stop_sequences),
    responseMimeType: format === undefined ? undefined : 'application/json',
    responseJsonSchema: format,
    thinkingConfig: thinkingConfig(body.thinking, maxTokens),
  });
}

function stopSequences(value: unknown): string[] | undefined {
  if (!given(value)) return undefined;
  if (!Array.isArray(value)) fail('stop_sequences', 'Input should be a valid list');
  const list = value.map((item, i) => requireString(item, `stop_sequences.${i}`));
  return list.length > 0 ? list : undefined;
}

function thinkingConfig(value: unknown, maxTokens: number | undefined): Json | undefined {
  if (!given(value)) return undefined;
  const thinking = requireObject(value, 'thinking');
  const display = thinking.display;
  if (given(display) && display !== 'summarized' && display !== 'omitted') {
    fail('thinking.display', `unsupported value ${quote(display)}; use summarized or omitted`);
  }
  const includeThoughts = display !== 'omitted';
  switch (thinking.type) {
    case 'disabled':
      return { thinkingBudget: 0 };
    case 'adaptive':
      return { thinkingBudget: -1, includeThoughts };
    case 'enabled': {
      const budget = thinking.budget_tokens;
      if (
        typeof budget !== 'number' ||
        !Number.isSafeInteger(budget) ||
        budget < MIN_THINKING_BUDGET
      ) {
        fail(
          'thinking.budget_tokens',
          `Input should be an integer of at least ${MIN_THINKING_BUDGET}`,
        );
      }
      if (maxTokens !== undefined && budget >= maxTokens) {
        fail('thinking.budget_tokens', `must be less than max_tokens (${maxTokens})`);
      }
      return { thinkingBudget: budget, includeThoughts };
    }
    default:
      return fail(
        'thinking.type',
        `unsupported value ${quote(thinking.type)}; use enabled, adaptive or disabled`,
      );
  }
}

/** The answer's JSON Schema from `output_config.format` (or the older `output_format`). */
function outputFormat(body: Json): Json | undefined {
  let format: unknown = body.output_format;
  let path = 'output_format';
  if (given(body.output_config)) {
    const config = requireObject(body.output_config, 'output_config');
    for (const key of Object.keys(config)) {
      if (key !== 'format' && key !== 'effort') {
        fail(`output_config.${key}`, 'Extra inputs are not permitted');
      }
    }
    if (given(config.format)) {
      if (given(format))
        fail('output_format', 'set output_config.format or output_format, not both');
      format = config.format;
      path = 'output_config.format';
    }
  }
  if (!given(format)) return undefined;
  const spec = requireObject(format, path);
  if (spec.type !== 'json_schema') {
    fail(`${path}.type`, `unsupported value ${quote(spec.type)}; use json_schema`);
  }
  return requireObject(spec.schema, `${path}.schema`);
}

// ---- tools -----------------------------------------------------------------------------------

function convertTools(value: unknown): Json[] {
  if (!given(value)) return [];
  if (!Array.isArray(value)) fail('tools', 'Input should be a valid list');
  return value.map((tool: unknown, i) => {
    const path = `tools.${i}`;
    const spec = requireObject(tool, path);
    if (given(spec.type) && spec.type !== 'custom') {
      fail(
        `${path}.type`,
        `${quote(spec.type)} tools run on Anthropic's servers and are not available on Gemini models; only custom tools are`,
      );
    }
    const name = requireString(spec.name, `${path}.name`);
    return functionDeclaration(name, spec.description, spec.input_schema, path, fail);
  });
}

function toolChoice(value: unknown): GeminiToolChoice | undefined {
  if (!given(value)) return undefined;
  const choice = requireObject(value, 'tool_choice');
  if (choice.disable_parallel_tool_use === true) {
    fail(
      'tool_choice.disable_parallel_tool_use',
      'Gemini models cannot be limited to one tool call per turn',
    );
  }
  switch (choice.type) {
    case 'auto':
      return { mode: 'AUTO' };
    case 'any':
      return { mode: 'ANY' };
    case 'none':
      return { mode: 'NONE' };
    case 'tool':
      return {
        mode: 'ANY',
        only: requireString(choice.name, 'tool_choice.name'),
        param: 'tool_choice.name',
      };
    default:
      return fail(
        'tool_choice.type',
        `unsupported value ${quote(choice.type)}; use auto, any, tool or none`,
      );
  }
}

// ---- system and messages ---------------------------------------------------------------------

function text(value: string): Json[] {
  return value.length > 0 ? [{ text: value }] : [];
}

function systemParts(value: unknown): Json[] {
  if (!given(value)) return [];
  if (typeof value === 'string') return text(value);
  if (!Array.isArray(value))
    fail('system', 'Input should be a valid string or list of text blocks');
  return value.flatMap((block: unknown, i) => {
    const spec = requireObject(block, `system.${i}`);
    if (spec.type !== 'text') fail(`system.${i}.type`, "system blocks must be 'text' blocks");
    return text(requireString(spec.text, `system.${i}.text`));
  });
}

function convertMessages(value: unknown): GeminiContent[] {
  if (!Array.isArray(value)) fail('messages', 'Input should be a valid list');
  const contents: GeminiContent[] = [];
  /** Function names by tool_use id, from the assistant turns read so far. */
  const calls = new Map<string, string>();
  value.forEach((message: unknown, i) => {
    const path = `messages.${i}`;
    const spec = requireObject(message, path);
    const blocks = contentBlocks(spec.content, `${path}.content`);
    switch (spec.role) {
      case 'user':
        pushContent(contents, 'user', userParts(blocks, `${path}.content`, calls));
        break;
      case 'assistant':
        pushContent(contents, 'model', assistantParts(blocks, `${path}.content`, calls));
        break;
      default:
        fail(`${path}.role`, `unsupported value ${quote(spec.role)}; use user or assistant`);
    }
  });
  if (contents.length === 0) fail('messages', 'at least one message with content is required');
  return contents;
}

/** A message's content as blocks (a string is one text block). */
function contentBlocks(content: unknown, path: string): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) fail(path, 'Input should be a valid string or list of blocks');
  return content.map((block: unknown, j) => requireObject(block, `${path}.${j}`));
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
          `${quote(block.type)} blocks are not supported on Gemini models`,
        );
    }
  });
}

function imagePart(block: Json, path: string): Json {
  const source = requireObject(block.source, `${path}.source`);
  switch (source.type) {
    case 'base64':
      return inlinePart(
        requireString(source.media_type, `${path}.source.media_type`),
        requireString(source.data, `${path}.source.data`),
        `${path}.source.data`,
        fail,
      );
    case 'url':
      return linkedFilePart(
        requireString(source.url, `${path}.source.url`),
        `${path}.source.url`,
        fail,
      );
    default:
      return fail(
        `${path}.source.type`,
        `${quote(source.type)} sources cannot be read from Gemini models; use base64 or url`,
      );
  }
}

function documentParts(block: Json, path: string): Json[] {
  const source = requireObject(block.source, `${path}.source`);
  switch (source.type) {
    case 'base64':
      return [
        inlinePart(
          requireString(source.media_type, `${path}.source.media_type`),
          requireString(source.data, `${path}.source.data`),
          `${path}.source.data`,
          fail,
        ),
      ];
    case 'text':
      return text(requireString(source.data, `${path}.source.data`));
    case 'url':
      return [
        linkedFilePart(
          requireString(source.url, `${path}.source.url`),
          `${path}.source.url`,
          fail,
          'application/pdf',
        ),
      ];
    default:
      return fail(
        `${path}.source.type`,
        `${quote(source.type)} document sources cannot be read from Gemini models; use base64, text or url`,
      );
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
  const isError = block.is_error === true;
  const content = block.content;
  if (!given(content) || typeof content === 'string') {
    return [
      functionResponsePart(
        name,
        id,
        TOOL_ID_PREFIX,
        typeof content === 'string' ? content : '',
        isError,
      ),
    ];
  }
  // Text blocks are the result; images follow it as parts of the same turn.
  const texts: string[] = [];
  const media: Json[] = [];
  contentBlocks(content, `${path}.content`).forEach((inner, k) => {
    const innerPath = `${path}.content.${k}`;
    if (inner.type === 'text') texts.push(requireString(inner.text, `${innerPath}.text`));
    else if (inner.type === 'image') media.push(imagePart(inner, innerPath));
    else if (inner.type === 'document') media.push(...documentParts(inner, innerPath));
    else
      fail(
        `${innerPath}.type`,
        `${quote(inner.type)} blocks are not supported in tool results on Gemini models`,
      );
  });
  return [functionResponsePart(name, id, TOOL_ID_PREFIX, texts.join('\n'), isError), ...media];
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
        const id = requireString(block.id, `${blockPath}.id`);
        const name = requireString(block.name, `${blockPath}.name`);
        const input = given(block.input) ? requireObject(block.input, `${blockPath}.input`) : {};
        calls.set(id, name);
        const part = functionCallPart(name, input, id, TOOL_ID_PREFIX, pending);
        pending = undefined;
        parts.push(part);
        break;
      }
      default:
        fail(`${blockPath}.type`, `${quote(block.type)} blocks are not supported on Gemini models`);
    }
  });
  // A signature Gemini sent on an empty last part goes back the same way.
  if (pending !== undefined) parts.push({ text: '', thoughtSignature: pending });
  return parts;
}

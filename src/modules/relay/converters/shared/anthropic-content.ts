import { Json, fail, given, isObject, quote, requireString } from './openai-params';

/**
 * Anthropic Messages content built from OpenAI request parts, shared by the Chat Completions and
 * Responses converters: turns, text, images, documents, cache breakpoints, tool calls and their
 * results, and signed thinking blocks given back.
 */

export interface Turn {
  role: 'user' | 'assistant';
  content: Json[];
}

/** Appends blocks as a turn, merging into the previous turn of the same role. */
export function pushTurn(turns: Turn[], role: Turn['role'], blocks: Json[]): void {
  if (blocks.length === 0) return;
  const last = turns.at(-1);
  if (last === undefined || last.role !== role) {
    turns.push({ role, content: blocks });
    return;
  }
  last.content.push(...blocks);
  if (role === 'user') {
    // Anthropic wants a user turn's tool results before anything else in it.
    const results = last.content.filter((block) => block.type === 'tool_result');
    if (results.length > 0) {
      last.content = [...results, ...last.content.filter((block) => block.type !== 'tool_result')];
    }
  }
}

export function textBlock(text: string, cache?: Json): Json[] {
  // Anthropic refuses empty text blocks; an empty string carries nothing to keep.
  if (text.length === 0) return [];
  const block: Json = { type: 'text', text };
  if (cache !== undefined) block.cache_control = cache;
  return [block];
}

/** `prompt_cache_breakpoint` → Anthropic `cache_control` (1h honours OpenAI's 30m minimum). */
export function cacheControl(part: Json, path: string): Json | undefined {
  const breakpoint = part.prompt_cache_breakpoint;
  if (!given(breakpoint)) return undefined;
  if (!isObject(breakpoint))
    fail(`${path}.prompt_cache_breakpoint`, 'must be an object', 'invalid_type');
  const ttl = breakpoint.ttl;
  if (given(ttl) && ttl !== '30m') {
    fail(
      `${path}.prompt_cache_breakpoint.ttl`,
      `Claude caches for at most 1h; ${quote(ttl)} cannot be honoured`,
      'unsupported_value',
    );
  }
  return { type: 'ephemeral', ttl: '1h' };
}

/** Adds `cache_control` for the part's breakpoint, if it has one. */
export function withCache(block: Json, part: Json, path: string): Json {
  const cache = cacheControl(part, path);
  if (cache !== undefined) block.cache_control = cache;
  return block;
}

const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
]);

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

interface DataUrl {
  mediaType: string;
  data: string;
}

/** `data:<media type>[;params];base64,<data>`; null when `url` is not a data URL at all. */
function parseDataUrl(url: string, path: string): DataUrl | null {
  if (!url.startsWith('data:')) return null;
  const comma = url.indexOf(',');
  if (comma === -1) fail(path, 'malformed data URL (no comma)', 'invalid_value');
  const meta = url.slice(5, comma).split(';');
  if (!meta.slice(1).some((param) => param.trim().toLowerCase() === 'base64')) {
    fail(path, 'data URLs must be base64-encoded (data:<type>;base64,<data>)', 'invalid_value');
  }
  const data = url.slice(comma + 1);
  if (data.length === 0 || !BASE64.test(data))
    fail(path, 'the data URL does not hold valid base64', 'invalid_value');
  return { mediaType: meta[0].trim().toLowerCase(), data };
}

/** An `image` block for a base64 data URL or an http(s) URL (`path` names the URL's field). */
export function imageBlock(url: string, path: string): Json {
  const dataUrl = parseDataUrl(url, path);
  if (dataUrl !== null) {
    const mediaType = dataUrl.mediaType === 'image/jpg' ? 'image/jpeg' : dataUrl.mediaType;
    if (!IMAGE_MEDIA_TYPES.has(mediaType)) {
      fail(
        path,
        `image type ${quote(dataUrl.mediaType)} is not supported; use JPEG, PNG, GIF or WebP`,
        'invalid_value',
      );
    }
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data: dataUrl.data } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  return fail(path, 'must be an http(s) URL or a base64 data URL', 'invalid_value');
}

/**
 * A `document` block for inline file data: a PDF or plain text, as a base64 data URL (bare base64
 * is accepted when it is a PDF). `path` names the data's field.
 */
export function documentBlock(raw: string, path: string): Json {
  const dataUrl =
    parseDataUrl(raw, path) ??
    (raw.startsWith('JVBERi0') && BASE64.test(raw)
      ? { mediaType: 'application/pdf', data: raw }
      : null);
  if (dataUrl === null)
    fail(path, 'must be a base64 data URL (data:application/pdf;base64,…)', 'invalid_value');
  if (dataUrl.mediaType === 'application/pdf') {
    return {
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: dataUrl.data },
    };
  }
  if (dataUrl.mediaType === 'text/plain') {
    return {
      type: 'document',
      source: {
        type: 'text',
        media_type: 'text/plain',
        data: Buffer.from(dataUrl.data, 'base64').toString('utf8'),
      },
    };
  }
  return fail(
    path,
    `file type ${quote(dataUrl.mediaType)} is not supported; Claude models read PDF and plain-text files`,
    'invalid_value',
  );
}

/** Anthropic tool_use ids allow only these characters. */
const TOOL_ID_INVALID = /[^A-Za-z0-9_-]/g;

/** A tool call id as Anthropic accepts it (OpenAI ids may hold other characters). */
export function toolId(id: string): string {
  return id.replace(TOOL_ID_INVALID, '_');
}

/** A call's JSON `arguments` as the tool_use input object ('' means no arguments). */
export function toolInput(args: string, path: string): Json {
  let input: unknown = {};
  // Some clients send '' for a call without arguments.
  if (args.trim().length > 0) {
    try {
      input = JSON.parse(args);
    } catch {
      fail(path, 'is not valid JSON', 'invalid_value');
    }
  }
  if (!isObject(input)) fail(path, 'must be a JSON object', 'invalid_value');
  return input;
}

/** A `tool_result` block answering the call `id`; empty content is left out. */
export function toolResult(id: string, idPath: string, content: string | Json[]): Json {
  if (id.length === 0) fail(idPath, 'must not be empty', 'invalid_value');
  const block: Json = { type: 'tool_result', tool_use_id: toolId(id) };
  if (content.length > 0) block.content = content;
  return block;
}

/**
 * A thinking block Claude produced, given back: `thinking` with its signature (Anthropic checks
 * it), or `redacted_thinking` with its data.
 */
export function signedThinkingBlock(block: unknown, path: string): Json {
  if (!isObject(block)) fail(path, 'must be an object', 'invalid_type');
  if (block.type === 'thinking') {
    const signature = block.signature;
    if (typeof signature !== 'string' || signature.length === 0) {
      fail(
        `${path}.signature`,
        'required: pass thinking blocks back exactly as received',
        'invalid_value',
      );
    }
    return {
      type: 'thinking',
      thinking: requireString(block.thinking, `${path}.thinking`),
      signature,
    };
  }
  if (block.type === 'redacted_thinking') {
    return { type: 'redacted_thinking', data: requireString(block.data, `${path}.data`) };
  }
  return fail(
    `${path}.type`,
    `must be 'thinking' or 'redacted_thinking' (got ${quote(block.type)})`,
    'invalid_value',
  );
}

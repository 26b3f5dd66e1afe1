import type { Request } from 'express';
import type { ErrorKind } from 'src/modules/relay/relay.exception';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import type {
  InboundDialect,
  ParsedRequest,
  RelayErrorView,
  RenderedError,
  StreamBreak,
} from 'src/modules/relay/relay.types';
import { bearerToken, parseJsonObject } from 'src/modules/relay/dialects/dialect-helpers';
import { MAX_MODEL_NAME_LENGTH } from 'src/modules/usage/pricing.service';
import { googleStreamError, renderGoogleError } from 'src/modules/relay/dialects/google-error';

/** Output tokens assumed for admission when the request sets no `maxOutputTokens`. */
export const GEMINI_DEFAULT_MAX_TOKENS = 8192;

/** The methods of `models/{model}:{method}` Switchyard relays. */
export const GEMINI_METHODS = ['generateContent', 'streamGenerateContent', 'countTokens'] as const;
export type GeminiMethod = (typeof GEMINI_METHODS)[number];

function invalid(message: string, param?: string): RelayException {
  return new RelayException(RelayExceptionCode.INVALID_REQUEST, message, null, param ?? null);
}

/**
 * The model and method of a Gemini URL, `…/models/{model}:{method}` (query ignored; the model
 * percent-decoded). Null when the last path segment is not of that form.
 */
export function geminiTarget(url: string): { model: string; method: string } | null {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const slash = path.lastIndexOf('/');
  const colon = path.lastIndexOf(':');
  if (colon <= slash + 1 || colon === path.length - 1) return null;
  let model: string;
  try {
    model = decodeURIComponent(path.slice(slash + 1, colon));
  } catch {
    return null;
  }
  return { model, method: path.slice(colon + 1) };
}

/** A positive integer, or undefined; anything else is the client's mistake. */
function maxOutputTokens(body: Record<string, unknown>): number | undefined {
  const config = body.generationConfig;
  if (config === undefined || config === null) return undefined;
  if (typeof config !== 'object' || Array.isArray(config))
    throw invalid('generationConfig: must be an object', 'generationConfig');
  const value = (config as Record<string, unknown>).maxOutputTokens;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw invalid(
      'generationConfig.maxOutputTokens: must be a positive integer',
      'generationConfig.maxOutputTokens',
    );
  return value;
}

/**
 * Gemini API clients (`@google/genai`, Gemini CLI with an API key, anything speaking
 * `generativelanguage.googleapis.com`): the model and the method are in the path
 * (`models/{model}:streamGenerateContent`), the key in `x-goog-api-key`, `?key=` or a bearer
 * token, and the stream format in the query (`alt=sse` for server-sent events, else a streamed
 * JSON array). Errors in Google's shape.
 */
export class GeminiDialect implements InboundDialect {
  readonly name = 'gemini';
  readonly format = 'gemini' as const;
  readonly defaultPlatform = 'gemini' as const;

  extractKey(req: Request): string | null {
    const header = req.headers['x-goog-api-key'];
    if (typeof header === 'string' && header.length > 0) return header;
    const fromQuery = queryKey(req.url);
    if (fromQuery !== null) return fromQuery;
    return bearerToken(req.headers);
  }

  parse(raw: Buffer, req: Request): ParsedRequest {
    const target = geminiTarget(req.url);
    if (target === null || !(GEMINI_METHODS as readonly string[]).includes(target.method))
      throw new RelayException(
        RelayExceptionCode.INVALID_REQUEST,
        'the path must be models/{model}:generateContent, :streamGenerateContent or :countTokens',
      );
    const { model, method } = target;
    if (model.length > MAX_MODEL_NAME_LENGTH)
      throw invalid(`model: longer than ${MAX_MODEL_NAME_LENGTH} characters`, 'model');
    const body = parseJsonObject(raw, 'Invalid JSON payload received.');
    if (method === 'countTokens') {
      if (body.contents === undefined && body.generateContentRequest === undefined)
        throw invalid('either contents or generateContentRequest must be set', 'contents');
    } else if (!Array.isArray(body.contents) || body.contents.length === 0) {
      throw invalid('contents is not specified', 'contents');
    }
    const stream = method === 'streamGenerateContent';
    return {
      model,
      stream,
      maxTokens: maxOutputTokens(body) ?? GEMINI_DEFAULT_MAX_TOKENS,
      body,
      modelInPath: true,
      // A converted stream is framed as the client asked: events with alt=sse, else the array.
      ...(stream ? { streamFraming: asksForSse(req.url) ? 'sse' : 'json-array' } : {}),
    };
  }

  /**
   * The client's query, minus its Switchyard key: it alone says how the answer streams (`alt=sse`
   * or Google's JSON array), so the provider's default `alt=sse` is not added to it.
   */
  passthroughQuery(clientQuery: string, _providerQuery: string): string {
    if (clientQuery === '') return '';
    return clientQuery
      .split('&')
      .filter((pair) => pair !== '' && queryName(pair) !== 'key')
      .join('&');
  }

  renderError(error: RelayErrorView): RenderedError {
    return renderGoogleError(error);
  }

  streamErrorEvent(kind: ErrorKind, message: string, at?: StreamBreak): Buffer {
    return googleStreamError(kind, message, at);
  }
}

function queryName(pair: string): string {
  const eq = pair.indexOf('=');
  const name = eq === -1 ? pair : pair.slice(0, eq);
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** Whether a Gemini URL asks for server-sent events (`alt=sse`, or its `$alt` spelling). */
export function asksForSse(url: string): boolean {
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return false;
  const query = new URLSearchParams(url.slice(queryAt + 1));
  return (query.get('alt') ?? query.get('$alt')) === 'sse';
}

/** `?key=…` of a URL, or null. */
function queryKey(url: string): string | null {
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return null;
  const value = new URLSearchParams(url.slice(queryAt + 1)).get('key');
  return value !== null && value.length > 0 ? value : null;
}

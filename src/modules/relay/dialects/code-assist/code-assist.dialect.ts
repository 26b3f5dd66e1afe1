import type { Request } from 'express';
import type { Platform } from 'src/common/platform';
import {
  bearerToken,
  parseJsonObject,
  requireModel,
} from 'src/modules/relay/dialects/dialect-helpers';
import {
  RelayException,
  RelayExceptionCode,
  type ErrorKind,
} from 'src/modules/relay/relay.exception';
import type {
  InboundDialect,
  ParsedRequest,
  RelayErrorView,
  RenderedError,
} from 'src/modules/relay/relay.types';
import { googleStreamError, renderGoogleError } from 'src/modules/relay/dialects/google-error';

/** Output tokens assumed for admission when the request names no maxOutputTokens. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 8192;

/** Which Code Assist method a route serves: the stream flag comes from the method, not the body. */
export type CodeAssistMethodKind = 'generate' | 'stream' | 'count';

function invalid(message: string, param?: string): RelayException {
  return new RelayException(RelayExceptionCode.INVALID_REQUEST, message, null, param);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `?key=` of a request URL (Google APIs accept the key there too). */
function queryKey(url: string | undefined): string | null {
  if (url === undefined) return null;
  const at = url.indexOf('?');
  if (at === -1) return null;
  const key = new URLSearchParams(url.slice(at + 1)).get('key');
  return key === null || key === '' ? null : key;
}

/**
 * Gemini CLI in its Google-login mode: Code Assist's `POST /v1internal:{method}` requests
 * (`CODE_ASSIST_ENDPOINT` pointed at `<switchyard>/gemini`). The Switchyard key arrives where
 * the CLI puts its OAuth access token (`Authorization: Bearer`); `x-goog-api-key` and `?key=`
 * work too. Bodies are Code Assist's envelope: `{model, project, user_prompt_id, request}` for
 * generate and stream (which one is the route's method), `{request: {model: "models/…",
 * contents}}` for countTokens. Errors are Google's `{"error":{"code","message","status"}}`.
 */
export class CodeAssistDialect implements InboundDialect {
  readonly name = 'code-assist';
  readonly format = 'code-assist' as const;
  readonly defaultPlatform: Platform | null = 'gemini';

  constructor(private readonly method: CodeAssistMethodKind) {}

  extractKey(req: Request): string | null {
    const token = bearerToken(req.headers);
    if (token !== null) return token;
    const apiKey = req.headers['x-goog-api-key'];
    if (typeof apiKey === 'string' && apiKey.length > 0) return apiKey;
    return queryKey(req.url);
  }

  parse(raw: Buffer): ParsedRequest {
    const body = parseJsonObject(raw, 'Invalid JSON payload received.');
    const request = body.request;
    if (!isObject(request)) throw invalid('request: must be an object', 'request');
    if (this.method === 'count') {
      const named = request.model;
      if (typeof named !== 'string' || named === '')
        throw invalid('request.model is required', 'model');
      const model = requireModel(
        { model: named.startsWith('models/') ? named.slice('models/'.length) : named },
        'request.model is required',
      );
      return { model, stream: false, maxTokens: 1, body };
    }
    const model = requireModel(body, 'model is required');
    if (!Array.isArray(request.contents))
      throw invalid('request.contents: must be an array', 'contents');
    const config = isObject(request.generationConfig) ? request.generationConfig : {};
    const max = config.maxOutputTokens;
    const maxTokens =
      typeof max === 'number' && Number.isInteger(max) && max > 0 ? max : DEFAULT_MAX_OUTPUT_TOKENS;
    return { model, stream: this.method === 'stream', maxTokens, body };
  }

  renderError(error: RelayErrorView): RenderedError {
    return renderGoogleError(error);
  }

  /** An SSE data event carrying a Google error, which Gemini CLI's stream reader surfaces. */
  streamErrorEvent(kind: ErrorKind, message: string): Buffer {
    return googleStreamError(kind, message);
  }
}

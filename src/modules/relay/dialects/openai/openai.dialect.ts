import type { Request } from 'express';
import type { Platform } from 'src/common/platform';
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
import type { WireFormat } from 'src/modules/relay/wire-format';
import { bearerToken, jsonError } from 'src/modules/relay/dialects/dialect-helpers';
import { openAIErrorBody } from './openai-error';

/** Output tokens assumed for admission when the client sets no limit. */
export const DEFAULT_MAX_TOKENS = 4096;

/** OpenAI's `code` for the kinds its SDKs and apps look for; Switchyard's own code otherwise. */
const CODES: Partial<Record<ErrorKind, string>> = {
  auth: 'invalid_api_key',
  rate_limited: 'rate_limit_exceeded',
  budget: 'insufficient_quota',
  not_found: 'model_not_found',
};

export function invalidParam(message: string, param: string): RelayException {
  return new RelayException(RelayExceptionCode.INVALID_REQUEST, message, null, param);
}

export function positiveInteger(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw invalidParam(`${param}: must be a positive integer`, param);
  return value;
}

export function optionalBoolean(value: unknown, param: string): boolean {
  if (value !== undefined && value !== null && typeof value !== 'boolean')
    throw invalidParam(`${param}: must be a boolean`, param);
  return value === true;
}

/**
 * What OpenAI's APIs share, whichever endpoint a client calls: the key as `Authorization: Bearer`
 * (or `x-api-key`), and errors as `{"error":{"message","type","param","code"}}` with an
 * overloaded upstream as 503 (which the SDKs retry) and a spent budget as 429
 * `insufficient_quota`.
 */
export abstract class OpenAIDialect implements InboundDialect {
  abstract readonly name: string;
  abstract readonly format: WireFormat;
  readonly defaultPlatform: Platform | null = null;

  abstract parse(raw: Buffer): ParsedRequest;
  abstract streamErrorEvent(kind: ErrorKind, message: string): Buffer;

  extractKey(req: Request): string | null {
    const token = bearerToken(req.headers);
    if (token !== null) return token;
    const apiKey = req.headers['x-api-key'];
    return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : null;
  }

  renderError(error: RelayErrorView): RenderedError {
    // OpenAI has no 529 and answers a spent quota with 429 insufficient_quota.
    const status = error.kind === 'overloaded' ? 503 : error.kind === 'budget' ? 429 : error.status;
    const code = error.reason ?? CODES[error.kind] ?? error.code.toLowerCase();
    const body = openAIErrorBody(status, error.message, code, error.param ?? null);
    return jsonError(status, body, error.headers);
  }
}

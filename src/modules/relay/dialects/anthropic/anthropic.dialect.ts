import type { Request } from 'express';
import { anthropicErrorEvent } from 'src/modules/relay/providers/anthropic/anthropic-usage.tap';
import type { ErrorKind } from 'src/modules/relay/relay.exception';
import type {
  InboundDialect,
  ParsedRequest,
  RelayErrorView,
  RenderedError,
} from 'src/modules/relay/relay.types';
import {
  bearerToken,
  jsonError,
  parseJsonObject,
  requireModel,
} from 'src/modules/relay/dialects/dialect-helpers';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export function anthropicErrorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** Anthropic's status for a kind: the generic one, but 529 for an overloaded upstream. */
function anthropicStatus(view: RelayErrorView): number {
  return view.kind === 'overloaded' ? 529 : view.status;
}

const STREAM_ERROR_TYPES: Partial<Record<ErrorKind, string>> = {
  overloaded: 'overloaded_error',
  rate_limited: 'rate_limit_error',
  timeout: 'timeout_error',
};

/** Anthropic Messages clients: Claude Code, @anthropic-ai/sdk, anything speaking /v1/messages. */
export class AnthropicDialect implements InboundDialect {
  readonly name = 'anthropic';
  readonly format = 'anthropic-messages' as const;
  readonly defaultPlatform = 'claude' as const;

  extractKey(req: Request): string | null {
    const apiKey = req.headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey.length > 0) return apiKey;
    return bearerToken(req.headers);
  }

  parse(raw: Buffer): ParsedRequest {
    const record = parseJsonObject(raw, 'request body is not valid JSON');
    const model = requireModel(record, 'model: field required');
    const maxTokens =
      typeof record.max_tokens === 'number' && record.max_tokens > 0 ? record.max_tokens : 4096;
    return { model, stream: record.stream === true, maxTokens, body: record };
  }

  renderError(error: RelayErrorView): RenderedError {
    const status = anthropicStatus(error);
    const body = Buffer.from(
      JSON.stringify({
        type: 'error',
        error: { type: anthropicErrorType(status), message: error.message },
      }),
    );
    return jsonError(status, body, error.headers);
  }

  streamErrorEvent(kind: ErrorKind, message: string): Buffer {
    return anthropicErrorEvent(STREAM_ERROR_TYPES[kind] ?? 'api_error', message);
  }
}

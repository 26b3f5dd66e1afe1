import type { Request, Response } from 'express';
import { anthropicErrorEvent } from 'src/modules/relay/sse/anthropic-usage.tap';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import { MAX_MODEL_NAME_LENGTH } from 'src/modules/usage/pricing.service';
import type { InboundDialect, ParsedRequest, RelayErrorView } from 'src/modules/relay/relay.types';

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

/** Anthropic Messages clients: Claude Code, @anthropic-ai/sdk, anything speaking /v1/messages. */
export class AnthropicDialect implements InboundDialect {
  readonly name = 'anthropic';
  readonly platform = 'claude' as const;

  extractKey(req: Request): string | null {
    const apiKey = req.headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey.length > 0) return apiKey;
    const auth = req.headers.authorization;
    if (typeof auth === 'string' && auth.toLowerCase().startsWith('bearer ')) {
      const token = auth.slice(7).trim();
      return token.length > 0 ? token : null;
    }
    return null;
  }

  parse(raw: Buffer): ParsedRequest {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new RelayException(
        RelayExceptionCode.INVALID_REQUEST,
        'request body is not valid JSON',
      );
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new RelayException(
        RelayExceptionCode.INVALID_REQUEST,
        'request body must be a JSON object',
      );
    }
    const record = body as Record<string, unknown>;
    if (record.model === undefined || record.model === null || record.model === '') {
      throw new RelayException(RelayExceptionCode.INVALID_REQUEST, 'model: field required');
    }
    if (typeof record.model !== 'string') {
      throw new RelayException(RelayExceptionCode.INVALID_REQUEST, 'model: must be a string');
    }
    if (record.model.length > MAX_MODEL_NAME_LENGTH) {
      // Model names are matched against prices, mappings and patterns on every request.
      throw new RelayException(
        RelayExceptionCode.INVALID_REQUEST,
        `model: longer than ${MAX_MODEL_NAME_LENGTH} characters`,
      );
    }
    const maxTokens =
      typeof record.max_tokens === 'number' && record.max_tokens > 0 ? record.max_tokens : 4096;
    return { model: record.model, stream: record.stream === true, maxTokens, body: record };
  }

  writeError(res: Response, error: RelayErrorView): void {
    const body = JSON.stringify({
      type: 'error',
      error: { type: anthropicErrorType(error.status), message: error.message },
    });
    res.writeHead(error.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...error.headers,
    });
    res.end(body);
  }

  streamErrorEvent(type: string, message: string): Buffer {
    return anthropicErrorEvent(type, message);
  }
}

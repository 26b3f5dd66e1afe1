import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import { descriptorOf } from 'src/modules/accounts/types/account-types.registry';
import { geminiApiCredentialHeaders } from 'src/modules/accounts/types/gemini-api';
import { requestHeaderAllowlist } from 'src/modules/relay/headers';
import type {
  ProviderAdapter,
  ProviderEndpoint,
  ProviderRequestInput,
  UsageTap,
} from 'src/modules/relay/relay.types';
import type { RelayOperation, WireFormat } from 'src/modules/relay/wire-format';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { jsonPost } from '../shared/upstream-request';
import { GeminiUsageTap, geminiUsageFromBody } from './gemini-usage.tap';

/**
 * The client request headers the Gemini API reads, as `@google/genai` and Gemini CLI send them:
 * content negotiation, the client's identity (`user-agent`, `x-goog-api-client`) and the
 * server-side timeout. Never the client's key (`x-goog-api-key`, `authorization`).
 */
export const GEMINI_REQUEST_HEADERS = requestHeaderAllowlist([
  'content-type',
  'accept',
  'user-agent',
  'x-goog-api-client',
  'x-server-timeout',
]);

/** The API version the provider calls; v1beta serves everything v1 does. */
const API_VERSION = 'v1beta';

/** `models/{model}:{method}` for an operation; a model given as `models/x` is taken as `x`. */
export function geminiPath(operation: RelayOperation, model: string, stream: boolean): string {
  const name = model.startsWith('models/') ? model.slice('models/'.length) : model;
  const method =
    operation === 'count_tokens'
      ? 'countTokens'
      : stream
        ? 'streamGenerateContent'
        : 'generateContent';
  return `/${API_VERSION}/models/${encodeURIComponent(name)}:${method}`;
}

/**
 * A Gemini API failure, by status, read with the account type's health rules: blocked (a
 * suspended project, an unserved region) first; 429 rate limited (RetryInfo, per-day quotas,
 * per-model scope); 503 overloaded; other 5xx server errors; a refused key (401, 403, 400
 * API_KEY_INVALID) auth failed; any other 4xx is the client's.
 */
export function classifyGeminiFailure(
  account: RoutableAccount,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
): UpstreamOutcome | null {
  const rules = descriptorOf(account.type).health;
  if (rules.isBlocked(status, bodyText))
    return { kind: 'blocked', message: rules.blockedReason(bodyText) };
  if (status === 429) {
    return {
      kind: 'rate_limited',
      resetAt: rules.rateLimitReset(headers, Date.now(), bodyText),
      scope: rules.rateLimitScope(headers, bodyText),
    };
  }
  if (status === 503) return { kind: 'overloaded', status };
  if (status >= 500) return { kind: 'server_error', status };
  if (rules.isAuthFailed(status, bodyText)) return { kind: 'auth_failed', status };
  return null;
}

/**
 * The Gemini API (`generativelanguage.googleapis.com`) for `gemini-api` accounts: the key as
 * `x-goog-api-key`, the model in the path. Gemini-format requests pass through byte for byte,
 * their query (`alt=sse` or not) as the client sent it; converted requests stream with
 * `alt=sse`.
 */
export class GeminiProvider implements ProviderAdapter {
  readonly id = 'gemini' as const;
  readonly formats = ['gemini'] as const;
  readonly requestHeaders = GEMINI_REQUEST_HEADERS;

  endpoint(
    _account: RoutableAccount,
    _format: WireFormat,
    operation: RelayOperation,
    model: string,
    stream: boolean,
  ): ProviderEndpoint {
    const streams = stream && operation === 'generate';
    return { path: geminiPath(operation, model, streams), query: streams ? 'alt=sse' : '' };
  }

  buildRequest(account: RoutableAccount, input: ProviderRequestInput): Promise<UpstreamRequest> {
    const credentials = account.credentials;
    if (credentials.type !== 'gemini-api')
      return Promise.reject(new Error(`gemini provider given a ${credentials.type} account`));
    return Promise.resolve(
      jsonPost(account, input, this.requestHeaders, geminiApiCredentialHeaders(credentials)),
    );
  }

  classifyFailure(
    account: RoutableAccount,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    bodyText: string,
  ): UpstreamOutcome | null {
    return classifyGeminiFailure(account, status, headers, bodyText);
  }

  createTap(_format: WireFormat): UsageTap {
    return new GeminiUsageTap();
  }

  usageFromBody(_format: WireFormat, body: Buffer): TokenUsage {
    return geminiUsageFromBody(body);
  }
}

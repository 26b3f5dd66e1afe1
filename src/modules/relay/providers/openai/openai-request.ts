import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import { descriptorOf } from 'src/modules/accounts/types/account-types.registry';
import { requestHeaderAllowlist, type RequestHeaderAllowlist } from 'src/modules/relay/headers';

/**
 * The client request headers OpenAI's APIs read, as the official SDKs and Codex CLI send them:
 * content negotiation, the client's identity (`user-agent`, the Stainless SDKs' `x-stainless-*`
 * platform, retry and timeout headers), `openai-beta` flags, an idempotency key, and Codex CLI's
 * `originator`, `version`, session, thread and turn headers (`session-id`, `thread-id`,
 * `x-client-request-id`, `x-codex-*`), which its backend keys prompt caching and usage on.
 * Nothing else a client sends reaches the account.
 */
export const OPENAI_REQUEST_HEADERS: RequestHeaderAllowlist = requestHeaderAllowlist(
  [
    'content-type',
    'accept',
    'user-agent',
    'openai-beta',
    'idempotency-key',
    'originator',
    'version',
    'session-id',
    'session_id',
    'thread-id',
    'x-client-request-id',
  ],
  ['x-stainless-', 'x-codex-'],
);

/** The path of an OpenAI-format operation below a base URL that ends in `/v1` (or its like). */
export function openAIPath(format: string): string {
  return format === 'openai-chat' ? '/chat/completions' : '/responses';
}

/**
 * An OpenAI-family upstream's failure, by status, read with the account type's health rules:
 * 429 rate limited (until the reset the headers or the body name), 5xx server error, blocked
 * (deactivated, banned) before 401/403 auth failed; any other 4xx is the client's.
 */
export function classifyOpenAIFailure(
  account: RoutableAccount,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
): UpstreamOutcome | null {
  const rules = descriptorOf(account.type).health;
  if (rules.isBlocked(status, bodyText))
    return { kind: 'blocked', message: bodyText.slice(0, 500) };
  if (status === 429) {
    return {
      kind: 'rate_limited',
      resetAt: rules.rateLimitReset(headers, Date.now(), bodyText),
      scope: rules.rateLimitScope(headers),
    };
  }
  if (status === 503) return { kind: 'overloaded', status };
  if (status >= 500) return { kind: 'server_error', status };
  if (rules.isAuthFailed(status, bodyText)) return { kind: 'auth_failed', status };
  return null;
}

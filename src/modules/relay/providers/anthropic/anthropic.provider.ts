import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RelayOperation, WireFormat } from 'src/modules/relay/wire-format';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import { descriptorOf } from 'src/modules/accounts/types/account-types.registry';
import {
  forwardableRequestHeaders,
  requestHeaderAllowlist,
  type RequestHeaderAllowlist,
} from 'src/modules/relay/headers';
import type {
  ProviderAdapter,
  ProviderEndpoint,
  ProviderRequestInput,
  UsageTap,
} from 'src/modules/relay/relay.types';
import { AnthropicUsageTap, usageFromAnthropicMessage } from './anthropic-usage.tap';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { emptyUsage } from 'src/modules/usage/pricing/token-usage';

/** Subscription (OAuth) access to the Messages API requires this beta flag. */
export const OAUTH_BETA = 'oauth-2025-04-20';
const DEFAULT_VERSION = '2023-06-01';

/**
 * The client request headers Anthropic's API reads, as the official SDKs and Claude Code send
 * them: API version and beta flags, the SDKs' browser opt-in, content negotiation, the client's
 * identity (`user-agent`, the Stainless SDK's `x-stainless-*` platform, retry and timeout
 * headers, Claude Code's `x-app`) and Claude Code's session and request ids. Nothing else a
 * client sends (its address, proxies, CDN, cookies, arbitrary `x-*`) reaches the account.
 */
export const ANTHROPIC_REQUEST_HEADERS: RequestHeaderAllowlist = requestHeaderAllowlist(
  [
    'anthropic-version',
    'anthropic-beta',
    'anthropic-dangerous-direct-browser-access',
    'content-type',
    'accept',
    'user-agent',
    'x-app',
    'x-claude-code-session-id',
    'x-client-request-id',
  ],
  ['x-stainless-'],
);

function mergeBeta(client: string | undefined, required: string): string {
  const flags = (client ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (!flags.includes(required)) flags.push(required);
  return flags.join(',');
}

/** The UsageTap over an Anthropic Messages stream (shared with providers that speak it). */
export class AnthropicTapAdapter implements UsageTap {
  private readonly tap = new AnthropicUsageTap();
  push(chunk: Buffer): void {
    this.tap.push(chunk);
  }
  end(): void {
    this.tap.end();
  }
  get usage(): TokenUsage {
    return this.tap.billableUsage;
  }
  get complete(): boolean {
    return this.tap.sawMessageStop;
  }
  get sawError(): boolean {
    return this.tap.sawError;
  }
}

/** Anthropic's Messages API for subscription (OAuth), Console-key and other-relay (ccr) accounts. */
export class AnthropicProvider implements ProviderAdapter {
  readonly id = 'anthropic' as const;
  readonly formats = ['anthropic-messages'] as const;
  readonly requestHeaders = ANTHROPIC_REQUEST_HEADERS;

  endpoint(
    _account: RoutableAccount,
    _format: WireFormat,
    operation: RelayOperation,
  ): ProviderEndpoint {
    return operation === 'count_tokens'
      ? { path: '/v1/messages/count_tokens', query: '' }
      : { path: '/v1/messages', query: '' };
  }

  buildRequest(account: RoutableAccount, input: ProviderRequestInput): Promise<UpstreamRequest> {
    return Promise.resolve(this.build(account, input));
  }

  private build(account: RoutableAccount, input: ProviderRequestInput): UpstreamRequest {
    const headers = forwardableRequestHeaders(input.headers, this.requestHeaders);
    headers['anthropic-version'] ??= DEFAULT_VERSION;
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    const credentials = account.credentials;
    switch (credentials.type) {
      case 'claude-oauth':
        headers.authorization = `Bearer ${credentials.accessToken}`;
        headers['anthropic-beta'] = mergeBeta(headers['anthropic-beta'], OAUTH_BETA);
        break;
      case 'claude-console':
      case 'ccr':
        if (credentials.authScheme === 'bearer')
          headers.authorization = `Bearer ${credentials.apiKey}`;
        else headers['x-api-key'] = credentials.apiKey;
        break;
      case 'openai':
      case 'codex-oauth':
      case 'azure-openai':
      case 'gemini-api':
      case 'gemini-oauth':
      case 'bedrock':
      case 'openai-compatible':
      case 'droid':
        throw new Error(`the anthropic provider cannot serve ${credentials.type} accounts`);
    }
    const { path, query } = input.endpoint;
    return {
      url: query === '' ? `${account.baseUrl}${path}` : `${account.baseUrl}${path}?${query}`,
      method: 'POST',
      headers,
      body: input.body,
      proxyUrl: account.proxyUrl,
    };
  }

  /** By status, with the account type's health rules reading the headers and the body. */
  classifyFailure(
    account: RoutableAccount,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    bodyText: string,
  ): UpstreamOutcome | null {
    const rules = descriptorOf(account.type).health;
    if (status === 429) {
      return {
        kind: 'rate_limited',
        resetAt: rules.rateLimitReset(headers, Date.now()),
        scope: rules.rateLimitScope(headers),
      };
    }
    if (status === 529) return { kind: 'overloaded', status };
    if (status >= 500) return { kind: 'server_error', status };
    // A disabled organization is final; check it before 401, which earns a token refresh first.
    if (rules.isBlocked(status, bodyText))
      return { kind: 'blocked', message: bodyText.slice(0, 500) };
    if (rules.isAuthFailed(status, bodyText)) return { kind: 'auth_failed', status };
    return null;
  }

  createTap(): UsageTap {
    return new AnthropicTapAdapter();
  }

  usageFromBody(_format: WireFormat, body: Buffer): TokenUsage {
    try {
      return usageFromAnthropicMessage(JSON.parse(body.toString('utf8')));
    } catch {
      return emptyUsage();
    }
  }
}

import { createHash, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import { descriptorOf } from 'src/modules/accounts/types/account-types.registry';
import type { DroidCredentials } from 'src/modules/accounts/types/droid';
import {
  DROID_CREDITS_COOLDOWN_MS,
  isDroidCreditsExhausted,
} from 'src/modules/accounts/types/droid.health-rules';
import { header, retryAfter } from 'src/modules/accounts/types/health-readings';
import {
  forwardableRequestHeaders,
  requestHeaderAllowlist,
  type RequestHeaderAllowlist,
} from 'src/modules/relay/headers';
import type {
  PassthroughAdjustment,
  ProviderAdapter,
  ProviderEndpoint,
  ProviderRequestInput,
  UsageTap,
} from 'src/modules/relay/relay.types';
import type { RelayOperation, WireFormat } from 'src/modules/relay/wire-format';
import { emptyUsage, type TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { AnthropicTapAdapter } from '../anthropic/anthropic.provider';
import { usageFromAnthropicMessage } from '../anthropic/anthropic-usage.tap';
import { chatStreamUsagePassthrough } from '../openai/chat-stream-usage';
import { openAITap, openAIUsageFromBody } from '../openai/openai-formats';

/** The Droid CLI version whose User-Agent Switchyard sends (an account may name another). */
export const DROID_CLI_VERSION = '0.32.1';
export const DROID_USER_AGENT = `factory-cli/${DROID_CLI_VERSION}`;
const ANTHROPIC_VERSION = '2023-06-01';

/** Factory's endpoints below its LLM API root (`DROID_BASE_URL`), by wire format. */
export const DROID_PATHS = {
  'anthropic-messages': '/a/v1/messages',
  'openai-responses': '/o/v1/responses',
  'openai-chat': '/o/v1/chat/completions',
} as const satisfies Partial<Record<WireFormat, string>>;

/**
 * The client headers Factory's endpoints read: the Anthropic API version and beta flags, OpenAI's
 * beta flags, content negotiation and an idempotency key. The client's own identity (its
 * User-Agent, the SDKs' `x-stainless-*`, Claude Code's and Codex's session headers) is not
 * forwarded: Factory is called as the Droid CLI calls it, and the conversation travels as
 * `x-session-id`.
 */
export const DROID_REQUEST_HEADERS: RequestHeaderAllowlist = requestHeaderAllowlist([
  'anthropic-version',
  'anthropic-beta',
  'openai-beta',
  'content-type',
  'accept',
  'idempotency-key',
]);

/** Client headers that name a conversation, most specific first. */
const SESSION_HEADERS = ['x-session-id', 'x-claude-code-session-id', 'session_id', 'session-id'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_SESSION_LENGTH = 1024;

/**
 * The `x-session-id` Factory gets: the client's own when it is a UUID (the Droid CLI's), a UUID
 * derived from any other session the client names (stable for the conversation, and carrying
 * none of the client's text), else a fresh one for this request.
 */
export function droidSessionId(headers: IncomingHttpHeaders): string {
  for (const name of SESSION_HEADERS) {
    const value = headers[name];
    if (typeof value !== 'string' || value === '' || value.length > MAX_SESSION_LENGTH) continue;
    if (UUID.test(value)) return value.toLowerCase();
    const hex = createHash('sha256').update(`droid-session:${value}`).digest('hex');
    // Shaped as a version-4 UUID (RFC 9562 variant) so it reads as the CLI's own ids do.
    const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
  return randomUUID();
}

/**
 * `x-api-provider` on the Responses endpoint: the reference client sends `openai` for the
 * `-max` models (served by OpenAI itself) and `azure_openai` for the others.
 */
export function responsesApiProvider(model: string): string {
  return model.toLowerCase().includes('-max') ? 'openai' : 'azure_openai';
}

/** `x-api-provider` on the Chat Completions endpoint: the model's host, read from its name. */
export function chatApiProvider(model: string): string {
  const name = model.toLowerCase();
  if (name.includes('gemini')) return 'google';
  if (name.includes('claude')) return 'anthropic';
  if (name.includes('gpt') || /^o\d/.test(name)) return 'azure_openai';
  if (name.includes('glm')) return 'fireworks';
  return 'baseten';
}

function droidCredentials(account: RoutableAccount): DroidCredentials {
  const credentials = account.credentials;
  if (credentials.type !== 'droid')
    throw new Error(`the droid provider cannot serve ${credentials.type} accounts`);
  return credentials;
}

/** The model a body names, for callers that gave none (account tests). */
function modelOf(body: Buffer | undefined): string {
  if (body === undefined) return '';
  try {
    const model = (JSON.parse(body.toString('utf8')) as { model?: unknown }).model;
    return typeof model === 'string' ? model : '';
  } catch {
    return '';
  }
}

/**
 * Factory's LLM API for `droid` accounts: one key, three wire formats at three paths. Anthropic
 * Messages (Claude models), OpenAI Responses and Chat Completions (GPT and the other models
 * Factory hosts) all pass through as the client sent them, so Claude Code, Codex CLI and the
 * SDKs each reach it natively; other dialects are converted to Messages. Factory is called as
 * the Droid CLI calls it: `x-factory-client: cli`, its User-Agent, a session id, and the
 * `x-api-provider` that tells Factory which host serves the model. Bodies go unchanged (no
 * system prompt is added and nothing is dropped; see docs/accounts.md).
 */
export class DroidProvider implements ProviderAdapter {
  readonly id = 'droid' as const;
  readonly formats = ['anthropic-messages', 'openai-responses', 'openai-chat'] as const;
  readonly requestHeaders = DROID_REQUEST_HEADERS;

  endpoint(
    _account: RoutableAccount,
    format: WireFormat,
    operation: RelayOperation,
  ): ProviderEndpoint {
    if (format === 'openai-responses' || format === 'openai-chat')
      return { path: DROID_PATHS[format], query: '' };
    const path = DROID_PATHS['anthropic-messages'];
    return { path: operation === 'count_tokens' ? `${path}/count_tokens` : path, query: '' };
  }

  buildRequest(account: RoutableAccount, input: ProviderRequestInput): Promise<UpstreamRequest> {
    try {
      return Promise.resolve(this.build(account, input));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private build(account: RoutableAccount, input: ProviderRequestInput): UpstreamRequest {
    const credentials = droidCredentials(account);
    const headers = forwardableRequestHeaders(input.headers, this.requestHeaders);
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    headers.authorization = `Bearer ${credentials.apiKey}`;
    headers['user-agent'] = credentials.userAgent ?? DROID_USER_AGENT;
    headers['x-factory-client'] = 'cli';
    headers['x-session-id'] = droidSessionId(input.headers);
    const model = input.model ?? modelOf(input.body);
    switch (input.format) {
      case 'anthropic-messages':
        headers['anthropic-version'] ??= ANTHROPIC_VERSION;
        // Factory's Anthropic endpoint wants the SDK's header present; the key is the bearer's.
        headers['x-api-key'] = 'placeholder';
        headers['x-api-provider'] = 'anthropic';
        delete headers['openai-beta'];
        break;
      case 'openai-responses':
      case 'openai-chat':
        headers['x-api-provider'] =
          input.format === 'openai-responses'
            ? responsesApiProvider(model)
            : chatApiProvider(model);
        delete headers['anthropic-version'];
        delete headers['anthropic-beta'];
        break;
      case 'gemini':
      case 'code-assist':
        throw new Error(`the droid provider does not speak ${input.format}`);
    }
    const { path, query } = input.endpoint;
    return {
      url: `${account.baseUrl}${path}${query === '' ? '' : `?${query}`}`,
      method: 'POST',
      headers,
      body: input.body,
      proxyUrl: account.proxyUrl,
    };
  }

  /**
   * Credits or allowance run out (402, or a 429 / 403 that says so): rate limited for an hour
   * unless `retry-after` says otherwise; 429 rate limited until `retry-after`; 529 and 503
   * overloaded, other 5xx a server error; 401 / 403 auth failed; any other 4xx is the client's.
   */
  classifyFailure(
    account: RoutableAccount,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    bodyText: string,
  ): UpstreamOutcome | null {
    const rules = descriptorOf(account.type).health;
    const now = Date.now();
    if (isDroidCreditsExhausted(status, bodyText)) {
      return {
        kind: 'rate_limited',
        resetAt: retryAfter(header(headers, 'retry-after'), now) ?? now + DROID_CREDITS_COOLDOWN_MS,
        scope: rules.rateLimitScope(headers, bodyText),
      };
    }
    if (status === 429) {
      return {
        kind: 'rate_limited',
        resetAt: rules.rateLimitReset(headers, now, bodyText),
        scope: rules.rateLimitScope(headers, bodyText),
      };
    }
    if (status === 529 || status === 503) return { kind: 'overloaded', status };
    if (status >= 500) return { kind: 'server_error', status };
    if (rules.isAuthFailed(status, bodyText)) return { kind: 'auth_failed', status };
    return null;
  }

  createTap(format: WireFormat): UsageTap {
    return format === 'anthropic-messages' ? new AnthropicTapAdapter() : openAITap(format);
  }

  usageFromBody(format: WireFormat, body: Buffer): TokenUsage {
    if (format !== 'anthropic-messages') return openAIUsageFromBody(format, body);
    try {
      return usageFromAnthropicMessage(JSON.parse(body.toString('utf8')));
    } catch {
      return emptyUsage();
    }
  }

  /** Chat Completions streams are asked for their usage, as on OpenAI's own API. */
  passthrough(
    format: WireFormat,
    body: Record<string, unknown>,
    stream: boolean,
  ): PassthroughAdjustment | null {
    return chatStreamUsagePassthrough(format, body, stream);
  }
}

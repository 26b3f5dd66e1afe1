import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import type { ProviderId } from 'src/modules/accounts/types/account-type.descriptor';
import { forwardableRequestHeaders, requestHeaderAllowlist } from 'src/modules/relay/headers';
import { ProviderRegistry } from 'src/modules/relay/providers/provider.registry';
import type {
  ProviderAdapter,
  ProviderEndpoint,
  ProviderRequestInput,
  UsageTap,
} from 'src/modules/relay/relay.types';
import { SseParser } from 'src/modules/relay/sse/sse-parser';
import type { RelayOperation, WireFormat } from 'src/modules/relay/wire-format';
import { emptyUsage, type TokenUsage } from 'src/modules/usage/pricing/token-usage';

/**
 * The fake provider's wire format, small enough to write by hand in a spec:
 * - a stream is SSE; an `event: final` is its proper end, an `event: error` the upstream's own
 *   error; any event's data may carry `{"usage":{"inputTokens":…,"outputTokens":…}}` (later
 *   numbers replace earlier ones, as Anthropic's cumulative counts do);
 * - a non-stream body is JSON with the same optional `usage` object.
 */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function readUsage(into: TokenUsage, value: unknown): void {
  const usage = (value as { usage?: Partial<Record<keyof TokenUsage, unknown>> } | null)?.usage;
  if (typeof usage !== 'object' || usage === null) return;
  for (const field of Object.keys(into) as (keyof TokenUsage)[]) {
    const n = usage[field];
    if (typeof n === 'number') into[field] = n;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Reads `final`, `error` and `usage` from the fake stream. */
export class FakeTap implements UsageTap {
  private readonly parser = new SseParser();
  readonly usage: TokenUsage = emptyUsage();
  complete = false;
  sawError = false;
  /** Every byte pushed, in order (what the provider side of the stream was). */
  readonly seen: Buffer[] = [];

  push(chunk: Buffer): void {
    this.seen.push(chunk);
    for (const event of this.parser.push(chunk)) this.onEvent(event.event, event.data);
  }

  end(): void {
    for (const event of this.parser.end()) this.onEvent(event.event, event.data);
  }

  private onEvent(name: string | undefined, data: string): void {
    if (name === 'final') this.complete = true;
    if (name === 'error') this.sawError = true;
    readUsage(this.usage, parseJson(data));
  }
}

/** One request the provider built, with the credential it put on it. */
export interface BuiltRequest {
  accountId: string;
  credential: string;
  input: ProviderRequestInput;
  request: UpstreamRequest;
}

function credentialOf(account: RoutableAccount): string {
  const credentials = account.credentials;
  // OAuth types hold a token, the rest a key (an Entra-token Azure account has none: '').
  return 'accessToken' in credentials ? credentials.accessToken : (credentials.apiKey ?? '');
}

/**
 * A ProviderAdapter with the fake wire format above. Classifies 429 → rate_limited (reset from
 * `retry-after` seconds), 529 → overloaded, other 5xx → server_error, 401 → auth_failed, and
 * leaves any other status to the client.
 */
export class FakeProvider implements ProviderAdapter {
  // ProviderId names the real providers only; the registry below hands this one out instead.
  readonly id: ProviderId = 'anthropic';
  readonly requestHeaders = requestHeaderAllowlist(['content-type', 'user-agent']);
  readonly built: BuiltRequest[] = [];
  readonly taps: FakeTap[] = [];

  readonly formats: readonly WireFormat[];

  constructor(format: WireFormat = 'anthropic-messages') {
    this.formats = [format];
  }

  endpoint(
    _account: RoutableAccount,
    _format: WireFormat,
    operation: RelayOperation,
    model: string,
  ): ProviderEndpoint {
    return { path: `/fake/${model}/${operation}`, query: '' };
  }

  buildRequest(account: RoutableAccount, input: ProviderRequestInput): Promise<UpstreamRequest> {
    const headers = forwardableRequestHeaders(input.headers, this.requestHeaders);
    const credential = credentialOf(account);
    headers.authorization = `Bearer ${credential}`;
    const { path, query } = input.endpoint;
    const request: UpstreamRequest = {
      url: `${account.baseUrl}${path}${query === '' ? '' : `?${query}`}`,
      method: 'POST',
      headers,
      body: input.body,
      proxyUrl: account.proxyUrl,
    };
    this.built.push({ accountId: account.id, credential, input, request });
    return Promise.resolve(request);
  }

  classifyFailure(
    _account: RoutableAccount,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): UpstreamOutcome | null {
    if (status === 429) {
      const retryAfter = Number(headers['retry-after']);
      return {
        kind: 'rate_limited',
        resetAt: Number.isFinite(retryAfter) ? Date.now() + retryAfter * 1000 : null,
        scope: 'account',
      };
    }
    if (status === 529) return { kind: 'overloaded', status };
    if (status >= 500) return { kind: 'server_error', status };
    if (status === 401) return { kind: 'auth_failed', status };
    return null;
  }

  createTap(): UsageTap {
    const tap = new FakeTap();
    this.taps.push(tap);
    return tap;
  }

  usageFromBody(_format: WireFormat, body: Buffer): TokenUsage {
    const usage = emptyUsage();
    readUsage(usage, parseJson(body.toString('utf8')));
    return usage;
  }
}

/** Hands out one FakeProvider for every account type. */
export class FakeProviderRegistry extends ProviderRegistry {
  constructor(private readonly provider: FakeProvider) {
    super();
  }

  override forAccount(): ProviderAdapter {
    return this.provider;
  }
}

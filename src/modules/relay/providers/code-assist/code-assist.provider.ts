import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import { requestHeaderAllowlist } from 'src/modules/relay/headers';
import type {
  ProviderAdapter,
  ProviderEndpoint,
  ProviderRequestInput,
  UsageTap,
} from 'src/modules/relay/relay.types';
import type { RelayOperation, WireFormat } from 'src/modules/relay/wire-format';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { classifyGeminiFailure } from 'src/modules/relay/providers/gemini/gemini.provider';
import {
  GeminiUsageTap,
  geminiUsageFromBody,
} from 'src/modules/relay/providers/gemini/gemini-usage.tap';
import { jsonPost } from 'src/modules/relay/providers/shared/upstream-request';

/** Code Assist's API version (Gemini CLI's CODE_ASSIST_API_VERSION). */
export const CODE_ASSIST_API_VERSION = 'v1internal';

/** The client headers Code Assist reads: content negotiation and the client's identity. */
const CODE_ASSIST_REQUEST_HEADERS = requestHeaderAllowlist([
  'content-type',
  'accept',
  'user-agent',
  'x-goog-api-client',
]);

/** The path of one Code Assist method below the base URL (`/v1internal:generateContent`). */
export function codeAssistPath(method: string): string {
  return `/${CODE_ASSIST_API_VERSION}:${method}`;
}

/** The Code Assist method of an operation. */
export function codeAssistMethod(operation: RelayOperation, stream: boolean): string {
  if (operation === 'count_tokens') return 'countTokens';
  return stream ? 'streamGenerateContent' : 'generateContent';
}

/** A query string with each parameter once (the client's `alt=sse` and the provider's meet). */
function dedupeQuery(query: string): string {
  if (query === '') return '';
  const seen = new Set<string>();
  return query
    .split('&')
    .filter((pair) => pair !== '' && !seen.has(pair) && seen.add(pair) !== undefined)
    .join('&');
}

/**
 * The body with the account's Code Assist project in `project`. A request names the project it
 * is billed to: whatever the client sent (Gemini CLI sends the one Switchyard's loadCodeAssist
 * answered) is replaced by the account's own. countTokens bodies name none.
 */
export function withProject(body: Buffer, projectId: string): Buffer {
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return body;
  const record = request as Record<string, unknown>;
  if (record.project === projectId) return body;
  return Buffer.from(JSON.stringify({ ...record, project: projectId }));
}

/**
 * Google's Code Assist API (`{base}/v1internal:{method}`) for `gemini-oauth` accounts: the
 * account's OAuth access token as a bearer token and its project in each generate request.
 * Bodies are Code Assist's envelope (`{model, project, user_prompt_id, request}` in,
 * `{response, traceId}` out); Gemini API clients reach it through the gemini → code-assist
 * converter.
 */
export class CodeAssistProvider implements ProviderAdapter {
  readonly id = 'code-assist' as const;
  readonly formats = ['code-assist'] as const;
  readonly requestHeaders = CODE_ASSIST_REQUEST_HEADERS;

  endpoint(
    _account: RoutableAccount,
    _format: WireFormat,
    operation: RelayOperation,
    _model: string,
    stream: boolean,
  ): ProviderEndpoint {
    const method = codeAssistMethod(operation, stream);
    return {
      path: codeAssistPath(method),
      query: method === 'streamGenerateContent' ? 'alt=sse' : '',
    };
  }

  buildRequest(account: RoutableAccount, input: ProviderRequestInput): Promise<UpstreamRequest> {
    const credentials = account.credentials;
    if (credentials.type !== 'gemini-oauth')
      return Promise.reject(new Error(`code-assist provider given a ${credentials.type} account`));
    const generates = !input.endpoint.path.endsWith(':countTokens');
    const body =
      input.body === undefined || !generates
        ? input.body
        : withProject(input.body, credentials.projectId);
    const endpoint = { path: input.endpoint.path, query: dedupeQuery(input.endpoint.query) };
    return Promise.resolve(
      jsonPost(
        account,
        input,
        this.requestHeaders,
        { authorization: `Bearer ${credentials.accessToken}` },
        { body, endpoint },
      ),
    );
  }

  /**
   * Read as the Gemini API's failures, with the gemini-oauth health rules: 429
   * RESOURCE_EXHAUSTED rate limited (RetryInfo, per-day quotas, per-model scope); 403 naming a
   * disabled account blocked; 401 and other 403s refused credentials (the relay refreshes
   * once); 5xx the upstream's trouble. Any other 4xx is about the request and goes to the client.
   */
  classifyFailure(
    account: RoutableAccount,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    bodyText: string,
  ): UpstreamOutcome | null {
    return classifyGeminiFailure(account, status, headers, bodyText);
  }

  /** Code Assist's stream is the Gemini API's, each event wrapped in `response`. */
  createTap(): UsageTap {
    return new GeminiUsageTap({ inResponse: true });
  }

  usageFromBody(_format: WireFormat, body: Buffer): TokenUsage {
    return geminiUsageFromBody(body, { inResponse: true });
  }
}

import { randomUUID } from 'node:crypto';
import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import { codexCredentialHeaders } from 'src/modules/accounts/types/codex-oauth';
import { forwardableRequestHeaders } from 'src/modules/relay/headers';
import type {
  ProviderAdapter,
  ProviderEndpoint,
  ProviderRequestInput,
  UsageTap,
} from 'src/modules/relay/relay.types';
import type { WireFormat } from 'src/modules/relay/wire-format';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { classifyOpenAIFailure, OPENAI_REQUEST_HEADERS } from '../openai/openai-request';
import { assembleResponsesStream, openAITap, openAIUsageFromBody } from '../openai/openai-formats';

/** Codex CLI's originator, sent when the client is not Codex CLI itself. */
const ORIGINATOR = 'codex_cli_rs';

/**
 * ChatGPT's Codex backend for `codex-oauth` accounts (a ChatGPT subscription): the Responses API
 * only, streamed only and stateless (`stream: true`, `store: false` are required), with the
 * subscription's access token and its ChatGPT account id (`chatgpt-account-id`). A client that
 * asked for a non-stream response gets the stream assembled into one.
 */
export class CodexProvider implements ProviderAdapter {
  readonly id = 'codex' as const;
  readonly formats = ['openai-responses'] as const;
  readonly requestHeaders = OPENAI_REQUEST_HEADERS;

  endpoint(): ProviderEndpoint {
    return { path: '/responses', query: '' };
  }

  buildRequest(account: RoutableAccount, input: ProviderRequestInput): Promise<UpstreamRequest> {
    const credentials = account.credentials;
    if (credentials.type !== 'codex-oauth')
      return Promise.reject(new Error(`codex provider given a ${credentials.type} account`));
    const headers = forwardableRequestHeaders(input.headers, this.requestHeaders);
    headers['content-type'] = 'application/json';
    headers.accept = 'text/event-stream';
    Object.assign(headers, codexCredentialHeaders(credentials));
    headers['openai-beta'] ??= 'responses=experimental';
    headers.originator ??= ORIGINATOR;
    // The backend keys its prompt cache on the session; Codex CLI always names one.
    if (headers['session-id'] === undefined && headers.session_id === undefined)
      headers['session-id'] = randomUUID();
    return Promise.resolve({
      url: `${account.baseUrl}${input.endpoint.path}`,
      method: 'POST',
      headers,
      body: input.body === undefined ? undefined : streamedStateless(input.body),
      proxyUrl: account.proxyUrl,
    });
  }

  classifyFailure(
    account: RoutableAccount,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    bodyText: string,
  ): UpstreamOutcome | null {
    return classifyOpenAIFailure(account, status, headers, bodyText);
  }

  createTap(format: WireFormat): UsageTap {
    return openAITap(format);
  }

  usageFromBody(format: WireFormat, body: Buffer): TokenUsage {
    return openAIUsageFromBody(format, body);
  }

  assembleStream(_format: WireFormat, body: Buffer): Buffer {
    return assembleResponsesStream(body);
  }
}

/**
 * The body with `stream: true` and `store: false`, which the backend requires; Codex CLI already
 * sends both, and then the bytes go unchanged.
 */
function streamedStateless(body: Buffer): Buffer {
  const request = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  if (request.stream === true && request.store === false) return body;
  return Buffer.from(JSON.stringify({ ...request, stream: true, store: false }));
}

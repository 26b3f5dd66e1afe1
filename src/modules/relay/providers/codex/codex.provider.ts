import { randomUUID } from 'node:crypto';
import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { codexCredentialHeaders } from 'src/modules/accounts/types/codex-oauth';
import { forwardableRequestHeaders } from 'src/modules/relay/headers';
import type { ProviderEndpoint, ProviderRequestInput } from 'src/modules/relay/relay.types';
import type { WireFormat } from 'src/modules/relay/wire-format';
import { assembleResponsesStream } from '../openai/openai-formats';
import { OpenAIWireProvider } from '../shared/openai-wire.provider';

/** Codex CLI's originator, sent when the client is not Codex CLI itself. */
const ORIGINATOR = 'codex_cli_rs';

/**
 * ChatGPT's Codex backend for `codex-oauth` accounts (a ChatGPT subscription): the Responses API
 * only, streamed only and stateless (`stream: true`, `store: false` are required), with the
 * subscription's access token and its ChatGPT account id (`chatgpt-account-id`). A client that
 * asked for a non-stream response gets the stream assembled into one.
 */
export class CodexProvider extends OpenAIWireProvider {
  readonly id = 'codex' as const;
  readonly formats = ['openai-responses'] as const;

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

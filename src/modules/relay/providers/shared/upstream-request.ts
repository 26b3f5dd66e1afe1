import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { forwardableRequestHeaders, type RequestHeaderAllowlist } from 'src/modules/relay/headers';
import type { ProviderEndpoint, ProviderRequestInput } from 'src/modules/relay/relay.types';

/**
 * Building the upstream request, shared by the providers whose request is a JSON POST to the
 * account's base URL with the account's credentials in headers (OpenAI, Azure OpenAI,
 * openai-compatible, Gemini API, Code Assist).
 */

/** The account's credentials, which must be of `type` (a provider given another is a bug). */
export function credentialsOf<T extends RoutableAccount['credentials']['type']>(
  account: RoutableAccount,
  type: T,
  provider: string,
): Extract<RoutableAccount['credentials'], { type: T }> {
  const credentials = account.credentials;
  if (credentials.type !== type)
    throw new Error(`${provider} provider given a ${credentials.type} account`);
  return credentials as Extract<RoutableAccount['credentials'], { type: T }>;
}

/** The endpoint's URL below the base URL, its query (if any) after `?`. */
export function upstreamUrl(baseUrl: string, endpoint: ProviderEndpoint): string {
  const { path, query } = endpoint;
  return `${baseUrl}${path}${query === '' ? '' : `?${query}`}`;
}

/**
 * A POST of a JSON body to the account's base URL plus the endpoint: the client headers the
 * provider forwards, `content-type: application/json`, then the account's credential headers.
 * `body` and `endpoint` default to the input's.
 */
export function jsonPost(
  account: RoutableAccount,
  input: ProviderRequestInput,
  allowlist: RequestHeaderAllowlist,
  credentialHeaders: Record<string, string>,
  overrides: { body?: Buffer; endpoint?: ProviderEndpoint } = {},
): UpstreamRequest {
  const headers = forwardableRequestHeaders(input.headers, allowlist);
  headers['content-type'] = 'application/json';
  Object.assign(headers, credentialHeaders);
  return {
    url: upstreamUrl(account.baseUrl, overrides.endpoint ?? input.endpoint),
    method: 'POST',
    headers,
    body: 'body' in overrides ? overrides.body : input.body,
    proxyUrl: account.proxyUrl,
  };
}

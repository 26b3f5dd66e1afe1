import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import { openAICredentialHeaders } from 'src/modules/accounts/types/openai';
import { forwardableRequestHeaders } from 'src/modules/relay/headers';
import type {
  PassthroughAdjustment,
  ProviderAdapter,
  ProviderEndpoint,
  ProviderRequestInput,
  UsageTap,
} from 'src/modules/relay/relay.types';
import type { WireFormat } from 'src/modules/relay/wire-format';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { chatStreamUsagePassthrough } from './chat-stream-usage';
import { openAITap, openAIUsageFromBody } from './openai-formats';
import { classifyOpenAIFailure, OPENAI_REQUEST_HEADERS, openAIPath } from './openai-request';

/**
 * OpenAI's API for `openai` accounts (an API key, with an optional organization and project):
 * Chat Completions and Responses both pass through as the client sent them.
 */
export class OpenAIProvider implements ProviderAdapter {
  readonly id = 'openai' as const;
  readonly formats = ['openai-responses', 'openai-chat'] as const;
  readonly requestHeaders = OPENAI_REQUEST_HEADERS;

  endpoint(_account: RoutableAccount, format: WireFormat): ProviderEndpoint {
    return { path: openAIPath(format), query: '' };
  }

  buildRequest(account: RoutableAccount, input: ProviderRequestInput): Promise<UpstreamRequest> {
    const credentials = account.credentials;
    if (credentials.type !== 'openai')
      return Promise.reject(new Error(`openai provider given a ${credentials.type} account`));
    const headers = forwardableRequestHeaders(input.headers, this.requestHeaders);
    headers['content-type'] = 'application/json';
    Object.assign(headers, openAICredentialHeaders(credentials));
    const { path, query } = input.endpoint;
    return Promise.resolve({
      url: `${account.baseUrl}${path}${query === '' ? '' : `?${query}`}`,
      method: 'POST',
      headers,
      body: input.body,
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

  passthrough(
    format: WireFormat,
    body: Record<string, unknown>,
    stream: boolean,
  ): PassthroughAdjustment | null {
    return chatStreamUsagePassthrough(format, body, stream);
  }
}

import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { openAICredentialHeaders } from 'src/modules/accounts/types/openai';
import type {
  PassthroughAdjustment,
  ProviderEndpoint,
  ProviderRequestInput,
} from 'src/modules/relay/relay.types';
import type { WireFormat } from 'src/modules/relay/wire-format';
import { OpenAIWireProvider } from '../shared/openai-wire.provider';
import { jsonPost } from '../shared/upstream-request';
import { chatStreamUsagePassthrough } from './chat-stream-usage';
import { openAIPath } from './openai-request';

/**
 * OpenAI's API for `openai` accounts (an API key, with an optional organization and project):
 * Chat Completions and Responses both pass through as the client sent them.
 */
export class OpenAIProvider extends OpenAIWireProvider {
  readonly id = 'openai' as const;
  readonly formats = ['openai-responses', 'openai-chat'] as const;

  endpoint(_account: RoutableAccount, format: WireFormat): ProviderEndpoint {
    return { path: openAIPath(format), query: '' };
  }

  buildRequest(account: RoutableAccount, input: ProviderRequestInput): Promise<UpstreamRequest> {
    const credentials = account.credentials;
    if (credentials.type !== 'openai')
      return Promise.reject(new Error(`openai provider given a ${credentials.type} account`));
    return Promise.resolve(
      jsonPost(account, input, this.requestHeaders, openAICredentialHeaders(credentials)),
    );
  }

  passthrough(
    format: WireFormat,
    body: Record<string, unknown>,
    stream: boolean,
  ): PassthroughAdjustment | null {
    return chatStreamUsagePassthrough(format, body, stream);
  }
}

import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import type {
  PassthroughAdjustment,
  ProviderEndpoint,
  ProviderRequestInput,
} from 'src/modules/relay/relay.types';
import type { RelayOperation, WireFormat } from 'src/modules/relay/wire-format';
import {
  azureDeploymentName,
  azureOpenAICredentialHeaders,
  azureOpenAIEndpoint,
  type AzureOpenAICredentials,
} from 'src/modules/accounts/types/azure-openai';
import { chatStreamUsagePassthrough } from '../openai/chat-stream-usage';
import { openAIPath } from '../openai/openai-request';
import { OpenAIWireProvider } from '../shared/openai-wire.provider';
import { credentialsOf, jsonPost } from '../shared/upstream-request';

function azureCredentials(account: RoutableAccount): AzureOpenAICredentials {
  return credentialsOf(account, 'azure-openai', 'azure-openai');
}

/**
 * Azure OpenAI for `azure-openai` accounts: the resource endpoint as the base URL, either
 * `/openai/deployments/{deployment}/…?api-version=…` (the deployment mapped from the model name)
 * or the `/openai/v1/…` shape; the key as `api-key`, or an Entra ID token as a bearer.
 */
export class AzureOpenAIProvider extends OpenAIWireProvider {
  readonly id = 'azure-openai' as const;
  readonly formats = ['openai-responses', 'openai-chat'] as const;

  endpoint(
    account: RoutableAccount,
    format: WireFormat,
    _operation: RelayOperation,
    model: string,
  ): ProviderEndpoint {
    return azureOpenAIEndpoint(azureCredentials(account), openAIPath(format), model);
  }

  /**
   * Azure names the deployment in the body's `model` (the v1 shape, and Responses on the
   * deployments shape); on the deployment-shaped chat path it is in the path too, and the same
   * name keeps the body consistent with it.
   */
  bodyModel(account: RoutableAccount, model: string): string {
    return azureDeploymentName(azureCredentials(account), model);
  }

  buildRequest(account: RoutableAccount, input: ProviderRequestInput): Promise<UpstreamRequest> {
    const credentials = azureCredentials(account);
    return Promise.resolve(
      jsonPost(account, input, this.requestHeaders, azureOpenAICredentialHeaders(credentials)),
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

import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import { forwardableRequestHeaders } from 'src/modules/relay/headers';
import type {
  PassthroughAdjustment,
  ProviderAdapter,
  ProviderEndpoint,
  ProviderRequestInput,
  UsageTap,
} from 'src/modules/relay/relay.types';
import type { RelayOperation, WireFormat } from 'src/modules/relay/wire-format';
import {
  azureDeploymentName,
  azureOpenAICredentialHeaders,
  azureOpenAIEndpoint,
} from 'src/modules/accounts/types/azure-openai';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { chatStreamUsagePassthrough } from '../openai/chat-stream-usage';
import { openAITap, openAIUsageFromBody } from '../openai/openai-formats';
import {
  classifyOpenAIFailure,
  OPENAI_REQUEST_HEADERS,
  openAIPath,
} from '../openai/openai-request';

type AzureCredentials = Extract<RoutableAccount['credentials'], { type: 'azure-openai' }>;

function azureCredentials(account: RoutableAccount): AzureCredentials {
  const credentials = account.credentials;
  if (credentials.type !== 'azure-openai')
    throw new Error(`azure-openai provider given a ${credentials.type} account`);
  return credentials;
}

/**
 * Azure OpenAI for `azure-openai` accounts: the resource endpoint as the base URL, either
 * `/openai/deployments/{deployment}/…?api-version=…` (the deployment mapped from the model name)
 * or the `/openai/v1/…` shape; the key as `api-key`, or an Entra ID token as a bearer.
 */
export class AzureOpenAIProvider implements ProviderAdapter {
  readonly id = 'azure-openai' as const;
  readonly formats = ['openai-responses', 'openai-chat'] as const;
  readonly requestHeaders = OPENAI_REQUEST_HEADERS;

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
    const headers = forwardableRequestHeaders(input.headers, this.requestHeaders);
    headers['content-type'] = 'application/json';
    Object.assign(headers, azureOpenAICredentialHeaders(credentials));
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

import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import type { ProviderId } from 'src/modules/accounts/types/account-type.descriptor';
import type {
  ProviderAdapter,
  ProviderEndpoint,
  ProviderRequestInput,
  UsageTap,
} from 'src/modules/relay/relay.types';
import type { RelayOperation, WireFormat } from 'src/modules/relay/wire-format';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { openAITap, openAIUsageFromBody } from '../openai/openai-formats';
import { classifyOpenAIFailure, OPENAI_REQUEST_HEADERS } from '../openai/openai-request';

/**
 * What every provider of OpenAI's wire formats shares (OpenAI, Azure OpenAI, openai-compatible
 * servers, Codex): the client headers OpenAI's APIs read, failures read as OpenAI's, and usage
 * from Chat Completions and Responses bodies and streams. Each says where it sends and how it
 * authenticates.
 */
export abstract class OpenAIWireProvider implements ProviderAdapter {
  abstract readonly id: ProviderId;
  abstract readonly formats: readonly WireFormat[];
  readonly requestHeaders = OPENAI_REQUEST_HEADERS;

  abstract endpoint(
    account: RoutableAccount,
    format: WireFormat,
    operation: RelayOperation,
    model: string,
    stream: boolean,
  ): ProviderEndpoint;

  abstract buildRequest(
    account: RoutableAccount,
    input: ProviderRequestInput,
  ): Promise<UpstreamRequest>;

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
}

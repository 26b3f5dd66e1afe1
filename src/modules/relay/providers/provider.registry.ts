import { Injectable } from '@nestjs/common';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import type { ProviderId } from 'src/modules/accounts/types/account-type.descriptor';
import { descriptorOf } from 'src/modules/accounts/types/account-types.registry';
import type { ProviderAdapter } from 'src/modules/relay/relay.types';
import { AnthropicProvider } from './anthropic/anthropic.provider';
import { AzureOpenAIProvider } from './azure-openai/azure-openai.provider';
import { CodeAssistProvider } from './code-assist/code-assist.provider';
import { BedrockProvider } from './bedrock/bedrock.provider';
import { CodexProvider } from './codex/codex.provider';
import { DroidProvider } from './droid/droid.provider';
import { GeminiProvider } from './gemini/gemini.provider';
import { OpenAIProvider } from './openai/openai.provider';
import { OpenAICompatibleProvider } from './openai-compatible/openai-compatible.provider';

/** One line per provider: adding a wire family adds its folder and a line here. */
const PROVIDERS: Record<ProviderId, ProviderAdapter> = {
  anthropic: new AnthropicProvider(),
  openai: new OpenAIProvider(),
  codex: new CodexProvider(),
  'azure-openai': new AzureOpenAIProvider(),
  gemini: new GeminiProvider(),
  'code-assist': new CodeAssistProvider(),
  bedrock: new BedrockProvider(),
  'openai-compatible': new OpenAICompatibleProvider(),
  droid: new DroidProvider(),
};

/** Resolves the provider adapter of an account from its type's descriptor, on every attempt. */
@Injectable()
export class ProviderRegistry {
  forAccount(account: RoutableAccount): ProviderAdapter {
    return PROVIDERS[descriptorOf(account.type).provider];
  }

  byId(id: ProviderId): ProviderAdapter {
    return PROVIDERS[id];
  }
}

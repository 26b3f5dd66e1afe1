import { Injectable } from '@nestjs/common';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import type { ProviderId } from 'src/modules/accounts/types/account-type.descriptor';
import { descriptorOf } from 'src/modules/accounts/types/account-types.registry';
import type { ProviderAdapter } from 'src/modules/relay/relay.types';
import { AnthropicProvider } from './anthropic/anthropic.provider';

// TEMPORARY (h/oaitypes): the openai, codex-oauth and azure-openai account types landed before
// their providers. Each placeholder answers its id and throws on any other use; replace the three
// `placeholder(...)` lines below with the real adapters, then delete this function.
function placeholder(id: ProviderId): ProviderAdapter {
  return new Proxy({} as ProviderAdapter, {
    get(_target, property) {
      if (property === 'id') return id;
      if (property === 'then') return undefined;
      throw new Error(
        `the ${id} provider is not implemented yet (placeholder in provider.registry.ts)`,
      );
    },
  });
}

/** One line per provider: adding a wire family adds its folder and a line here. */
const PROVIDERS: Record<ProviderId, ProviderAdapter> = {
  anthropic: new AnthropicProvider(),
  openai: placeholder('openai'), // TEMPORARY placeholder (h/oaitypes)
  codex: placeholder('codex'), // TEMPORARY placeholder (h/oaitypes)
  'azure-openai': placeholder('azure-openai'), // TEMPORARY placeholder (h/oaitypes)
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

import { Injectable } from '@nestjs/common';
import type { AccountType, RoutableAccount } from 'src/modules/accounts/account.types';
import type { ProviderId } from 'src/modules/accounts/types/account-type.descriptor';
import type { ProviderAdapter } from 'src/modules/relay/relay.types';
import { AnthropicProvider } from './anthropic/anthropic.provider';

/** Which provider serves each account type (moves to the account-type descriptors). */
const PROVIDER_OF_TYPE: Record<AccountType, ProviderId> = {
  'claude-oauth': 'anthropic',
  'claude-console': 'anthropic',
  ccr: 'anthropic',
};

/** One line per provider: adding a wire family adds its folder and a line here. */
const PROVIDERS: Record<ProviderId, ProviderAdapter> = {
  anthropic: new AnthropicProvider(),
};

/** Resolves the provider adapter of an account from its type, on every attempt. */
@Injectable()
export class ProviderRegistry {
  forAccount(account: RoutableAccount): ProviderAdapter {
    return PROVIDERS[PROVIDER_OF_TYPE[account.type]];
  }

  byId(id: ProviderId): ProviderAdapter {
    return PROVIDERS[id];
  }
}

import type { AccountTypeDescriptor } from './account-type.descriptor';
import {
  anthropicApiKeyFields,
  describeAnthropicApiKey,
  parseAnthropicApiKey,
  type AnthropicApiKeyCredentials,
  type AnthropicApiKeySummary,
} from './anthropic.api-key';
import { anthropicHealthRules } from './anthropic.health-rules';
import { ANTHROPIC_MODEL_FAMILIES, anthropicModelFamily } from './anthropic.model-families';
import { anthropicTestRequest } from './anthropic.test-request';

/** Another relay that speaks the Anthropic API, reached with a key it issued. */
export type CcrCredentials = AnthropicApiKeyCredentials<'ccr'>;

const FIELDS = anthropicApiKeyFields('the API key the other relay issued');

export const ccrDescriptor: AccountTypeDescriptor<CcrCredentials, AnthropicApiKeySummary<'ccr'>> = {
  type: 'ccr',
  platform: 'claude',
  label: 'Another Claude relay (ccr)',
  provider: 'anthropic',
  credentialFields: FIELDS,
  parseCredentials: (input) => parseAnthropicApiKey('ccr', FIELDS, input),
  describeCredentials: describeAnthropicApiKey,
  // No default: the relay's own URL is the whole point of such an account.
  defaultBaseUrlSetting: null,
  health: anthropicHealthRules,
  modelFamilies: ANTHROPIC_MODEL_FAMILIES,
  modelFamily: anthropicModelFamily,
  supportsSubscription: false,
  testRequest: anthropicTestRequest,
  hasRefresher: false,
};

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

/** An Anthropic Console (API platform) key, billed per token. */
export type ClaudeConsoleCredentials = AnthropicApiKeyCredentials<'claude-console'>;

const FIELDS = anthropicApiKeyFields('an Anthropic Console API key (sk-ant-api03-…)');

export const claudeConsoleDescriptor: AccountTypeDescriptor<
  ClaudeConsoleCredentials,
  AnthropicApiKeySummary<'claude-console'>
> = {
  type: 'claude-console',
  platform: 'claude',
  label: 'Claude Console (API key)',
  provider: 'anthropic',
  credentialFields: FIELDS,
  parseCredentials: (input) => parseAnthropicApiKey('claude-console', FIELDS, input),
  describeCredentials: describeAnthropicApiKey,
  defaultBaseUrlSetting: 'ANTHROPIC_BASE_URL',
  health: anthropicHealthRules,
  modelFamilies: ANTHROPIC_MODEL_FAMILIES,
  modelFamily: anthropicModelFamily,
  supportsSubscription: false,
  testRequest: anthropicTestRequest,
  hasRefresher: false,
};

import type {
  AccountTypeDescriptor,
  CredentialField,
} from 'src/modules/accounts/types/account-type.descriptor';
import { anthropicHealthRules } from 'src/modules/accounts/types/anthropic.health-rules';
import { anthropicTestRequest } from 'src/modules/accounts/types/anthropic.test-request';
import { maskSecret, parseCredentialFields } from 'src/modules/accounts/types/credential-fields';
import type { CodexOAuthCredentials } from 'src/modules/oauth/codex/codex-oauth.credentials';

/**
 * PROVISIONAL, for the Codex OAuth specs only: a codex-oauth descriptor standing in for the real
 * one (src/modules/accounts/types/codex-oauth.ts) until it lands from its branch. The specs
 * register it with `withProvisionalCodexDescriptor` (a jest.mock of the registry). Delete this
 * file and that mock once the real descriptor is in the registry. Only the credential fields
 * matter here: health rules, provider and base URL are borrowed and never exercised.
 */
const FIELDS: readonly CredentialField[] = [
  { name: 'accessToken', required: true, secret: true, kind: 'string', description: 'access' },
  { name: 'refreshToken', required: false, secret: true, kind: 'string', description: 'refresh' },
  { name: 'idToken', required: false, secret: true, kind: 'string', description: 'id_token' },
  { name: 'accountId', required: true, secret: false, kind: 'string', description: 'account' },
  { name: 'expiresAt', required: false, secret: false, kind: 'timestamp', description: 'exp' },
];

export const provisionalCodexOAuthDescriptor: AccountTypeDescriptor<
  CodexOAuthCredentials,
  { type: 'codex-oauth'; readable: true; accessTokenHint: string; hasRefreshToken: boolean }
> = {
  type: 'codex-oauth',
  platform: 'openai',
  label: 'ChatGPT subscription (Codex OAuth)',
  provider: 'anthropic',
  credentialFields: FIELDS,
  parseCredentials: (input) =>
    parseCredentialFields('codex-oauth', FIELDS, input) as unknown as CodexOAuthCredentials,
  describeCredentials: (credentials) => ({
    type: 'codex-oauth',
    readable: true,
    accessTokenHint: maskSecret(credentials.accessToken),
    hasRefreshToken: credentials.refreshToken !== undefined,
  }),
  defaultBaseUrlSetting: 'ANTHROPIC_BASE_URL',
  health: anthropicHealthRules,
  modelFamilies: ['other'],
  modelFamily: () => 'other',
  supportsSubscription: true,
  testRequest: anthropicTestRequest,
  hasRefresher: true,
};

/**
 * The account-types registry with the provisional descriptor added, for
 * `jest.mock('src/modules/accounts/types/account-types.registry', withProvisionalCodexDescriptor)`.
 */
export function withProvisionalCodexDescriptor(): Record<string, unknown> {
  const actual = jest.requireActual<Record<string, unknown>>(
    'src/modules/accounts/types/account-types.registry',
  );
  const base = (actual.accountTypeDescriptors as () => readonly { type: string }[])();
  if (base.some((descriptor) => descriptor.type === 'codex-oauth')) return actual;
  const descriptors = [...base, provisionalCodexOAuthDescriptor];
  const byType = new Map<string, unknown>(descriptors.map((d) => [d.type, d]));
  return {
    ...actual,
    ACCOUNT_TYPES: descriptors.map((d) => d.type),
    isAccountType: (value: string) => byType.has(value),
    descriptorOf: (type: string) => {
      const descriptor = byType.get(type);
      if (descriptor === undefined) throw new Error(`unknown account type ${type}`);
      return descriptor;
    },
    findDescriptor: (type: string) => byType.get(type),
    accountTypeDescriptors: () => descriptors,
  };
}

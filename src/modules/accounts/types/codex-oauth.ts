import { AccountsException, AccountsExceptionCode } from '../accounts.exception';
import type { AccountSubscription } from '../account.types';
import type { AccountTypeDescriptor, CredentialField } from './account-type.descriptor';
import { maskSecret, parseCredentialFields } from './credential-fields';
import { expiryOf, isJwt, jwtClaims, nestedClaim } from './jwt-claims';
import { openAIHealthRules } from './openai.health-rules';
import { OPENAI_MODEL_FAMILIES, openAIModelFamily } from './openai.model-families';
import { codexTestRequest } from './openai.test-request';

/** A ChatGPT subscription (Plus, Pro, Business, …) reached with Codex CLI's sign-in tokens. */
export interface CodexOAuthCredentials {
  type: 'codex-oauth';
  accessToken: string;
  /** Lets the oauth module renew the access token. */
  refreshToken?: string;
  /** Codex's `id_token`: names the ChatGPT account, the plan and the email. */
  idToken?: string;
  /** The ChatGPT account (workspace) id, sent as `chatgpt-account-id`. */
  accountId: string;
  /** Epoch ms. */
  expiresAt?: number;
}

export interface CodexOAuthCredentialsSummary {
  type: 'codex-oauth';
  readable: true;
  accessTokenHint: string;
  hasRefreshToken: boolean;
  hasIdToken: boolean;
  accountId: string;
  /** ISO 8601, null when unknown. */
  expiresAt: string | null;
}

/** Where OpenAI's tokens keep the ChatGPT facts (as codex-rs reads them, token_data.rs). */
const AUTH_CLAIM = 'https://api.openai.com/auth';

const FIELDS: readonly CredentialField[] = [
  {
    name: 'accessToken',
    required: true,
    secret: true,
    kind: 'string',
    description: "the access token (tokens.access_token in Codex's auth.json), a JWT",
  },
  {
    name: 'refreshToken',
    required: false,
    secret: true,
    kind: 'string',
    description:
      'the refresh token (tokens.refresh_token): without it the account stops when the access token expires',
  },
  {
    name: 'idToken',
    required: false,
    secret: true,
    kind: 'string',
    description:
      'the ID token (tokens.id_token): fills in accountId, and the plan and email of the subscription',
  },
  {
    name: 'accountId',
    required: false,
    secret: false,
    kind: 'string',
    description:
      'the ChatGPT account id (tokens.account_id), sent as chatgpt-account-id; read from idToken when omitted',
  },
  {
    name: 'expiresAt',
    required: false,
    secret: false,
    kind: 'timestamp',
    description:
      'when the access token expires: epoch ms or ISO 8601 (taken from the token itself when it says)',
  },
];

function credentialsError(message: string): AccountsException {
  return new AccountsException(AccountsExceptionCode.INVALID_CREDENTIALS_SHAPE, message);
}

/**
 * Codex credentials, normalised. `accountId` comes from the admin, else from the ID token's (then
 * the access token's) `chatgpt_account_id` claim. The access token's own `exp` wins over a given
 * `expiresAt`: after a new token is pasted over an old one, a kept `expiresAt` would be stale.
 */
export function parseCodexOAuthCredentials(input: unknown): CodexOAuthCredentials {
  // The fields mirror CodexOAuthCredentials; accountId is checked below.
  const parsed = parseCredentialFields(
    'codex-oauth',
    FIELDS,
    input,
  ) as unknown as Partial<CodexOAuthCredentials> & { type: 'codex-oauth'; accessToken: string };
  if (parsed.idToken !== undefined && !isJwt(parsed.idToken)) {
    throw credentialsError(
      "credentials.idToken must be a JWT (tokens.id_token in Codex's auth.json)",
    );
  }
  const idClaims = parsed.idToken === undefined ? null : jwtClaims(parsed.idToken);
  const accessClaims = jwtClaims(parsed.accessToken);
  const accountId =
    parsed.accountId ??
    nestedClaim(idClaims, AUTH_CLAIM, 'chatgpt_account_id') ??
    nestedClaim(accessClaims, AUTH_CLAIM, 'chatgpt_account_id');
  if (accountId === undefined) {
    throw credentialsError(
      'credentials.accountId is required for codex-oauth accounts when no idToken names it ' +
        '(tokens.account_id in auth.json)',
    );
  }
  const expiresAt = expiryOf(accessClaims) ?? parsed.expiresAt;
  const credentials: CodexOAuthCredentials = {
    type: 'codex-oauth',
    accessToken: parsed.accessToken,
    accountId,
  };
  if (parsed.refreshToken !== undefined) credentials.refreshToken = parsed.refreshToken;
  if (parsed.idToken !== undefined) credentials.idToken = parsed.idToken;
  if (expiresAt !== undefined) credentials.expiresAt = expiresAt;
  return credentials;
}

/** The plan and email the ID token names (`chatgpt_plan_type`, `email`), or null. */
export function codexSubscription(credentials: CodexOAuthCredentials): AccountSubscription | null {
  if (credentials.idToken === undefined) return null;
  const claims = jwtClaims(credentials.idToken);
  const subscription: AccountSubscription = {};
  const plan = nestedClaim(claims, AUTH_CLAIM, 'chatgpt_plan_type');
  if (plan !== undefined) subscription.plan = plan;
  const email = claims?.email;
  if (typeof email === 'string' && email.trim() !== '') subscription.email = email.trim();
  return Object.keys(subscription).length === 0 ? null : subscription;
}

/** The request headers that carry these credentials, as Codex CLI sends them. */
export function codexCredentialHeaders(credentials: CodexOAuthCredentials): Record<string, string> {
  return {
    authorization: `Bearer ${credentials.accessToken}`,
    'chatgpt-account-id': credentials.accountId,
  };
}

export const codexOAuthDescriptor: AccountTypeDescriptor<
  CodexOAuthCredentials,
  CodexOAuthCredentialsSummary
> = {
  type: 'codex-oauth',
  platform: 'openai',
  label: 'ChatGPT subscription for Codex (OAuth)',
  provider: 'codex',
  credentialFields: FIELDS,
  parseCredentials: parseCodexOAuthCredentials,
  describeCredentials: (credentials) => ({
    type: 'codex-oauth',
    readable: true,
    accessTokenHint: maskSecret(credentials.accessToken),
    hasRefreshToken: credentials.refreshToken !== undefined,
    hasIdToken: credentials.idToken !== undefined,
    accountId: credentials.accountId,
    expiresAt:
      credentials.expiresAt === undefined ? null : new Date(credentials.expiresAt).toISOString(),
  }),
  defaultBaseUrlSetting: 'CODEX_BASE_URL',
  health: openAIHealthRules,
  modelFamilies: OPENAI_MODEL_FAMILIES,
  modelFamily: openAIModelFamily,
  supportsSubscription: true,
  subscriptionFromCredentials: codexSubscription,
  testRequest: codexTestRequest,
  // TEMPORARY (h/oaitypes): true once the Codex refresher (src/modules/oauth/codex/) is
  // registered; CredentialRefreshService refuses to boot while the two disagree.
  hasRefresher: true,
};

import type {
  AccountTypeDescriptor,
  CredentialField,
  TestRequest,
} from './account-type.descriptor';
import { maskSecret, parseCredentialFields } from './credential-fields';
import { geminiOAuthHealthRules } from './gemini-oauth.health-rules';
import { GEMINI_MODEL_FAMILIES, geminiModelFamily } from './gemini.model-families';

/**
 * A Google account used through Code Assist (`cloudcode-pa.googleapis.com`), the API behind
 * Gemini CLI's "Login with Google": an OAuth access token (refreshed with the refresh token by
 * the oauth module) and the Code Assist project the account was onboarded to, which every
 * request names.
 */
export interface GeminiOAuthCredentials {
  type: 'gemini-oauth';
  accessToken: string;
  /** Lets the oauth module renew the access token (Google's tokens live one hour). */
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt?: number;
  /** The Code Assist project (`cloudaicompanionProject`) requests are billed to. */
  projectId: string;
}

export interface GeminiOAuthCredentialsSummary {
  type: 'gemini-oauth';
  readable: true;
  accessTokenHint: string;
  hasRefreshToken: boolean;
  projectId: string;
  /** ISO 8601, null when unknown. */
  expiresAt: string | null;
}

const FIELDS: readonly CredentialField[] = [
  {
    name: 'accessToken',
    required: true,
    secret: true,
    kind: 'string',
    description: "the Google OAuth access token (access_token in Gemini CLI's oauth_creds.json)",
  },
  {
    name: 'refreshToken',
    required: false,
    secret: true,
    kind: 'string',
    description:
      'the refresh token (refresh_token): without it the account stops when the access token expires',
  },
  {
    name: 'expiresAt',
    required: false,
    secret: false,
    kind: 'timestamp',
    description: 'when the access token expires (expiry_date): epoch ms or ISO 8601',
  },
  {
    name: 'projectId',
    required: true,
    secret: false,
    kind: 'string',
    description:
      'the Code Assist project (cloudaicompanionProject) the account is onboarded to; the login finds or onboards it',
  },
];

export function parseGeminiOAuthCredentials(input: unknown): GeminiOAuthCredentials {
  // The fields mirror GeminiOAuthCredentials.
  const parsed = parseCredentialFields(
    'gemini-oauth',
    FIELDS,
    input,
  ) as unknown as GeminiOAuthCredentials;
  const credentials: GeminiOAuthCredentials = {
    type: 'gemini-oauth',
    accessToken: parsed.accessToken,
    projectId: parsed.projectId,
  };
  if (parsed.refreshToken !== undefined) credentials.refreshToken = parsed.refreshToken;
  if (parsed.expiresAt !== undefined) credentials.expiresAt = parsed.expiresAt;
  return credentials;
}

/** One output token through Code Assist (the provider adds the account's project). */
export const codeAssistTestRequest: TestRequest = {
  defaultModel: 'gemini-2.5-flash',
  build: (model) => ({
    method: 'POST',
    path: '/v1internal:generateContent',
    body: {
      model,
      request: {
        contents: [{ role: 'user', parts: [{ text: 'ping' }] }],
        generationConfig: { maxOutputTokens: 1 },
      },
    },
  }),
};

export const geminiOAuthDescriptor: AccountTypeDescriptor<
  GeminiOAuthCredentials,
  GeminiOAuthCredentialsSummary
> = {
  type: 'gemini-oauth',
  platform: 'gemini',
  label: 'Google account for Gemini (Code Assist, OAuth)',
  provider: 'code-assist',
  credentialFields: FIELDS,
  parseCredentials: parseGeminiOAuthCredentials,
  describeCredentials: (credentials) => ({
    type: 'gemini-oauth',
    readable: true,
    accessTokenHint: maskSecret(credentials.accessToken),
    hasRefreshToken: credentials.refreshToken !== undefined,
    projectId: credentials.projectId,
    expiresAt:
      credentials.expiresAt === undefined ? null : new Date(credentials.expiresAt).toISOString(),
  }),
  defaultBaseUrlSetting: 'CODE_ASSIST_BASE_URL',
  health: geminiOAuthHealthRules,
  modelFamilies: GEMINI_MODEL_FAMILIES,
  modelFamily: geminiModelFamily,
  supportsSubscription: true,
  testRequest: codeAssistTestRequest,
  hasRefresher: true,
};

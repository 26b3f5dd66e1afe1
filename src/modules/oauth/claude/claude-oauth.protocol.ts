import type { AccountSubscription } from 'src/modules/accounts/account.types';
import { generatePkcePair, type PkcePair } from '../oauth-pkce';

/**
 * The OAuth login of Claude Code (2.1.332, the version pinned beside the project), as its bundle
 * does it: the sign-in at claude.ai with Claude Code's public client, PKCE S256, the manual
 * redirect (a page on platform.claude.com that shows `code#state` to paste back), the JSON token
 * exchange, and the profile that names the subscription. Also `claude setup-token`: the same
 * sign-in asking for `user:inference` alone and a token valid one year, with no refresh token.
 * Pure functions: no I/O, no clock but what is passed in.
 */

/**
 * The scopes of Claude Code's claude.ai login, in its order: org:create_api_key and user:profile,
 * then what its sessions use (user:inference first), user:plugins and
 * user:privacy_consents:write (both registered in its production config).
 */
export const CLAUDE_LOGIN_SCOPES: readonly string[] = [
  'org:create_api_key',
  'user:profile',
  'user:inference',
  'user:sessions:claude_code',
  'user:mcp_servers',
  'user:file_upload',
  'user:plugins',
  'user:privacy_consents:write',
];

/** `claude setup-token`: an inference-only token. */
export const CLAUDE_SETUP_TOKEN_SCOPES: readonly string[] = ['user:inference'];

/** What `claude setup-token` asks the token endpoint for (`expires_in`): one year, in seconds. */
export const CLAUDE_SETUP_TOKEN_TTL_SECONDS = 31_536_000;

/** The beta that lets an OAuth bearer call Anthropic's API (Claude Code's `oauth-2025-04-20`). */
export const CLAUDE_OAUTH_BETA = 'oauth-2025-04-20';

/** The two logins: a subscription login (refreshable) or a long-lived setup token. */
export type ClaudeLoginVariant = 'login' | 'setup-token';

export function isClaudeLoginVariant(value: string | undefined): value is ClaudeLoginVariant {
  return value === 'login' || value === 'setup-token';
}

export function scopesOf(variant: ClaudeLoginVariant): readonly string[] {
  return variant === 'setup-token' ? CLAUDE_SETUP_TOKEN_SCOPES : CLAUDE_LOGIN_SCOPES;
}

/** 32 random bytes as the verifier (43 characters), as Claude Code does. */
export function generatePkce(): PkcePair {
  return generatePkcePair(32);
}

export interface AuthorizeParams {
  authorizeUrl: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  codeChallenge: string;
  state: string;
}

/** The URL the admin opens to sign in: Claude Code's query, parameter for parameter. */
export function buildAuthorizeUrl(params: AuthorizeParams): string {
  const url = new URL(params.authorizeUrl);
  const query: [string, string][] = [
    // Asks the authorization server to show the code (code#state) on the manual redirect page.
    ['code', 'true'],
    ['client_id', params.clientId],
    ['response_type', 'code'],
    ['redirect_uri', params.redirectUri],
    ['scope', params.scopes.join(' ')],
    ['code_challenge', params.codeChallenge],
    ['code_challenge_method', 'S256'],
    ['state', params.state],
  ];
  for (const [name, value] of query) url.searchParams.set(name, value);
  return url.toString();
}

/** What the authorization server gave back to paste: the code and the login's state, or an error. */
export interface CallbackParams {
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** `code#state`, as the manual redirect page shows it (Claude Code splits it on `#`). */
function splitCodeAndState(text: string): CallbackParams | null {
  const parts = text.split('#');
  if (parts.length !== 2) return null;
  const [code, state] = parts.map((part) => part.trim());
  if (!code || !state || /\s/.test(code) || /\s/.test(state)) return null;
  return { code, state };
}

/**
 * What the admin pasted back, when it carries more than a bare code: the `code#state` the page
 * showed, the whole URL the browser landed on (`https://platform.claude.com/oauth/code/callback?
 * code=…&state=…`, with an `error` instead when the sign-in was refused), or its query string.
 * Null for anything else (a bare code is not a callback).
 */
export function parseCallbackUrl(text: string): CallbackParams | null {
  const trimmed = text.trim();
  let search: URLSearchParams;
  let fragment = '';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    try {
      const url = new URL(trimmed);
      search = url.searchParams;
      fragment = url.hash.replace(/^#/, '');
    } catch {
      return null;
    }
  } else if (/^\??[^\s=&#]+=/.test(trimmed)) {
    search = new URLSearchParams(trimmed.replace(/^\?/, ''));
  } else {
    return splitCodeAndState(trimmed);
  }
  const params: CallbackParams = {};
  let code = nonEmpty(search.get('code'));
  let state = nonEmpty(search.get('state'));
  // `…/callback?code=abc#state` and `code=abc#state` carry the state after the `#`.
  if (state === undefined && fragment !== '' && !fragment.includes('=')) state = fragment;
  if (code?.includes('#') === true) {
    const split = splitCodeAndState(code);
    if (split === null) return null;
    code = split.code;
    state ??= split.state;
  }
  const error = nonEmpty(search.get('error'));
  const errorDescription = nonEmpty(search.get('error_description'));
  if (code === undefined && error === undefined) return null;
  if (code !== undefined) params.code = code;
  if (state !== undefined) params.state = state;
  if (error !== undefined) params.error = error;
  if (errorDescription !== undefined) params.errorDescription = errorDescription;
  return params;
}

/** The token endpoint's answer to a code exchange (Claude Code's formatTokens reads these). */
export interface ClaudeTokens {
  accessToken: string;
  refreshToken?: string;
  /** Seconds. */
  expiresIn?: number;
  scopes: string[];
  account?: { uuid?: string; email?: string };
  organization?: { uuid?: string; name?: string };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function objectAt(value: unknown, key: string): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const inner = (value as Record<string, unknown>)[key];
  return typeof inner === 'object' && inner !== null && !Array.isArray(inner)
    ? (inner as Record<string, unknown>)
    : undefined;
}

/**
 * The tokens of a code exchange's answer (`access_token`, `refresh_token`, `expires_in`,
 * `scope`, `account {uuid, email_address}`, `organization {uuid, name}`); null without an
 * access token.
 */
export function tokensFromResponse(body: unknown): ClaudeTokens | null {
  if (typeof body !== 'object' || body === null) return null;
  const record = body as Record<string, unknown>;
  const accessToken = text(record.access_token);
  if (accessToken === undefined) return null;
  const tokens: ClaudeTokens = {
    accessToken,
    scopes: (text(record.scope) ?? '').split(' ').filter((scope) => scope !== ''),
  };
  const refreshToken = text(record.refresh_token);
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
  if (typeof record.expires_in === 'number' && Number.isFinite(record.expires_in)) {
    tokens.expiresIn = record.expires_in;
  }
  const account = objectAt(record, 'account');
  if (account !== undefined) {
    const uuid = text(account.uuid);
    const email = text(account.email_address);
    tokens.account = {
      ...(uuid !== undefined ? { uuid } : {}),
      ...(email !== undefined ? { email } : {}),
    };
  }
  const organization = objectAt(record, 'organization');
  if (organization !== undefined) {
    const uuid = text(organization.uuid);
    const name = text(organization.name);
    tokens.organization = {
      ...(uuid !== undefined ? { uuid } : {}),
      ...(name !== undefined ? { name } : {}),
    };
  }
  return tokens;
}

/** Claude Code's map of `organization.organization_type` to the subscription it names. */
const PLAN_OF_ORGANIZATION_TYPE: Readonly<Record<string, string>> = {
  claude_max: 'max',
  claude_pro: 'pro',
  claude_enterprise: 'enterprise',
  claude_team: 'team',
};

/** What `GET /api/oauth/profile` says of the login, as a subscription's facts. */
export interface ClaudeProfile {
  /** max, pro, team, enterprise, or free (a claude.ai account without a paid plan). */
  plan: string;
  email?: string;
  accountUuid?: string;
  organizationUuid?: string;
  organizationName?: string;
}

/**
 * The subscription a profile names: the organization's type first (as Claude Code reads it),
 * else the account's has_claude_max / has_claude_pro flags, else free. Null when the answer is
 * no profile (no account object).
 */
export function profileFromResponse(body: unknown): ClaudeProfile | null {
  const account = objectAt(body, 'account');
  if (account === undefined) return null;
  const organization = objectAt(body, 'organization') ?? {};
  const organizationType = text(organization.organization_type);
  const plan =
    (organizationType !== undefined ? PLAN_OF_ORGANIZATION_TYPE[organizationType] : undefined) ??
    (account.has_claude_max === true ? 'max' : account.has_claude_pro === true ? 'pro' : 'free');
  const profile: ClaudeProfile = { plan };
  const email = text(account.email) ?? text(account.email_address);
  const accountUuid = text(account.uuid);
  const organizationUuid = text(organization.uuid);
  const organizationName = text(organization.name);
  if (email !== undefined) profile.email = email;
  if (accountUuid !== undefined) profile.accountUuid = accountUuid;
  if (organizationUuid !== undefined) profile.organizationUuid = organizationUuid;
  if (organizationName !== undefined) profile.organizationName = organizationName;
  return profile;
}

/**
 * The account's subscription facts: the profile's, over what the token answer said (account and
 * organization), with the scopes granted. Null when nothing is known.
 */
export function subscriptionFrom(
  tokens: ClaudeTokens,
  profile: ClaudeProfile | null,
): AccountSubscription | null {
  const facts: AccountSubscription = {};
  const email = profile?.email ?? tokens.account?.email;
  const accountUuid = profile?.accountUuid ?? tokens.account?.uuid;
  const organizationUuid = profile?.organizationUuid ?? tokens.organization?.uuid;
  const organizationName = profile?.organizationName ?? tokens.organization?.name;
  if (profile !== null) facts.plan = profile.plan;
  if (email !== undefined) facts.email = email;
  if (organizationName !== undefined) facts.organizationName = organizationName;
  if (organizationUuid !== undefined) facts.organizationUuid = organizationUuid;
  if (accountUuid !== undefined) facts.accountUuid = accountUuid;
  if (tokens.scopes.length > 0) facts.scopes = tokens.scopes;
  return Object.keys(facts).length === 0 ? null : facts;
}

/** A token endpoint error, short and without secrets (error bodies carry none). */
export function tokenErrorDetail(status: number, body: unknown): string {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const nested = objectAt(record, 'error');
  const code = text(record.error) ?? text(nested?.type);
  const message = text(record.error_description) ?? text(nested?.message);
  return [`token endpoint answered ${status}`, code, message?.slice(0, 200)]
    .filter(Boolean)
    .join(': ');
}

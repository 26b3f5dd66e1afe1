import { coordinationKeys } from 'src/infra/coordination/coordination.keys';

/**
 * Coordination keys of the Codex OAuth login. A login started on one instance can be finished on
 * any other: its PKCE verifier waits in the coordinator, keyed by the login's state. States are
 * checked well-formed (base64url) before they reach a key.
 */
export const codexOAuthKeys = {
  /** The pending login of one state: its PKCE verifier and redirect URI (JSON), short-lived. */
  login: (state: string): string => `oauth-login:codex:{${state}}`,
  /** One code exchange per login at a time (a code is spent by its first exchange). */
  loginLock: (state: string): string => coordinationKeys.lock(`oauth-login:${state}`),
} as const;

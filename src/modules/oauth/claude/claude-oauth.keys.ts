import { coordinationKeys } from 'src/infra/coordination/coordination.keys';

/**
 * Coordination keys of the Claude (claude-oauth) login. A login started on one instance can be
 * finished on any other: its PKCE verifier waits in the coordinator, keyed by the login's state
 * (checked well-formed before it reaches a key).
 */
export const claudeOAuthKeys = {
  /** The pending login of one state: its PKCE verifier, redirect URI and variant (JSON). */
  login: (state: string): string => `oauth-login:claude:{${state}}`,
  /** One code exchange per login at a time (a code is spent by its first exchange). */
  loginLock: (state: string): string => coordinationKeys.lock(`oauth-login:claude:${state}`),
} as const;

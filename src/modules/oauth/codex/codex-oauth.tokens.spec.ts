import type { CodexOAuthCredentials } from './codex-oauth.credentials';
import { credentialsFromTokens, subscriptionFrom, tokensFromResponse } from './codex-oauth.tokens';

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.c2ln`;
}

const AUTH = 'https://api.openai.com/auth';
const NOW = 1_800_000_000_000;

const idToken = (accountId: string, plan = 'pro'): string =>
  jwt({
    email: 'dev@example.com',
    [AUTH]: { chatgpt_account_id: accountId, chatgpt_plan_type: plan, chatgpt_user_id: 'user-1' },
  });

const previous: CodexOAuthCredentials = {
  type: 'codex-oauth',
  accessToken: 'at-old',
  refreshToken: 'rt-old',
  idToken: idToken('acct-old', 'plus'),
  accountId: 'acct-old',
  expiresAt: NOW - 1000,
};

describe('codex OAuth tokens', () => {
  describe('tokensFromResponse', () => {
    it('should read the tokens of a token endpoint answer', () => {
      expect(
        tokensFromResponse({
          access_token: 'at',
          refresh_token: 'rt',
          id_token: 'it',
          expires_in: 3600,
          token_type: 'bearer',
        } as never),
      ).toEqual({ accessToken: 'at', refreshToken: 'rt', idToken: 'it', expiresIn: 3600 });
    });

    it('should answer null without an access token, and skip fields of the wrong kind', () => {
      expect(tokensFromResponse({ refresh_token: 'rt' })).toBeNull();
      expect(tokensFromResponse({ access_token: '' })).toBeNull();
      expect(
        tokensFromResponse({ access_token: 'at', refresh_token: 7, expires_in: '3600' }),
      ).toEqual({ accessToken: 'at' });
    });
  });

  describe('credentialsFromTokens', () => {
    it("should build a login's credentials, expiring at the access token's exp", () => {
      const accessToken = jwt({ exp: 1_800_003_600 });
      const outcome = credentialsFromTokens(
        { accessToken, refreshToken: 'rt-1', idToken: idToken('acct-1') },
        null,
        NOW,
      );

      expect(outcome).toEqual({
        ok: true,
        credentials: {
          type: 'codex-oauth',
          accessToken,
          refreshToken: 'rt-1',
          idToken: idToken('acct-1'),
          accountId: 'acct-1',
          expiresAt: 1_800_003_600_000,
        },
        identity: {
          email: 'dev@example.com',
          plan: 'pro',
          chatgptUserId: 'user-1',
          chatgptAccountId: 'acct-1',
        },
      });
    });

    it('should prefer the JWT exp to expires_in, and leave expiresAt out when neither says', () => {
      const both = credentialsFromTokens(
        { accessToken: jwt({ exp: 1_800_000_600 }), expiresIn: 864_000, accountId: 'a' },
        null,
        NOW,
      );
      const opaque = credentialsFromTokens(
        { accessToken: 'opaque', expiresIn: 864_000, accountId: 'a' },
        null,
        NOW,
      );
      const untimed = credentialsFromTokens({ accessToken: 'opaque', accountId: 'a' }, null, NOW);

      expect(both.ok && both.credentials.expiresAt).toBe(1_800_000_600_000);
      expect(opaque.ok && opaque.credentials.expiresAt).toBe(NOW + 864_000_000);
      expect(untimed.ok && untimed.credentials).toEqual({
        type: 'codex-oauth',
        accessToken: 'opaque',
        accountId: 'a',
      });
    });

    it('should keep the refresh token and id_token a refresh answer leaves out', () => {
      const outcome = credentialsFromTokens({ accessToken: 'at-new' }, previous, NOW);

      expect(outcome.ok && outcome.credentials).toEqual({
        type: 'codex-oauth',
        accessToken: 'at-new',
        refreshToken: 'rt-old',
        idToken: previous.idToken,
        accountId: 'acct-old',
      });
    });

    it('should take the rotated refresh token and the new id_token’s account when sent', () => {
      const outcome = credentialsFromTokens(
        { accessToken: 'at-new', refreshToken: 'rt-new', idToken: idToken('acct-new') },
        previous,
        NOW,
      );

      expect(outcome.ok && outcome.credentials).toMatchObject({
        refreshToken: 'rt-new',
        accountId: 'acct-new',
        idToken: idToken('acct-new'),
      });
    });

    it("should take the source's account id when the tokens carry no claim", () => {
      const outcome = credentialsFromTokens(
        { accessToken: 'opaque', accountId: 'from-auth-json' },
        null,
        NOW,
      );

      expect(outcome.ok && outcome.credentials.accountId).toBe('from-auth-json');
    });

    it('should refuse tokens that name no ChatGPT account', () => {
      expect(credentialsFromTokens({ accessToken: 'opaque' }, null, NOW)).toEqual({
        ok: false,
        detail: 'the tokens name no ChatGPT account (no chatgpt_account_id claim)',
      });
    });
  });

  describe('subscriptionFrom', () => {
    it('should merge what the tokens say over what was known', () => {
      expect(
        subscriptionFrom(
          { plan: 'pro', chatgptAccountId: 'acct-1' },
          { plan: 'plus', email: 'kept@example.com' },
        ),
      ).toEqual({ plan: 'pro', email: 'kept@example.com', organizationUuid: 'acct-1' });
    });

    it('should keep the current facts when the tokens say nothing', () => {
      expect(subscriptionFrom({}, null)).toBeNull();
      expect(subscriptionFrom({}, { plan: 'pro' })).toEqual({ plan: 'pro' });
    });
  });
});

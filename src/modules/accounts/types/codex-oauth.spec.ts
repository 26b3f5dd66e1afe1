import { AccountsException } from '../accounts.exception';
import {
  codexCredentialHeaders,
  codexOAuthDescriptor,
  codexSubscription,
  parseCodexOAuthCredentials,
} from './codex-oauth';

/** A JWT with these claims (unsigned: only the claims are read). */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

const AUTH = 'https://api.openai.com/auth';
const EXP = 1_900_000_000;

const idToken = jwt({
  email: 'dev@example.com',
  [AUTH]: {
    chatgpt_plan_type: 'pro',
    chatgpt_account_id: '0f6c3a9e-ws-from-id-token',
    chatgpt_user_id: 'user-1',
  },
});
const accessToken = jwt({ exp: EXP, [AUTH]: { chatgpt_account_id: 'ws-from-access-token' } });

function failure(input: unknown): string {
  try {
    parseCodexOAuthCredentials(input);
  } catch (error) {
    expect(error).toBeInstanceOf(AccountsException);
    return (error as Error).message;
  }
  throw new Error('expected the credentials to be refused');
}

describe('codex-oauth account type', () => {
  describe(parseCodexOAuthCredentials.name, () => {
    it("should take accountId from the ID token's chatgpt_account_id claim when none is given", () => {
      expect(parseCodexOAuthCredentials({ accessToken, refreshToken: 'rt-1', idToken })).toEqual({
        type: 'codex-oauth',
        accessToken,
        refreshToken: 'rt-1',
        idToken,
        accountId: '0f6c3a9e-ws-from-id-token',
        expiresAt: EXP * 1000,
      });
    });

    it('should keep an accountId the admin gives over the tokens', () => {
      expect(
        parseCodexOAuthCredentials({ accessToken, idToken, accountId: 'chosen' }).accountId,
      ).toBe('chosen');
    });

    it('should fall back to the access token claim when there is no ID token', () => {
      expect(parseCodexOAuthCredentials({ accessToken }).accountId).toBe('ws-from-access-token');
    });

    it("should take expiresAt from the access token's exp over a given one", () => {
      const stale = Date.parse('2025-01-01T00:00:00Z');
      expect(parseCodexOAuthCredentials({ accessToken, expiresAt: stale }).expiresAt).toBe(
        EXP * 1000,
      );
      const opaque = parseCodexOAuthCredentials({
        accessToken: 'opaque-token',
        accountId: 'acct',
        expiresAt: '2026-01-01T00:00:00Z',
      });
      expect(opaque.expiresAt).toBe(Date.parse('2026-01-01T00:00:00Z'));
    });

    it('should name what is missing or wrong without echoing a token', () => {
      expect(failure({ accessToken: 'opaque-SECRET-token' })).toBe(
        'credentials.accountId is required for codex-oauth accounts when no idToken names it (tokens.account_id in auth.json)',
      );
      expect(failure({ accessToken: 'a', idToken: 'not-a-SECRET-jwt' })).toBe(
        "credentials.idToken must be a JWT (tokens.id_token in Codex's auth.json)",
      );
      expect(failure({ idToken })).toBe(
        'credentials.accessToken is required for codex-oauth accounts',
      );
      expect(failure({ accessToken: 'a', accountId: 'x', apiKey: 'sk' })).toContain(
        'unexpected: apiKey',
      );
    });
  });

  describe(codexSubscription.name, () => {
    it('should read the plan and email of the ID token', () => {
      const credentials = parseCodexOAuthCredentials({ accessToken, idToken });
      expect(codexSubscription(credentials)).toEqual({ plan: 'pro', email: 'dev@example.com' });
      expect(codexOAuthDescriptor.subscriptionFromCredentials?.(credentials)).toEqual({
        plan: 'pro',
        email: 'dev@example.com',
      });
    });

    it('should have nothing to say without an ID token or when it names neither', () => {
      expect(codexSubscription(parseCodexOAuthCredentials({ accessToken }))).toBeNull();
      expect(
        codexSubscription(
          parseCodexOAuthCredentials({ accessToken, idToken: jwt({ sub: 'user-1' }) }),
        ),
      ).toBeNull();
    });
  });

  describe('describeCredentials', () => {
    it('should show hints and facts, never a token', () => {
      const summary = codexOAuthDescriptor.describeCredentials(
        parseCodexOAuthCredentials({ accessToken, idToken, refreshToken: 'rt-SECRET-0123456789' }),
      );
      expect(summary).toEqual({
        type: 'codex-oauth',
        readable: true,
        accessTokenHint: `${accessToken.slice(0, 7)}…${accessToken.slice(-4)}`,
        hasRefreshToken: true,
        hasIdToken: true,
        accountId: '0f6c3a9e-ws-from-id-token',
        expiresAt: new Date(EXP * 1000).toISOString(),
      });
      expect(JSON.stringify(summary)).not.toContain('SECRET');
      expect(JSON.stringify(summary)).not.toContain(idToken);
    });
  });

  describe(codexCredentialHeaders.name, () => {
    it('should send the token as a bearer and the account as chatgpt-account-id', () => {
      expect(
        codexCredentialHeaders(parseCodexOAuthCredentials({ accessToken: 'at', accountId: 'ws' })),
      ).toEqual({ authorization: 'Bearer at', 'chatgpt-account-id': 'ws' });
    });
  });

  describe('testRequest', () => {
    it('should stream an unstored Responses request, as the ChatGPT backend requires', () => {
      const test = codexOAuthDescriptor.testRequest;
      const request = test.build(test.defaultModel);
      expect(request).toMatchObject({
        method: 'POST',
        path: '/responses',
        body: { model: 'gpt-5.1-codex-mini', store: false, stream: true },
      });
      expect(request.body.instructions).toEqual(expect.any(String));
      // The backend refuses any output cap.
      expect(request.body).not.toHaveProperty('max_output_tokens');
    });
  });
});

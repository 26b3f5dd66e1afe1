import {
  buildAuthorizeUrl,
  classifyTokenFailure,
  codexIdentity,
  decodeJwtPayload,
  generatePkce,
  generateState,
  isWellFormedState,
  jwtExpiresAt,
  parseCallbackUrl,
  parsePastedCallback,
  pkceChallenge,
  tokenErrorDetail,
} from './codex-oauth.protocol';

/** An unsigned JWT with these claims (the code reads claims, never checks signatures). */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

const AUTH = 'https://api.openai.com/auth';

describe('codex OAuth protocol', () => {
  describe('pkceChallenge', () => {
    it('should hash the verifier as RFC 7636 appendix B does', () => {
      expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
        'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      );
    });
  });

  describe('generatePkce', () => {
    it('should make a fresh 86-character base64url verifier with its S256 challenge', () => {
      const a = generatePkce();
      const b = generatePkce();

      expect(a.codeVerifier).toMatch(/^[A-Za-z0-9_-]{86}$/);
      expect(a.codeChallenge).toBe(pkceChallenge(a.codeVerifier));
      expect(b.codeVerifier).not.toBe(a.codeVerifier);
    });
  });

  describe('generateState', () => {
    it('should make a well-formed, unguessable state', () => {
      const state = generateState();

      expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(isWellFormedState(state)).toBe(true);
      expect(generateState()).not.toBe(state);
    });

    it('should refuse states that could reach a key with braces or that are too short', () => {
      expect(isWellFormedState('short')).toBe(false);
      expect(isWellFormedState('aaaaaaaaaaaaaaaa}{bbbbbbbbbbbbbbb')).toBe(false);
      expect(isWellFormedState('a'.repeat(129))).toBe(false);
    });
  });

  describe('buildAuthorizeUrl', () => {
    it("should ask for Codex CLI's query at the configured authorize URL", () => {
      const url = new URL(
        buildAuthorizeUrl({
          authorizeUrl: 'https://auth.example.test/oauth/authorize',
          clientId: 'app_test',
          redirectUri: 'http://localhost:1455/auth/callback',
          codeChallenge: 'challenge-1',
          state: 'state-1',
        }),
      );

      expect(`${url.origin}${url.pathname}`).toBe('https://auth.example.test/oauth/authorize');
      expect(Object.fromEntries(url.searchParams)).toEqual({
        response_type: 'code',
        client_id: 'app_test',
        redirect_uri: 'http://localhost:1455/auth/callback',
        scope: 'openid profile email offline_access api.connectors.read api.connectors.invoke',
        code_challenge: 'challenge-1',
        code_challenge_method: 'S256',
        id_token_add_organizations: 'true',
        codex_cli_simplified_flow: 'true',
        state: 'state-1',
        originator: 'codex_cli_rs',
      });
    });
  });

  describe('parseCallbackUrl', () => {
    it('should read the code and state of the URL the browser landed on', () => {
      expect(
        parseCallbackUrl(
          '  http://localhost:1455/auth/callback?code=ac_1%2B2&scope=x&state=st-1 \n',
        ),
      ).toEqual({ code: 'ac_1+2', state: 'st-1' });
    });

    it('should read a query string pasted alone, with or without its question mark', () => {
      expect(parseCallbackUrl('?code=ac_1&state=st-1')).toEqual({ code: 'ac_1', state: 'st-1' });
      expect(parseCallbackUrl('state=st-1&code=ac_1')).toEqual({ code: 'ac_1', state: 'st-1' });
    });

    it('should read an OAuth error the authorization server sent back', () => {
      expect(
        parseCallbackUrl(
          'http://localhost:1455/auth/callback?error=access_denied&error_description=missing_codex_entitlement&state=st-1',
        ),
      ).toEqual({
        error: 'access_denied',
        errorDescription: 'missing_codex_entitlement',
        state: 'st-1',
      });
    });

    it('should answer null for text that is neither a URL nor a query', () => {
      expect(parseCallbackUrl('ac_just_a_code')).toBeNull();
      expect(parseCallbackUrl('http://[not a url')).toBeNull();
    });

    it('should leave out empty parameters', () => {
      expect(parseCallbackUrl('http://localhost:1455/auth/callback?code=&state=st')).toEqual({
        state: 'st',
      });
    });
  });

  describe('parsePastedCallback', () => {
    it('should take text that is not a URL as the bare code', () => {
      expect(parsePastedCallback(' ac_bare \n')).toEqual({ code: 'ac_bare' });
      expect(parsePastedCallback('   ')).toEqual({});
      expect(parsePastedCallback('http://localhost:1455/auth/callback?code=c&state=s')).toEqual({
        code: 'c',
        state: 's',
      });
    });
  });

  describe('decodeJwtPayload', () => {
    it('should decode the claims of a JWT', () => {
      expect(decodeJwtPayload(jwt({ sub: 'u1', exp: 10 }))).toEqual({ sub: 'u1', exp: 10 });
    });

    it('should answer null for what is not a three-part JWT with a JSON object payload', () => {
      expect(decodeJwtPayload('opaque-token')).toBeNull();
      expect(decodeJwtPayload('a..c')).toBeNull();
      expect(decodeJwtPayload(`a.${Buffer.from('[1]').toString('base64url')}.c`)).toBeNull();
      expect(decodeJwtPayload(`a.${Buffer.from('{nope').toString('base64url')}.c`)).toBeNull();
      expect(decodeJwtPayload('a.b!d.c')).toBeNull();
    });
  });

  describe('jwtExpiresAt', () => {
    it("should answer the token's exp in epoch ms, undefined without one", () => {
      expect(jwtExpiresAt(jwt({ exp: 1_900_000_000 }))).toBe(1_900_000_000_000);
      expect(jwtExpiresAt(jwt({ sub: 'x' }))).toBeUndefined();
      expect(jwtExpiresAt('opaque')).toBeUndefined();
    });
  });

  describe('codexIdentity', () => {
    it('should read email, plan, user and ChatGPT account from the id_token as Codex does', () => {
      const idToken = jwt({
        email: 'dev@example.com',
        [AUTH]: {
          chatgpt_plan_type: 'pro',
          chatgpt_user_id: 'user-1',
          chatgpt_account_id: 'acct-1',
        },
      });

      expect(codexIdentity({ idToken })).toEqual({
        email: 'dev@example.com',
        plan: 'pro',
        chatgptUserId: 'user-1',
        chatgptAccountId: 'acct-1',
      });
    });

    it("should fall back to the profile claim's email and to user_id", () => {
      const idToken = jwt({
        'https://api.openai.com/profile': { email: 'profile@example.com' },
        [AUTH]: { user_id: 'user-legacy', chatgpt_account_id: 'acct-1' },
      });

      expect(codexIdentity({ idToken })).toEqual({
        email: 'profile@example.com',
        chatgptUserId: 'user-legacy',
        chatgptAccountId: 'acct-1',
      });
    });

    it("should fill what the id_token lacks from the access token's auth claim", () => {
      const accessToken = jwt({ [AUTH]: { chatgpt_plan_type: 'plus', chatgpt_account_id: 'a-2' } });

      expect(codexIdentity({ idToken: jwt({ email: 'e@x.io' }), accessToken })).toEqual({
        email: 'e@x.io',
        plan: 'plus',
        chatgptAccountId: 'a-2',
      });
      expect(codexIdentity({ accessToken: 'opaque' })).toEqual({});
    });
  });

  describe('classifyTokenFailure', () => {
    it('should call a 4xx final and 408, 429 and 5xx worth another try', () => {
      expect(classifyTokenFailure(400, { error: 'invalid_grant' })).toBe('refused');
      expect(classifyTokenFailure(401, null)).toBe('refused');
      expect(classifyTokenFailure(408, null)).toBe('unavailable');
      expect(classifyTokenFailure(429, null)).toBe('unavailable');
      expect(classifyTokenFailure(503, null)).toBe('unavailable');
    });

    it("should call a dead refresh token's error final whatever the status", () => {
      expect(classifyTokenFailure(500, { error: { code: 'refresh_token_reused' } })).toBe(
        'refused',
      );
      expect(classifyTokenFailure(503, { error: 'REFRESH_TOKEN_EXPIRED' })).toBe('refused');
      expect(classifyTokenFailure(503, { code: 'refresh_token_invalidated' })).toBe('refused');
    });
  });

  describe('tokenErrorDetail', () => {
    it('should name the status, code and message of both error shapes', () => {
      expect(
        tokenErrorDetail(400, { error: 'invalid_grant', error_description: 'Code expired' }),
      ).toBe('token endpoint answered 400: invalid_grant: Code expired');
      expect(
        tokenErrorDetail(401, {
          error: { code: 'refresh_token_reused', message: 'already used' },
        }),
      ).toBe('token endpoint answered 401: refresh_token_reused: already used');
      expect(tokenErrorDetail(502, '<html>')).toBe('token endpoint answered 502');
    });
  });
});

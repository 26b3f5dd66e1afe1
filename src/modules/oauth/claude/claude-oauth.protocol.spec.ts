import { pkceChallenge } from '../oauth-pkce';
import {
  buildAuthorizeUrl,
  CLAUDE_LOGIN_SCOPES,
  generatePkce,
  parseCallbackUrl,
  profileFromResponse,
  scopesOf,
  subscriptionFrom,
  tokenErrorDetail,
  tokensFromResponse,
} from './claude-oauth.protocol';

const STATE = 'c3RhdGUtb2YtdGhpcy1sb2dpbi0wMTIzNDU2Nzg5';

describe('claude OAuth protocol', () => {
  describe('generatePkce', () => {
    it('should make a 43-character base64url verifier (32 bytes, as Claude Code) with its S256 challenge', () => {
      const pair = generatePkce();

      expect(pair.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(pair.codeChallenge).toBe(pkceChallenge(pair.codeVerifier));
      expect(generatePkce().codeVerifier).not.toBe(pair.codeVerifier);
    });
  });

  describe('buildAuthorizeUrl', () => {
    it("should ask in Claude Code's order: code=true, client, code response, redirect, scopes, S256 challenge, state", () => {
      const url = new URL(
        buildAuthorizeUrl({
          authorizeUrl: 'https://claude.com/cai/oauth/authorize',
          clientId: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
          redirectUri: 'https://platform.claude.com/oauth/code/callback',
          scopes: CLAUDE_LOGIN_SCOPES,
          codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          state: STATE,
        }),
      );

      expect(`${url.origin}${url.pathname}`).toBe('https://claude.com/cai/oauth/authorize');
      expect([...url.searchParams]).toEqual([
        ['code', 'true'],
        ['client_id', '9d1c250a-e61b-44d9-88ed-5944d1962f5e'],
        ['response_type', 'code'],
        ['redirect_uri', 'https://platform.claude.com/oauth/code/callback'],
        [
          'scope',
          'org:create_api_key user:profile user:inference user:sessions:claude_code ' +
            'user:mcp_servers user:file_upload user:plugins user:privacy_consents:write',
        ],
        ['code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'],
        ['code_challenge_method', 'S256'],
        ['state', STATE],
      ]);
    });

    it('should ask for user:inference alone for a setup token', () => {
      const url = new URL(
        buildAuthorizeUrl({
          authorizeUrl: 'http://127.0.0.1:1/oauth/authorize',
          clientId: 'client',
          redirectUri: 'https://platform.claude.com/oauth/code/callback',
          scopes: scopesOf('setup-token'),
          codeChallenge: 'challenge',
          state: STATE,
        }),
      );

      expect(url.searchParams.get('scope')).toBe('user:inference');
    });
  });

  describe('parseCallbackUrl', () => {
    it('should split code#state as the manual redirect page shows it', () => {
      expect(parseCallbackUrl(`  ac_123-xyz#${STATE}\n`)).toEqual({
        code: 'ac_123-xyz',
        state: STATE,
      });
    });

    it('should read the code and state of the whole callback URL', () => {
      expect(
        parseCallbackUrl(
          `https://platform.claude.com/oauth/code/callback?code=ac_123&state=${STATE}`,
        ),
      ).toEqual({ code: 'ac_123', state: STATE });
    });

    it('should read a state carried after # in the URL or its query string', () => {
      expect(
        parseCallbackUrl(`https://platform.claude.com/oauth/code/callback?code=ac_1#${STATE}`),
      ).toEqual({ code: 'ac_1', state: STATE });
      expect(parseCallbackUrl(`code=ac_2#${STATE}`)).toEqual({ code: 'ac_2', state: STATE });
    });

    it('should report a refused sign-in with its error and description', () => {
      expect(
        parseCallbackUrl(
          `https://platform.claude.com/oauth/code/callback?error=access_denied&error_description=The+user+said+no&state=${STATE}`,
        ),
      ).toEqual({ error: 'access_denied', errorDescription: 'The user said no', state: STATE });
    });

    it('should answer null for a bare code, half a code#state, or text that is no callback', () => {
      expect(parseCallbackUrl('ac_just_a_code')).toBeNull();
      expect(parseCallbackUrl('ac_123#')).toBeNull();
      expect(parseCallbackUrl(`#${STATE}`)).toBeNull();
      expect(parseCallbackUrl('a#b#c')).toBeNull();
      expect(parseCallbackUrl('https://platform.claude.com/oauth/code/callback')).toBeNull();
      expect(parseCallbackUrl('not a url at all')).toBeNull();
    });
  });

  describe('tokensFromResponse', () => {
    it("should read the tokens, lifetime, scopes, account and organization of Anthropic's answer", () => {
      expect(
        tokensFromResponse({
          token_type: 'Bearer',
          access_token: 'sk-ant-oat01-a',
          refresh_token: 'sk-ant-ort01-r',
          expires_in: 28800,
          scope: 'user:inference user:profile',
          account: { uuid: 'acc-1', email_address: 'dev@example.com' },
          organization: { uuid: 'org-1', name: 'Acme' },
        }),
      ).toEqual({
        accessToken: 'sk-ant-oat01-a',
        refreshToken: 'sk-ant-ort01-r',
        expiresIn: 28800,
        scopes: ['user:inference', 'user:profile'],
        account: { uuid: 'acc-1', email: 'dev@example.com' },
        organization: { uuid: 'org-1', name: 'Acme' },
      });
    });

    it('should take a setup token without refresh token, and refuse an answer without access token', () => {
      expect(
        tokensFromResponse({
          access_token: 'sk-ant-oat01-s',
          expires_in: 31536000,
          scope: 'user:inference',
        }),
      ).toEqual({ accessToken: 'sk-ant-oat01-s', expiresIn: 31536000, scopes: ['user:inference'] });
      expect(tokensFromResponse({ refresh_token: 'x' })).toBeNull();
      expect(tokensFromResponse('nope')).toBeNull();
    });
  });

  describe('profileFromResponse', () => {
    const account = { uuid: 'acc-1', email: 'dev@example.com' };

    it.each([
      ['claude_max', 'max'],
      ['claude_pro', 'pro'],
      ['claude_team', 'team'],
      ['claude_enterprise', 'enterprise'],
    ])('should name the plan of organization_type %s as %s', (organizationType, plan) => {
      expect(
        profileFromResponse({
          account,
          organization: { uuid: 'org-1', name: 'Acme', organization_type: organizationType },
        }),
      ).toEqual({
        plan,
        email: 'dev@example.com',
        accountUuid: 'acc-1',
        organizationUuid: 'org-1',
        organizationName: 'Acme',
      });
    });

    it("should fall back to the account's has_claude_max / has_claude_pro flags, else free", () => {
      expect(profileFromResponse({ account: { ...account, has_claude_max: true } })?.plan).toBe(
        'max',
      );
      expect(
        profileFromResponse({
          account: { ...account, has_claude_pro: true },
          organization: { organization_type: 'claude_free' },
        })?.plan,
      ).toBe('pro');
      expect(profileFromResponse({ account, organization: {} })?.plan).toBe('free');
      expect(profileFromResponse({ error: 'x' })).toBeNull();
    });
  });

  describe('subscriptionFrom', () => {
    it("should prefer the profile's facts, fill in from the token answer, and keep the scopes", () => {
      const tokens = tokensFromResponse({
        access_token: 'a',
        scope: 'user:inference',
        account: { uuid: 'acc-t', email_address: 'token@example.com' },
        organization: { uuid: 'org-t' },
      })!;

      expect(subscriptionFrom(tokens, null)).toEqual({
        email: 'token@example.com',
        accountUuid: 'acc-t',
        organizationUuid: 'org-t',
        scopes: ['user:inference'],
      });
      expect(
        subscriptionFrom(tokens, {
          plan: 'team',
          email: 'me@example.com',
          organizationName: 'Acme',
        }),
      ).toEqual({
        plan: 'team',
        email: 'me@example.com',
        organizationName: 'Acme',
        organizationUuid: 'org-t',
        accountUuid: 'acc-t',
        scopes: ['user:inference'],
      });
      expect(subscriptionFrom({ accessToken: 'a', scopes: [] }, null)).toBeNull();
    });
  });

  describe('tokenErrorDetail', () => {
    it('should say the OAuth error and its description, or an API error’s type and message', () => {
      expect(
        tokenErrorDetail(400, { error: 'invalid_grant', error_description: 'Invalid code' }),
      ).toBe('token endpoint answered 400: invalid_grant: Invalid code');
      expect(
        tokenErrorDetail(429, {
          type: 'error',
          error: { type: 'rate_limit_error', message: 'slow' },
        }),
      ).toBe('token endpoint answered 429: rate_limit_error: slow');
      expect(tokenErrorDetail(502, null)).toBe('token endpoint answered 502');
    });
  });
});

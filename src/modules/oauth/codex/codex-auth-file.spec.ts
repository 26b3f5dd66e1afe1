import { parseCodexAuthFile } from './codex-auth-file';
import { CodexOAuthException, CodexOAuthExceptionCode } from './codex-oauth.exception';

function failure(content: string): CodexOAuthException {
  try {
    parseCodexAuthFile(content);
  } catch (error) {
    if (error instanceof CodexOAuthException) return error;
    throw error;
  }
  throw new Error('expected a CodexOAuthException');
}

describe(parseCodexAuthFile.name, () => {
  it("should read the ChatGPT login of Codex CLI's auth.json", () => {
    const content = JSON.stringify({
      OPENAI_API_KEY: null,
      tokens: {
        id_token: 'h.id.s',
        access_token: 'h.access.s',
        refresh_token: 'rt-1',
        account_id: 'acct-1',
      },
      last_refresh: '2025-06-01T10:00:00Z',
    });

    expect(parseCodexAuthFile(content)).toEqual({
      accessToken: 'h.access.s',
      refreshToken: 'rt-1',
      idToken: 'h.id.s',
      accountId: 'acct-1',
    });
  });

  it('should leave out an empty refresh token and a null account id', () => {
    const content = JSON.stringify({
      auth_mode: 'chatgptAuthTokens',
      tokens: { id_token: 'h.id.s', access_token: 'at', refresh_token: '', account_id: null },
    });

    expect(parseCodexAuthFile(content)).toEqual({ accessToken: 'at', idToken: 'h.id.s' });
  });

  it('should say so when the file holds an API key rather than a ChatGPT login', () => {
    const error = failure(JSON.stringify({ OPENAI_API_KEY: 'sk-proj-secret' }));

    expect(error.code).toBe(CodexOAuthExceptionCode.INVALID_AUTH_FILE);
    expect(error.status).toBe(400);
    expect(error.message).toContain('holds an OpenAI API key, not a ChatGPT login');
    expect(error.message).not.toContain('sk-proj-secret');
  });

  it('should refuse text that is not a JSON object, or tokens without an access token', () => {
    expect(failure('not json').message).toBe('the auth file is not JSON');
    expect(failure('[]').message).toBe('the auth file is not a JSON object');
    expect(failure('{}').message).toContain('holds no ChatGPT login');
    expect(failure('{"tokens":{"refresh_token":"rt"}}').message).toBe(
      'the auth file has no tokens.access_token',
    );
  });
});

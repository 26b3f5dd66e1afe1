import {
  inboundSecretValues,
  REDACTED,
  redactBody,
  redactHeaders,
  redactJson,
  redactUrl,
  scrubValues,
  secretValuesOf,
} from './http-traffic-redaction';

const SECRET = 'sk-ant-api03-SECRETSECRETSECRET';

describe('redactHeaders', () => {
  it('should redact every credential header when an exchange carries them', () => {
    const headers = {
      authorization: `Bearer ${SECRET}`,
      'Proxy-Authorization': 'Basic dXNlcjpwYXNz',
      'x-api-key': SECRET,
      'x-goog-api-key': 'AIzaSyGOOGLEKEY',
      'api-key': 'azure-key-123',
      cookie: 'session=abc',
      'set-cookie': ['a=1; HttpOnly', 'b=2'],
      'x-amz-security-token': 'FwoGZXIvYXdzEBAaDAWS',
      'x-amz-date': '20250101T000000Z',
      'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb924',
      'anthropic-ratelimit-tokens-remaining': '1000',
      'x-custom-session-token': 'sess-abc',
      'content-type': 'application/json',
    };
    expect(redactHeaders(headers)).toEqual({
      authorization: REDACTED,
      'Proxy-Authorization': REDACTED,
      'x-api-key': REDACTED,
      'x-goog-api-key': REDACTED,
      'api-key': REDACTED,
      cookie: REDACTED,
      'set-cookie': REDACTED,
      'x-amz-security-token': REDACTED,
      'x-amz-date': '20250101T000000Z',
      'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb924',
      'anthropic-ratelimit-tokens-remaining': '1000',
      'x-custom-session-token': REDACTED,
      'content-type': 'application/json',
    });
  });

  it('should scrub a known secret from any other header when it appears there', () => {
    expect(redactHeaders({ 'x-debug': `echo ${SECRET}` }, [SECRET])).toEqual({
      'x-debug': `echo ${REDACTED}`,
    });
  });
});

describe('redactUrl', () => {
  it('should redact credential query parameters and user info when a URL carries them', () => {
    const url = redactUrl(
      'https://user:pw@generativelanguage.googleapis.com/v1beta/models/g:generateContent?alt=sse&key=AIzaSECRET&X-Amz-Signature=abc&access_token=tok',
    );
    expect(url).toBe(
      `https://${encodeURIComponent(REDACTED)}@generativelanguage.googleapis.com/v1beta/models/g:generateContent?alt=sse&key=${REDACTED}&X-Amz-Signature=${REDACTED}&access_token=${REDACTED}`,
    );
    expect(url).not.toContain('AIzaSECRET');
    expect(url).not.toContain('pw');
  });

  it('should redact an OAuth code in a query only when it sits beside OAuth parameters', () => {
    expect(redactUrl('https://a.example/cb?code=c0de&redirect_uri=x')).toBe(
      `https://a.example/cb?code=${REDACTED}&redirect_uri=x`,
    );
    expect(redactUrl('https://a.example/x?code=404')).toBe('https://a.example/x?code=404');
  });
});

describe('redactJson', () => {
  it('should redact OAuth tokens and API keys at any depth when a body nests them', () => {
    const body = {
      access_token: 'at',
      refresh_token: 'rt',
      id_token: 'it',
      expires_in: 3600,
      nested: { client_secret: 'cs', list: [{ api_key: 'k1' }, { apiKey: 'k2' }, { key: 'k3' }] },
      credentials: { accessToken: 'x', secretAccessKey: 'y', sessionToken: 'z' },
      usage: { input_tokens: 10, max_tokens: 20 },
      messages: [{ role: 'user', content: 'hello' }],
    };
    expect(redactJson(body)).toEqual({
      access_token: REDACTED,
      refresh_token: REDACTED,
      id_token: REDACTED,
      expires_in: 3600,
      nested: {
        client_secret: REDACTED,
        list: [{ api_key: REDACTED }, { apiKey: REDACTED }, { key: REDACTED }],
      },
      credentials: { accessToken: REDACTED, secretAccessKey: REDACTED, sessionToken: REDACTED },
      usage: { input_tokens: 10, max_tokens: 20 },
      messages: [{ role: 'user', content: 'hello' }],
    });
  });

  it('should redact an authorization code and verifier in a token request but keep an error code', () => {
    expect(
      redactJson({
        grant_type: 'authorization_code',
        code: 'c0de',
        code_verifier: 'v',
        state: 's',
      }),
    ).toEqual({
      grant_type: 'authorization_code',
      code: REDACTED,
      code_verifier: REDACTED,
      state: 's',
    });
    expect(redactJson({ error: { code: 'rate_limit_exceeded' } })).toEqual({
      error: { code: 'rate_limit_exceeded' },
    });
  });
});

describe('redactBody', () => {
  it('should redact a form-encoded token request when the body is form-encoded', () => {
    const form =
      'grant_type=refresh_token&refresh_token=rt-SECRET&client_id=app&client_secret=cs-SECRET&code_verifier=v-SECRET&code=c-SECRET';
    const out = redactBody(Buffer.from(form), 'application/x-www-form-urlencoded');
    expect(out).toBe(
      `grant_type=refresh_token&refresh_token=${REDACTED}&client_id=app&client_secret=${REDACTED}&code_verifier=${REDACTED}&code=${REDACTED}`,
    );
  });

  it('should redact credential fields in SSE events and truncated JSON when it is not one document', () => {
    const sse =
      'event: x\ndata: {"type":"message","access_token":"at-SECRET","text":"hi"}\n\ndata: {"refresh_tok';
    const out = redactBody(Buffer.from(sse), 'text/event-stream', [], false);
    expect(out).toContain(`"access_token":"${REDACTED}"`);
    expect(out).not.toContain('at-SECRET');
    expect(out).toContain('"text":"hi"');
  });

  it('should redact JSON and scrub known secret values from prompts when they appear anywhere', () => {
    const body = JSON.stringify({
      model: 'claude',
      messages: [{ role: 'user', content: `my key is ${SECRET}` }],
      token: 'tok-SECRET',
    });
    const out = redactBody(Buffer.from(body), 'application/json', [SECRET]);
    expect(JSON.parse(out)).toEqual({
      model: 'claude',
      messages: [{ role: 'user', content: `my key is ${REDACTED}` }],
      token: REDACTED,
    });
  });
});

describe('secretValuesOf', () => {
  it('should collect the credential values and proxy password of an account, longest first', () => {
    const values = secretValuesOf(
      {
        type: 'bedrock',
        region: 'us-east-1',
        accessKeyId: 'AKIAEXAMPLE1234',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      },
      'http://proxyuser:proxy-pass-9@proxy.example:8080',
    );
    expect(values).toEqual([
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'AKIAEXAMPLE1234',
      'proxy-pass-9',
    ]);
  });
});

describe('inboundSecretValues', () => {
  it("should find the client's Switchyard key wherever clients send it", () => {
    expect(
      inboundSecretValues(
        { authorization: 'Bearer sk-sy-abcdef123456', 'x-api-key': 'sk-sy-xyz7890123' },
        '/gemini/v1beta/models/g:generateContent?key=sk-sy-query12345',
      ),
    ).toEqual(['sk-sy-abcdef123456', 'sk-sy-xyz7890123', 'sk-sy-query12345']);
  });
});

describe('scrubValues', () => {
  it('should replace every occurrence when a secret appears several times', () => {
    expect(scrubValues('a SECRET b SECRET', ['SECRET'])).toBe(`a ${REDACTED} b ${REDACTED}`);
  });
});

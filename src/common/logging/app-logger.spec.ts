import { createAppLogger, logAccess, setLogLevel } from './app-logger';

describe('logAccess', () => {
  afterEach(() => setLogLevel('info'));

  it('should write one JSON line with the access fields when info is enabled', () => {
    const lines: string[] = [];
    logAccess(
      {
        requestId: 'a1b2',
        method: 'POST',
        route: '/v1/messages',
        status: 200,
        ms: 12,
        aborted: false,
        clientRequestId: 'client-7',
      },
      (line) => lines.push(line),
    );

    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    const parsed = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(parsed).toEqual({
      level: 'info',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      service: 'switchyard',
      requestId: 'a1b2',
      method: 'POST',
      route: '/v1/messages',
      status: 200,
      ms: 12,
      aborted: false,
      clientRequestId: 'client-7',
      msg: 'request',
    });
  });

  it('should leave clientRequestId out and escape the route when there is no client id', () => {
    const lines: string[] = [];
    logAccess(
      { requestId: 'x', method: 'GET', route: '/a"b', status: 404, ms: 0, aborted: true },
      (line) => lines.push(line),
    );

    const parsed = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(parsed.route).toBe('/a"b');
    expect(parsed.aborted).toBe(true);
    expect('clientRequestId' in parsed).toBe(false);
  });

  it('should write nothing when the level is above info', () => {
    setLogLevel('warn');
    const lines: string[] = [];
    logAccess(
      { requestId: 'x', method: 'GET', route: '/', status: 200, ms: 1, aborted: false },
      (line) => lines.push(line),
    );

    expect(lines).toEqual([]);
  });
});

describe('createAppLogger', () => {
  it('should redact every credential field, top level and one level down, from a logged object', () => {
    const lines: string[] = [];
    const logger = createAppLogger({ write: (line: string) => lines.push(line) });
    const secrets = [
      'password',
      'authorization',
      'apiKey',
      'accessToken',
      'refreshToken',
      'idToken',
      'entraToken',
      'access_token',
      'refresh_token',
      'id_token',
      'x-api-key',
      'api-key',
    ].flatMap((field) => [
      [field, `top-${field}-secret`],
      [field, `nested-${field}-secret`],
    ]);
    const top = Object.fromEntries(secrets.filter((_, i) => i % 2 === 0));
    const nested = Object.fromEntries(secrets.filter((_, i) => i % 2 === 1));

    logger.warn({ ...top, credentials: nested, accountId: 'acct-1' }, 'refresh failed');

    expect(lines).toHaveLength(1);
    const line = lines[0];
    for (const [, secret] of secrets) expect(line).not.toContain(secret);
    const parsed = JSON.parse(line) as Record<string, any>;
    expect(parsed.accountId).toBe('acct-1');
    expect(parsed.idToken).toBe('[redacted]');
    expect(parsed['api-key']).toBe('[redacted]');
    expect(parsed.credentials.entraToken).toBe('[redacted]');
    expect(parsed.credentials.refresh_token).toBe('[redacted]');
  });
});

import { logAccess, setLogLevel } from './app-logger';

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

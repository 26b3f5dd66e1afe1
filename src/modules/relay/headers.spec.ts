import { forwardableRequestHeaders, forwardableResponseHeaders } from './headers';

describe('forwardableRequestHeaders', () => {
  it('should drop hop-by-hop headers, Connection-listed ones and the client credentials', () => {
    const out = forwardableRequestHeaders({
      host: 'switchyard.local',
      connection: 'keep-alive, x-private-hop',
      'x-private-hop': 'secret-hop',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'content-length': '42',
      authorization: 'Bearer sk-sy-client',
      'x-api-key': 'sk-sy-client',
      cookie: 'a=b',
      'x-forwarded-for': '10.0.0.1',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'a,b',
      'user-agent': 'claude-cli/2.0.0 (external, cli)',
      'accept-encoding': 'gzip, br',
    });
    expect(out).toEqual({
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'a,b',
      'user-agent': 'claude-cli/2.0.0 (external, cli)',
      'accept-encoding': 'identity',
    });
  });
});

describe('forwardableResponseHeaders', () => {
  it('should drop hop-by-hop and account-private headers and keep the rest', () => {
    const out = forwardableResponseHeaders(
      {
        'content-type': 'application/json',
        'content-length': '10',
        connection: 'close',
        'transfer-encoding': 'chunked',
        'anthropic-ratelimit-unified-reset': '123',
        'anthropic-organization-id': 'org-1',
        'set-cookie': 'x=y',
        'request-id': 'req_1',
      },
      { keepContentLength: true },
    );
    expect(out).toEqual({
      'content-type': 'application/json',
      'content-length': '10',
      'request-id': 'req_1',
    });
  });

  it('should drop content-length when the relay may append bytes to a stream', () => {
    const out = forwardableResponseHeaders(
      { 'content-length': '10' },
      { keepContentLength: false },
    );
    expect(out).toEqual({});
  });
});

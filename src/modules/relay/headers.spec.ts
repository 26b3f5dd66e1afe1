import {
  forwardableRequestHeaders,
  forwardableResponseHeaders,
  requestHeaderAllowlist,
} from './headers';

describe(requestHeaderAllowlist.name, () => {
  it('should refuse a name that must never reach an upstream', () => {
    for (const name of [
      'authorization',
      'x-api-key',
      'cookie',
      'expect',
      'connection',
      'host',
      'x-forwarded-for',
      'forwarded',
      'x-real-ip',
      'cf-connecting-ip',
      'true-client-ip',
      // The client's trace context: with tracing on the relay sends its own span's instead.
      'traceparent',
      'tracestate',
    ]) {
      expect(() => requestHeaderAllowlist([name])).toThrow(name);
    }
  });

  it('should refuse a prefix that covers such a header, and a name not in lowercase', () => {
    for (const prefix of ['x-', 'x-api', 'cf-', 'x-forwarded-', 'cf-connecting', 'ex', 'X-Foo-']) {
      expect(() => requestHeaderAllowlist([], [prefix])).toThrow();
    }
    expect(() => requestHeaderAllowlist(['User-Agent'])).toThrow('lowercase');
  });
});

describe(forwardableRequestHeaders.name, () => {
  const allow = requestHeaderAllowlist(
    ['anthropic-version', 'anthropic-beta', 'user-agent', 'content-type'],
    ['x-stainless-'],
  );

  it('should pass only the allowlisted headers and the prefixed ones', () => {
    const out = forwardableRequestHeaders(
      {
        host: 'switchyard.local',
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'content-length': '42',
        expect: '100-continue',
        authorization: 'Bearer sk-sy-client',
        'x-api-key': 'sk-sy-client',
        cookie: 'a=b',
        'x-forwarded-for': '10.0.0.1',
        'x-forwarded-proto': 'https',
        forwarded: 'for=10.0.0.1',
        'x-real-ip': '10.0.0.1',
        'cf-connecting-ip': '203.0.113.9',
        'cf-ipcountry': 'CH',
        'true-client-ip': '203.0.113.9',
        'x-foo': 'bar',
        'x-request-id': 'client-id',
        'accept-encoding': 'gzip, br',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'a,b',
        'user-agent': 'claude-cli/2.0.0 (external, cli)',
        'content-type': 'application/json',
        'x-stainless-lang': 'js',
        'x-stainless-retry-count': '0',
        'x-stainless-helper-method': 'stream',
      },
      allow,
    );
    expect(out).toEqual({
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'a,b',
      'user-agent': 'claude-cli/2.0.0 (external, cli)',
      'content-type': 'application/json',
      'x-stainless-lang': 'js',
      'x-stainless-retry-count': '0',
      'x-stainless-helper-method': 'stream',
      'accept-encoding': 'identity',
    });
  });

  it('should drop an allowlisted header the Connection header lists as hop-by-hop', () => {
    const out = forwardableRequestHeaders(
      {
        connection: 'keep-alive, Anthropic-Beta, x-stainless-os',
        'anthropic-beta': 'a',
        'anthropic-version': '2023-06-01',
        'x-stainless-os': 'Linux',
        'x-stainless-arch': 'x64',
      },
      allow,
    );
    expect(out).toEqual({
      'anthropic-version': '2023-06-01',
      'x-stainless-arch': 'x64',
      'accept-encoding': 'identity',
    });
  });

  it('should join repeated values and drop a name not in lowercase', () => {
    const out = forwardableRequestHeaders(
      { 'anthropic-beta': ['a', 'b'], 'X-Stainless-Lang': 'js' },
      allow,
    );
    expect(out).toEqual({ 'anthropic-beta': 'a, b', 'accept-encoding': 'identity' });
  });
});

describe(forwardableResponseHeaders.name, () => {
  it('should drop hop-by-hop and account-private headers and keep the rest', () => {
    const out = forwardableResponseHeaders(
      {
        'content-type': 'application/json',
        'content-length': '10',
        connection: 'close',
        'transfer-encoding': 'chunked',
        'anthropic-ratelimit-unified-reset': '123',
        'anthropic-ratelimit-tokens-remaining': '5',
        'anthropic-organization-id': 'org-1',
        'set-cookie': 'x=y',
        'x-envoy-upstream-service-time': '12',
        'cf-ray': 'abc',
        server: 'cloudflare',
        via: '1.1 google',
        'alt-svc': 'h3=":443"',
        'x-request-id': 'upstream-id',
        'request-id': 'req_1',
        'retry-after': '3',
      },
      { keepContentLength: true },
    );
    expect(out).toEqual({
      'content-type': 'application/json',
      'content-length': '10',
      'request-id': 'req_1',
      'retry-after': '3',
    });
  });

  it('should drop a header the upstream lists in Connection', () => {
    const out = forwardableResponseHeaders(
      { connection: 'x-hop', 'x-hop': '1', 'request-id': 'req_1' },
      { keepContentLength: false },
    );
    expect(out).toEqual({ 'request-id': 'req_1' });
  });

  it('should drop content-length when the relay may append bytes to a stream', () => {
    const out = forwardableResponseHeaders(
      { 'content-length': '10' },
      { keepContentLength: false },
    );
    expect(out).toEqual({});
  });
});

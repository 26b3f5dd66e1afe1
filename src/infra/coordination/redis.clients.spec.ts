import { createRedisClients, reconnectOnReadOnly } from './redis.clients';

describe(createRedisClients.name, () => {
  it('should refuse the options when no connection mode is given', () => {
    expect(() => createRedisClients({ url: '', sentinels: [], clusterNodes: [] })).toThrow(
      /exactly one of/,
    );
  });

  it('should refuse the options when two connection modes are given', () => {
    expect(() =>
      createRedisClients({
        url: 'redis://127.0.0.1:6379',
        clusterNodes: [{ host: '127.0.0.1', port: 7000 }],
      }),
    ).toThrow(/exactly one of/);
  });

  it('should refuse sentinels when the master name is missing', () => {
    expect(() => createRedisClients({ sentinels: [{ host: '127.0.0.1', port: 26379 }] })).toThrow(
      /sentinelName/,
    );
  });
});

describe(reconnectOnReadOnly.name, () => {
  it('should reconnect and resend when a demoted primary answers READONLY', () => {
    expect(
      reconnectOnReadOnly(new Error("READONLY You can't write against a read only replica.")),
    ).toBe(2);
  });

  it('should leave other errors to the caller', () => {
    expect(reconnectOnReadOnly(new Error('NOSCRIPT No matching script'))).toBe(false);
    expect(reconnectOnReadOnly(new Error('ERR wrong number of arguments'))).toBe(false);
  });
});

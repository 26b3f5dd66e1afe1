import { createRedisClients } from './redis.clients';

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

import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { SecretBox } from 'src/infra/crypto/secret-box';
import { AccountCodec, accountSecretContext, UNREADABLE_CREDENTIALS_REASON } from './account-codec';
import { accountKeys } from './account-coordination.keys';
import { AccountPool } from './account-pool.service';
import type { AccountRecord } from './accounts.repository';

const box = new SecretBox('unit-test-encryption-key-0123456789');
const codec = new AccountCodec(box, new ConfigService(new EnvironmentSchema()));

function record(id: string, overrides: Partial<AccountRecord> = {}): AccountRecord {
  return {
    id,
    name: id,
    platform: 'claude',
    type: 'claude-console',
    base_url: null,
    priority: 50,
    weight: 1,
    enabled: 1,
    schedulable: 1,
    models: null,
    credentials: box.encrypt(
      JSON.stringify({ type: 'claude-console', apiKey: `sk-${id}` }),
      accountSecretContext(id, 'credentials'),
    ),
    proxy: null,
    concurrency_limit: null,
    subscription: null,
    status: 'active',
    status_reason: null,
    last_used_at: null,
    created_at: 1,
    updated_at: 1,
    ...overrides,
  };
}

class FakeRepository {
  records: AccountRecord[] = [];
  groups = new Map<string, string[]>();
  loads = 0;
  touched: { id: string; at: number }[][] = [];
  async listAll(): Promise<AccountRecord[]> {
    this.loads += 1;
    return this.records.map((r) => ({ ...r }));
  }
  async groupIdsByAccount(): Promise<Map<string, string[]>> {
    return new Map(this.groups);
  }
  async touchLastUsed(entries: { id: string; at: number }[]): Promise<void> {
    this.touched.push(entries);
  }
}

describe(AccountPool.name, () => {
  let repository: FakeRepository;
  let coordinator: LocalCoordinator;
  let pool: AccountPool;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    repository = new FakeRepository();
    coordinator = new LocalCoordinator({ instanceId: 'i', store: new LocalCoordinatorStore() });
    pool = new AccountPool(repository as never, codec, coordinator, {
      reloadDebounceMs: 50,
      safetyReloadMs: 60_000,
      lastUsedFlushMs: 30_000,
    });
  });

  afterEach(async () => {
    await pool.onModuleDestroy();
    await coordinator.close();
    jest.useRealTimers();
  });

  describe('forPlatform', () => {
    it('should list enabled, schedulable accounts preferred first when asked for a platform', async () => {
      repository.records = [
        record('c', { priority: 10 }),
        record('a', { priority: 50 }),
        record('b', { priority: 10 }),
        record('off', { enabled: 0 }),
        record('parked', { schedulable: 0 }),
      ];
      await pool.onModuleInit();

      expect(pool.forPlatform('claude').map((a) => a.id)).toEqual(['b', 'c', 'a']);
      expect(pool.forPlatform('gemini')).toEqual([]);
      expect(pool.all()).toHaveLength(5);
      expect(pool.get('off')?.enabled).toBe(false);
      expect(pool.get('a')?.credentials).toEqual({ type: 'claude-console', apiKey: 'sk-a' });
      expect(pool.get('a')?.baseUrl).toBe('https://api.anthropic.com');
    });
  });

  describe('groupMembers', () => {
    it('should list the routable-eligible members of a group', async () => {
      repository.records = [record('a'), record('b'), record('c', { enabled: 0 })];
      repository.groups = new Map([
        ['a', ['g1']],
        ['b', ['g1', 'g2']],
        ['c', ['g1']],
      ]);
      await pool.onModuleInit();

      expect(pool.groupMembers('g1').map((a) => a.id)).toEqual(['a', 'b']);
      expect(pool.groupMembers('g2').map((a) => a.id)).toEqual(['b']);
      expect(pool.get('b')?.groupIds).toEqual(['g1', 'g2']);
    });
  });

  describe('reload', () => {
    it('should reload once, debounced, when several invalidations arrive together', async () => {
      repository.records = [record('a')];
      await pool.onModuleInit();
      expect(pool.version).toBe(1);
      repository.records.push(record('b', { updated_at: 2 }));

      for (let i = 0; i < 3; i++) await coordinator.publish(accountKeys.channels.invalidation, 'b');
      await new Promise((resolve) => setImmediate(resolve));
      expect(pool.get('b')).toBeUndefined();
      await jest.advanceTimersByTimeAsync(50);

      expect(repository.loads).toBe(2);
      expect(pool.get('b')).toBeDefined();
      expect(pool.version).toBe(2);
    });

    it('should keep the version when nothing changed', async () => {
      repository.records = [record('a')];
      await pool.onModuleInit();
      await pool.reload();
      expect(pool.version).toBe(1);
    });

    it('should mark only the broken account unusable when its credentials cannot be decrypted', async () => {
      const error = jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
      const otherKey = new SecretBox('some-other-encryption-key-abcdefghij');
      const secret = 'sk-ant-api03-SEALED-WITH-ANOTHER-KEY';
      repository.records = [
        record('good'),
        record('bad', {
          credentials: otherKey.encrypt(
            JSON.stringify({ type: 'claude-console', apiKey: secret }),
            accountSecretContext('bad', 'credentials'),
          ),
        }),
      ];

      await pool.onModuleInit();

      expect(pool.get('good')?.status).toBe('active');
      expect(pool.get('bad')).toMatchObject({
        status: 'auth_failed',
        statusReason: UNREADABLE_CREDENTIALS_REASON,
      });
      expect(JSON.stringify(error.mock.calls)).not.toContain(secret);
      expect(JSON.stringify(error.mock.calls)).not.toContain(repository.records[1].credentials);
      error.mockRestore();
    });
  });

  describe('markUsed', () => {
    it('should update memory at once and write SQL only on the throttled flush', async () => {
      repository.records = [record('a')];
      await pool.onModuleInit();

      pool.markUsed('a', 1000);
      pool.markUsed('a', 2000);
      expect(pool.get('a')?.lastUsedAt).toBe(2000);
      expect(repository.touched).toEqual([]);

      await jest.advanceTimersByTimeAsync(30_000);
      expect(repository.touched).toEqual([[{ id: 'a', at: 2000 }]]);
    });

    it('should keep an unflushed use when the pool reloads', async () => {
      repository.records = [record('a', { last_used_at: 500 })];
      await pool.onModuleInit();
      pool.markUsed('a', 9000);
      repository.records[0].updated_at = 2;

      await pool.reload();

      expect(pool.get('a')?.lastUsedAt).toBe(9000);
    });
  });

  describe('applyStatus', () => {
    it('should change the account in memory at once when health persists a status', async () => {
      repository.records = [record('a')];
      await pool.onModuleInit();

      pool.applyStatus('a', 'blocked', 'organization disabled');

      expect(pool.get('a')).toMatchObject({
        status: 'blocked',
        statusReason: 'organization disabled',
      });
    });
  });
});

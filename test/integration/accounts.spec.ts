import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { appLogger, setLogLevel } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { createRedisClients } from 'src/infra/coordination/redis.clients';
import { RedisCoordinator } from 'src/infra/coordination/redis.coordinator';
import { SecretBox } from 'src/infra/crypto/secret-box';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import {
  AccountCodec,
  accountSecretContext,
  UNREADABLE_CREDENTIALS_REASON,
} from 'src/modules/accounts/account-codec';
import { accountKeys } from 'src/modules/accounts/account-coordination.keys';
import { AccountGroupsRepository } from 'src/modules/accounts/account-groups.repository';
import { AccountGroupsService } from 'src/modules/accounts/account-groups.service';
import { AccountHealthEventsRepository } from 'src/modules/accounts/account-health-events.repository';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountSecretsService } from 'src/modules/accounts/account-secrets.service';
import { AccountsExceptionCode } from 'src/modules/accounts/accounts.exception';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import { AccountsService } from 'src/modules/accounts/accounts.service';
import { createTempPostgresDatabase } from '../support/databases';
import { describeWithPostgres, describeWithRedis } from '../support/services';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

const ENCRYPTION_KEY = 'integration-test-encryption-key-0123456789';
const API_KEY = 'sk-ant-api03-INTEGRATION-SECRET-KEY-abcdef0123456789';
const PROXY_PASSWORD = 'proxy-pass-SECRET-42';

/** One application instance's accounts stack over a shared database and coordinator store. */
interface Stack {
  coordinator: Coordinator;
  pool: AccountPool;
  health: AccountHealthService;
  accounts: AccountsService;
  groups: AccountGroupsService;
  close(): Promise<void>;
}

function configFor(env: Partial<EnvironmentSchema> = {}): ConfigService {
  return new ConfigService(
    Object.assign(new EnvironmentSchema(), { ACCOUNT_HEALTH_HISTORY: 3 }, env),
  );
}

async function createStack(
  db: Db,
  coordinator: Coordinator,
  env: Partial<EnvironmentSchema> = {},
): Promise<Stack> {
  const config = configFor(env);
  const codec = new AccountCodec(new SecretBox(ENCRYPTION_KEY), config);
  const accountsRepository = new AccountsRepository(db);
  const groupsRepository = new AccountGroupsRepository(db);
  const pool = new AccountPool(accountsRepository, codec, coordinator, { reloadDebounceMs: 20 });
  const health = new AccountHealthService(
    pool,
    accountsRepository,
    new AccountHealthEventsRepository(db),
    config,
    new FixedRuntimeSettings(config.env),
    coordinator,
  );
  const accounts = new AccountsService(
    accountsRepository,
    groupsRepository,
    codec,
    pool,
    health,
    coordinator,
  );
  const groups = new AccountGroupsService(groupsRepository, accountsRepository, pool, coordinator);
  await pool.onModuleInit();
  await health.onModuleInit();
  return {
    coordinator,
    pool,
    health,
    accounts,
    groups,
    close: async () => {
      await health.onModuleDestroy();
      await pool.onModuleDestroy();
      await coordinator.close();
    },
  };
}

/** Polls until the check holds; the generous bound only tells a broken run from a slow one. */
async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function clearTables(db: Db): Promise<void> {
  await db.deleteFrom('account_health_events').execute();
  await db.deleteFrom('account_group_members').execute();
  await db.deleteFrom('accounts').execute();
  await db.deleteFrom('account_groups').execute();
}

interface OpenDatabase {
  db: Db;
  drop(): Promise<void>;
}

async function openSqlite(): Promise<OpenDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-accounts-'));
  const db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'test.db') });
  await migrateToLatest(db);
  return { db, drop: () => db.destroy() };
}

async function openPostgres(baseUrl: string): Promise<OpenDatabase> {
  const temp = await createTempPostgresDatabase(baseUrl);
  const db = createDatabase({ engine: 'postgres', url: temp.url, poolSize: 4 });
  await migrateToLatest(db);
  return {
    db,
    drop: async () => {
      await db.destroy();
      await temp.drop();
    },
  };
}

beforeAll(() => {
  setLogLevel(process.env.LOG_LEVEL ?? 'silent');
});

/** The same behaviour on every SQL engine. */
function accountsOnEngine(open: () => Promise<OpenDatabase>): void {
  let database: OpenDatabase;
  let store: LocalCoordinatorStore;
  let a: Stack;
  const extra: Stack[] = [];

  beforeAll(async () => {
    database = await open();
  });

  afterAll(async () => {
    await database.drop();
  });

  beforeEach(async () => {
    await clearTables(database.db);
    store = new LocalCoordinatorStore();
    a = await createStack(database.db, new LocalCoordinator({ instanceId: 'a', store }));
  });

  afterEach(async () => {
    await Promise.all([a, ...extra.splice(0)].map((stack) => stack.close()));
  });

  async function secondInstance(): Promise<Stack> {
    const stack = await createStack(database.db, new LocalCoordinator({ instanceId: 'b', store }));
    extra.push(stack);
    return stack;
  }

  const consoleAccount = {
    name: 'console-1',
    type: 'claude-console' as const,
    credentials: { apiKey: API_KEY },
    proxy: `socks5://proxy-user:${PROXY_PASSWORD}@127.0.0.1:1080`,
  };

  describe('create', () => {
    it('should store credentials and proxy encrypted and never return the secrets', async () => {
      const created = await a.accounts.create(consoleAccount);

      const raw = await database.db
        .selectFrom('accounts')
        .select(['credentials', 'proxy'])
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
      expect(raw.credentials).toMatch(/^v2:/);
      expect(raw.credentials).not.toContain(API_KEY);
      expect(raw.proxy).toMatch(/^v2:/);
      expect(raw.proxy).not.toContain(PROXY_PASSWORD);

      const shown = JSON.stringify(await a.accounts.get(created.id));
      expect(shown).not.toContain(API_KEY);
      expect(shown).not.toContain(PROXY_PASSWORD);
      expect(created).toMatchObject({
        platform: 'claude',
        baseUrl: null,
        effectiveBaseUrl: 'https://api.anthropic.com',
        priority: 50,
        weight: 1,
        enabled: true,
        schedulable: true,
        credentials: { type: 'claude-console', apiKeyHint: 'sk-ant-…6789', readable: true },
        proxy: 'socks5://proxy-user:****@127.0.0.1:1080',
        status: 'active',
        routable: true,
        notRoutableBecause: null,
      });
    });

    it('should refuse a second account with the same name', async () => {
      await a.accounts.create(consoleAccount);
      await expect(a.accounts.create({ ...consoleAccount, proxy: null })).rejects.toMatchObject({
        code: AccountsExceptionCode.NAME_TAKEN,
        status: 409,
      });
    });

    it('should require a base URL when the account is another relay', async () => {
      await expect(
        a.accounts.create({ name: 'relay', type: 'ccr', credentials: { apiKey: API_KEY } }),
      ).rejects.toMatchObject({ code: AccountsExceptionCode.INVALID_BASE_URL });
      const created = await a.accounts.create({
        name: 'relay',
        type: 'ccr',
        credentials: { apiKey: API_KEY, authScheme: 'bearer' },
        baseUrl: 'https://relay.example/api/',
        models: { 'claude-sonnet-4-5': 'sonnet-upstream' },
      });
      expect(created).toMatchObject({
        baseUrl: 'https://relay.example/api',
        effectiveBaseUrl: 'https://relay.example/api',
        models: { 'claude-sonnet-4-5': 'sonnet-upstream' },
      });
    });

    it('should refuse a group of another platform or one that does not exist', async () => {
      const gemini = await a.groups.create({ name: 'g-gemini', platform: 'gemini' });
      await expect(
        a.accounts.create({ ...consoleAccount, groupIds: [gemini.id] }),
      ).rejects.toMatchObject({ code: AccountsExceptionCode.PLATFORM_MISMATCH });
      await expect(
        a.accounts.create({ ...consoleAccount, groupIds: ['missing'] }),
      ).rejects.toMatchObject({ code: AccountsExceptionCode.GROUP_NOT_FOUND });
    });
  });

  describe('list', () => {
    it('should filter by type, enabled and group and paginate by priority', async () => {
      const group = await a.groups.create({ name: 'team', platform: 'claude' });
      for (let i = 0; i < 5; i++) {
        await a.accounts.create({
          name: `acc-${i}`,
          type: i % 2 === 0 ? 'claude-console' : 'claude-oauth',
          credentials: i % 2 === 0 ? { apiKey: API_KEY } : { accessToken: `at-${i}` },
          priority: 100 - i,
          enabled: i !== 4,
          groupIds: i < 2 ? [group.id] : [],
        });
      }

      const page1 = await a.accounts.list({ page: 1, pageSize: 2 });
      const page3 = await a.accounts.list({ page: 3, pageSize: 2 });
      expect(page1.total).toBe(5);
      expect(page1.items.map((x) => x.name)).toEqual(['acc-4', 'acc-3']);
      expect(page3.items.map((x) => x.name)).toEqual(['acc-0']);
      expect((await a.accounts.list({ type: 'claude-oauth' })).items.map((x) => x.name)).toEqual([
        'acc-3',
        'acc-1',
      ]);
      expect((await a.accounts.list({ enabled: false })).items.map((x) => x.name)).toEqual([
        'acc-4',
      ]);
      const members = await a.accounts.list({ groupId: group.id });
      expect(members.items.map((x) => x.name)).toEqual(['acc-1', 'acc-0']);
      expect(members.items[0]?.groupIds).toEqual([group.id]);

      // Sorting: by name either way, and nulls last whatever the order.
      const byName = await a.accounts.list({ sortBy: 'name', sortOrder: 'desc' });
      expect(byName.items.map((x) => x.name)).toEqual([
        'acc-4',
        'acc-3',
        'acc-2',
        'acc-1',
        'acc-0',
      ]);
      const byPriorityDesc = await a.accounts.list({ sortBy: 'priority', sortOrder: 'desc' });
      expect(byPriorityDesc.items.map((x) => x.name)).toEqual([
        'acc-0',
        'acc-1',
        'acc-2',
        'acc-3',
        'acc-4',
      ]);
      const secondPage = await a.accounts.list({ sortBy: 'name', page: 2, pageSize: 2 });
      expect(secondPage.items.map((x) => x.name)).toEqual(['acc-2', 'acc-3']);
      // Never used: no value, so the name decides.
      const neverUsed = await a.accounts.list({ sortBy: 'lastUsedAt', sortOrder: 'desc' });
      expect(neverUsed.items.map((x) => x.name)).toEqual([
        'acc-0',
        'acc-1',
        'acc-2',
        'acc-3',
        'acc-4',
      ]);
      // Search: a case-insensitive substring of the name, LIKE's wildcards taken literally.
      await a.accounts.create({
        name: 'Team_Alpha',
        type: 'claude-console',
        credentials: { apiKey: API_KEY },
      });
      expect((await a.accounts.list({ search: 'team_a' })).items.map((x) => x.name)).toEqual([
        'Team_Alpha',
      ]);
      expect((await a.accounts.list({ search: 'acc_' })).total).toBe(0);
      expect((await a.accounts.list({ search: 'ACC-' })).total).toBe(5);
    });
  });

  describe('update', () => {
    it('should merge credentials, keep the refresh token and move groups', async () => {
      const g1 = await a.groups.create({ name: 'g1', platform: 'claude' });
      const g2 = await a.groups.create({ name: 'g2', platform: 'claude' });
      const created = await a.accounts.create({
        name: 'oauth',
        type: 'claude-oauth',
        credentials: {
          accessToken: 'at-old',
          refreshToken: 'rt-keep',
          expiresAt: Date.now() + 1000,
        },
        groupIds: [g1.id],
      });

      const updated = await a.accounts.update(created.id, {
        name: 'oauth-renamed',
        credentials: { accessToken: 'at-new-0123456789abcdef' },
        groupIds: [g2.id],
        proxy: null,
        priority: 5,
      });

      expect(updated).toMatchObject({
        name: 'oauth-renamed',
        priority: 5,
        groupIds: [g2.id],
        credentials: { hasRefreshToken: true, accessTokenHint: 'at-new-…cdef' },
      });
      const routable = await a.accounts.routableAccount(created.id);
      expect(routable.credentials).toMatchObject({
        accessToken: 'at-new-0123456789abcdef',
        refreshToken: 'rt-keep',
      });
      expect((await a.groups.get(g1.id)).accountIds).toEqual([]);
    });

    it('should give an auth_failed account a new chance when its credentials are replaced', async () => {
      const created = await a.accounts.create(consoleAccount);
      await a.pool.reload();
      await a.health.record(a.pool.get(created.id)!, { kind: 'auth_failed', status: 401 });
      expect((await a.accounts.get(created.id)).notRoutableBecause).toBe(
        'authentication failed: authentication failed (401)',
      );

      await a.accounts.update(created.id, { credentials: { apiKey: `${API_KEY}-rotated` } });

      const detail = await a.accounts.get(created.id);
      expect(detail).toMatchObject({ status: 'active', routable: true });
      expect(detail.recentHealthEvents[0]).toMatchObject({
        state: 'ok',
        reason: 'credentials replaced by admin (was auth_failed)',
      });
    });
  });

  describe('delete', () => {
    it('should remove the account with its memberships and history', async () => {
      const group = await a.groups.create({ name: 'g', platform: 'claude' });
      const created = await a.accounts.create({ ...consoleAccount, groupIds: [group.id] });
      await a.pool.reload();
      await a.health.record(a.pool.get(created.id)!, { kind: 'overloaded', status: 529 });
      await a.health.flush();

      await a.accounts.delete(created.id);

      await expect(a.accounts.get(created.id)).rejects.toMatchObject({
        code: AccountsExceptionCode.ACCOUNT_NOT_FOUND,
        status: 404,
      });
      expect((await a.groups.get(group.id)).accountIds).toEqual([]);
      const events = await database.db.selectFrom('account_health_events').selectAll().execute();
      expect(events).toEqual([]);
    });
  });

  describe('groups', () => {
    it('should replace members and refuse accounts of another platform', async () => {
      const x = await a.accounts.create({ ...consoleAccount, name: 'x', proxy: null });
      const y = await a.accounts.create({ ...consoleAccount, name: 'y', proxy: null });
      const group = await a.groups.create({ name: 'team', platform: 'claude', accountIds: [x.id] });
      const other = await a.groups.create({ name: 'gem', platform: 'gemini' });

      const updated = await a.groups.setMembers(group.id, [y.id, x.id, y.id]);

      expect([...updated.accountIds].sort()).toEqual([x.id, y.id].sort());
      await expect(a.groups.setMembers(other.id, [x.id])).rejects.toMatchObject({
        code: AccountsExceptionCode.PLATFORM_MISMATCH,
      });
      await expect(a.groups.create({ name: 'team', platform: 'claude' })).rejects.toMatchObject({
        code: AccountsExceptionCode.GROUP_NAME_TAKEN,
      });
      await a.groups.delete(group.id);
      expect((await a.accounts.get(x.id)).groupIds).toEqual([]);
    });
  });

  describe('pool', () => {
    it("should pick up another instance's changes through the invalidation channel", async () => {
      const b = await secondInstance();
      const group = await a.groups.create({ name: 'team', platform: 'claude' });

      const created = await a.accounts.create({ ...consoleAccount, groupIds: [group.id] });
      await eventually(
        () => a.pool.get(created.id) !== undefined && b.pool.get(created.id) !== undefined,
      );
      expect(b.pool.get(created.id)).toMatchObject({
        credentials: { type: 'claude-console', apiKey: API_KEY },
        proxyUrl: `socks5://proxy-user:${PROXY_PASSWORD}@127.0.0.1:1080`,
      });
      expect(b.pool.groupMembers(group.id).map((x) => x.id)).toEqual([created.id]);

      await a.accounts.setEnabled(created.id, false);
      await eventually(() => b.pool.get(created.id)?.enabled === false);
      expect(b.pool.forPlatform('claude')).toEqual([]);

      await a.accounts.delete(created.id);
      await eventually(() => b.pool.get(created.id) === undefined);
    });

    it('should keep serving the other accounts when one cannot be decrypted', async () => {
      const good = await a.accounts.create({ ...consoleAccount, proxy: null });
      const bad = await a.accounts.create({ ...consoleAccount, name: 'bad', proxy: null });
      const foreign = new SecretBox('a-key-this-instance-does-not-know-0123456');
      await database.db
        .updateTable('accounts')
        .set({
          credentials: foreign.encrypt(
            '{"type":"claude-console","apiKey":"x"}',
            accountSecretContext(bad.id, 'credentials'),
          ),
          updated_at: 2,
        })
        .where('id', '=', bad.id)
        .execute();

      await a.pool.reload();

      expect(
        a.pool
          .forPlatform('claude')
          .map((x) => x.id)
          .sort(),
      ).toEqual([bad.id, good.id].sort());
      expect(a.health.routable(a.pool.get(good.id)!).ok).toBe(true);
      expect(a.health.routable(a.pool.get(bad.id)!)).toEqual({
        ok: false,
        state: { state: 'auth_failed', reason: UNREADABLE_CREDENTIALS_REASON },
      });
      expect((await a.accounts.get(bad.id)).credentials).toEqual({
        type: 'claude-console',
        readable: false,
      });
    });
  });

  describe('secrets bound to their row', () => {
    it("should refuse to decrypt credentials moved to another account's row", async () => {
      const error = jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
      const first = await a.accounts.create({ ...consoleAccount, name: 'first' });
      const second = await a.accounts.create({
        ...consoleAccount,
        name: 'second',
        credentials: { apiKey: 'sk-ant-api03-SECOND-ACCOUNT-KEY-0123456789' },
      });
      const rows = await database.db
        .selectFrom('accounts')
        .select(['id', 'credentials', 'proxy'])
        .execute();
      const sealed = new Map(rows.map((r) => [r.id, r]));
      // Someone with write access to the database swaps the two accounts' sealed values.
      await database.db.transaction().execute(async (trx) => {
        for (const [from, to] of [
          [first.id, second.id],
          [second.id, first.id],
        ] as const) {
          await trx
            .updateTable('accounts')
            .set({
              credentials: sealed.get(from)!.credentials,
              proxy: sealed.get(from)!.proxy,
              updated_at: 3,
            })
            .where('id', '=', to)
            .execute();
        }
      });

      await a.pool.reload();

      for (const id of [first.id, second.id]) {
        const account = a.pool.get(id)!;
        expect(account).toMatchObject({
          status: 'auth_failed',
          statusReason: UNREADABLE_CREDENTIALS_REASON,
        });
        expect(account.credentials).toEqual({ type: 'claude-console', apiKey: '' });
        expect(account.proxyUrl).toBeNull();
        expect((await a.accounts.get(id)).credentials).toEqual({
          type: 'claude-console',
          readable: false,
        });
      }
      // Loudly: the pool names both accounts in an error line (ids only, no sealed value).
      const logged = error.mock.calls.map((call) => JSON.stringify(call));
      expect(logged.filter((line) => line.includes(first.id)).length).toBeGreaterThanOrEqual(1);
      expect(logged.filter((line) => line.includes(second.id)).length).toBeGreaterThanOrEqual(1);
      expect(logged.join('')).not.toContain(sealed.get(first.id)!.credentials);
      error.mockRestore();
    });
  });

  describe('v1 secrets', () => {
    it('should rewrite v1 values in the current format on the next save of the account', async () => {
      const created = await a.accounts.create(consoleAccount);
      // As the first format stored them: SHA-256 of the key, no associated data.
      const key = createHash('sha256').update(ENCRYPTION_KEY, 'utf8').digest();
      const keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
      const sealV1 = (plaintext: string): string => {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
        return ['v1', keyId, iv, cipher.getAuthTag(), data]
          .map((part) => (typeof part === 'string' ? part : part.toString('base64')))
          .join(':');
      };
      await database.db
        .updateTable('accounts')
        .set({
          credentials: sealV1(JSON.stringify({ type: 'claude-console', apiKey: API_KEY })),
          proxy: sealV1(consoleAccount.proxy),
          updated_at: 4,
        })
        .where('id', '=', created.id)
        .execute();
      await a.pool.reload();
      expect(a.pool.get(created.id)!.credentials).toEqual({
        type: 'claude-console',
        apiKey: API_KEY,
      });

      await a.accounts.update(created.id, { priority: 3 });

      const raw = await database.db
        .selectFrom('accounts')
        .select(['credentials', 'proxy'])
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
      expect(raw.credentials).toMatch(/^v2:/);
      expect(raw.proxy).toMatch(/^v2:/);
      expect(a.pool.get(created.id)).toMatchObject({
        priority: 3,
        status: 'active',
        credentials: { type: 'claude-console', apiKey: API_KEY },
        proxyUrl: consoleAccount.proxy,
      });
    });
  });

  describe(AccountSecretsService.name, () => {
    it('should re-encrypt every secret under a new key once, and nothing on a second run', async () => {
      const created = await a.accounts.create(consoleAccount);
      const newKey = 'integration-test-NEW-encryption-key-9876543210';
      const rotation = new AccountSecretsService(
        new AccountsRepository(database.db),
        new AccountCodec(new SecretBox(newKey, [ENCRYPTION_KEY]), configFor()),
        a.coordinator,
      );

      const first = await rotation.rotate();
      const second = await rotation.rotate();

      expect(first).toEqual({ accounts: 1, rewritten: 2, current: 0, unreadable: [] });
      expect(second).toEqual({ accounts: 1, rewritten: 0, current: 2, unreadable: [] });
      const record = await new AccountsRepository(database.db).findById(created.id);
      const newOnly = new AccountCodec(new SecretBox(newKey), configFor());
      expect(newOnly.openCredentials(record!)).toEqual({ type: 'claude-console', apiKey: API_KEY });
      expect(newOnly.openProxy(record!)).toBe(consoleAccount.proxy);
    });
  });

  describe('upstream host policy', () => {
    it('should require the credentials again when the base URL moves to another host', async () => {
      const created = await a.accounts.create({ ...consoleAccount, proxy: null });

      const refused = a.accounts.update(created.id, { baseUrl: 'https://collector.example' });
      await expect(refused).rejects.toMatchObject({
        code: AccountsExceptionCode.CREDENTIALS_REQUIRED,
        status: 400,
        details: { field: 'credentials', because: 'baseUrl' },
      });
      await expect(refused).rejects.toThrow(/send credentials \(apiKey, authScheme\?\) again/);
      // Partial credentials would keep the stored key: not enough either.
      await expect(
        a.accounts.update(created.id, {
          baseUrl: 'https://collector.example',
          credentials: { authScheme: 'bearer' },
        }),
      ).rejects.toMatchObject({ code: AccountsExceptionCode.CREDENTIALS_REQUIRED });
      expect((await a.accounts.get(created.id)).effectiveBaseUrl).toBe('https://api.anthropic.com');
      expect(a.pool.get(created.id)!.baseUrl).toBe('https://api.anthropic.com');

      // Same origin, other path: the credentials go nowhere new.
      await a.accounts.update(created.id, { baseUrl: 'https://api.anthropic.com/mirror' });
      const moved = await a.accounts.update(created.id, {
        baseUrl: 'https://collector.example',
        credentials: { apiKey: 'sk-ant-api03-KEY-FOR-THE-NEW-HOST-0123456789' },
      });
      expect(moved.effectiveBaseUrl).toBe('https://collector.example');
      expect(a.pool.get(created.id)!.credentials).toEqual({
        type: 'claude-console',
        apiKey: 'sk-ant-api03-KEY-FOR-THE-NEW-HOST-0123456789',
      });
    });

    it('should require the credentials again when the proxy moves to another host', async () => {
      const created = await a.accounts.create(consoleAccount);

      await expect(
        a.accounts.update(created.id, { proxy: 'socks5://127.0.0.2:1080' }),
      ).rejects.toMatchObject({
        code: AccountsExceptionCode.CREDENTIALS_REQUIRED,
        details: { field: 'credentials', because: 'proxy' },
      });
      // A new password for the same proxy, or no proxy at all, sends nothing to a new host.
      await a.accounts.update(created.id, {
        proxy: 'socks5://proxy-user:new-password@127.0.0.1:1080',
      });
      await a.accounts.update(created.id, { proxy: null });
      await expect(
        a.accounts.update(created.id, { proxy: 'socks5://127.0.0.2:1080' }),
      ).rejects.toMatchObject({ code: AccountsExceptionCode.CREDENTIALS_REQUIRED });
      const moved = await a.accounts.update(created.id, {
        proxy: 'socks5://127.0.0.2:1080',
        credentials: { apiKey: API_KEY },
      });
      expect(moved.proxy).toBe('socks5://127.0.0.2:1080');
    });

    it('should refuse plain http:// outside loopback and hosts off the allowlist', async () => {
      await expect(
        a.accounts.create({ ...consoleAccount, proxy: null, baseUrl: 'http://relay.example' }),
      ).rejects.toMatchObject({
        code: AccountsExceptionCode.UPSTREAM_NOT_ALLOWED,
        details: { field: 'baseUrl' },
      });
      await expect(
        a.accounts.create({ ...consoleAccount, proxy: 'http://u:p@proxy.example:3128' }),
      ).rejects.toMatchObject({
        code: AccountsExceptionCode.UPSTREAM_NOT_ALLOWED,
        details: { field: 'proxy' },
      });
      // Loopback stays allowed (local fake upstreams, a sidecar proxy).
      await a.accounts.create({
        ...consoleAccount,
        name: 'local',
        baseUrl: 'http://127.0.0.1:9/',
        proxy: 'http://u:p@localhost:3128',
      });

      const strict = await createStack(
        database.db,
        new LocalCoordinator({ instanceId: 'strict', store }),
        { UPSTREAM_HOST_ALLOWLIST: '*.relay.example, 127.0.0.1' },
      );
      extra.push(strict);
      await expect(
        strict.accounts.create({
          ...consoleAccount,
          name: 'off-list',
          proxy: null,
          baseUrl: 'https://relay.example.evil.test',
        }),
      ).rejects.toThrow(/relay\.example\.evil\.test is not in UPSTREAM_HOST_ALLOWLIST/);
      // The operator's own ANTHROPIC_BASE_URL needs no entry.
      await strict.accounts.create({ ...consoleAccount, name: 'default-host' });
      await strict.accounts.create({
        ...consoleAccount,
        name: 'listed',
        baseUrl: 'https://eu.relay.example/api',
      });
    });

    it('should keep an account saved before the allowlist visible but never route it', async () => {
      const created = await a.accounts.create({
        ...consoleAccount,
        proxy: null,
        baseUrl: 'https://old-mirror.example',
      });
      const strict = await createStack(
        database.db,
        new LocalCoordinator({ instanceId: 'strict', store }),
        { UPSTREAM_HOST_ALLOWLIST: 'api.anthropic.com' },
      );
      extra.push(strict);

      const account = strict.pool.get(created.id)!;
      expect(account.status).toBe('blocked');
      expect(account.statusReason).toMatch(/old-mirror\.example is not in UPSTREAM_HOST_ALLOWLIST/);
      expect(strict.health.routable(account).ok).toBe(false);
      expect((await strict.accounts.get(created.id)).notRoutableBecause).toMatch(
        /upstream refused by policy/,
      );
    });
  });

  describe('health', () => {
    it("should explain why an account is not routable and reset it on an admin's request", async () => {
      const created = await a.accounts.create(consoleAccount);
      await a.pool.reload();
      const account = a.pool.get(created.id)!;
      await a.health.record(account, {
        kind: 'rate_limited',
        resetAt: Date.now() + 600_000,
        scope: 'account',
      });
      await a.health.record(account, {
        kind: 'rate_limited',
        resetAt: Date.now() + 900_000,
        scope: 'opus',
      });

      const detail = await a.accounts.get(created.id);
      expect(detail.routable).toBe(false);
      expect(detail.notRoutableBecause).toMatch(/^rate limited until .*: rate limited$/);
      expect(detail.healthStates.map((s) => s.scope).sort()).toEqual(['account', 'opus']);
      expect(detail.recentHealthEvents.map((e) => e.state)).toEqual([
        'rate_limited',
        'rate_limited',
      ]);

      const reset = await a.accounts.resetHealth(created.id);
      expect(reset).toMatchObject({ routable: true, healthStates: [] });
      expect(reset.recentHealthEvents[0]).toMatchObject({ state: 'ok', reason: 'reset by admin' });

      await a.accounts.setEnabled(created.id, false);
      expect((await a.accounts.get(created.id)).notRoutableBecause).toBe('disabled by an admin');
    });

    it('should list the accounts in a time-bound state with their states, by kind', async () => {
      const cooling = await a.accounts.create(consoleAccount);
      const limited = await a.accounts.create({ ...consoleAccount, name: 'limited', proxy: null });
      await a.accounts.create({ ...consoleAccount, name: 'healthy', proxy: null });
      await a.pool.reload();
      await a.health.record(a.pool.get(cooling.id)!, { kind: 'overloaded', status: 529 });
      await a.health.record(a.pool.get(limited.id)!, {
        kind: 'rate_limited',
        resetAt: Date.now() + 600_000,
        scope: 'opus',
      });

      const coolingPage = await a.accounts.list({ health: 'cooling' });
      expect(coolingPage.total).toBe(1);
      expect(coolingPage.items[0]).toMatchObject({
        id: cooling.id,
        healthStates: [{ state: 'cooling', scope: 'account', reason: 'overloaded (529)' }],
      });
      expect(coolingPage.items[0].healthStates[0].until).toEqual(expect.any(String));
      const limitedPage = await a.accounts.list({ health: 'rate_limited' });
      expect(limitedPage.items.map((x) => x.name)).toEqual(['limited']);
      expect(limitedPage.items[0].healthStates[0]).toMatchObject({ scope: 'opus' });
      const all = await a.accounts.list({ sortBy: 'name' });
      expect(all.items.find((x) => x.name === 'healthy')!.healthStates).toEqual([]);

      await a.accounts.resetHealth(cooling.id);
      expect((await a.accounts.list({ health: 'cooling' })).items).toEqual([]);
    });

    it('should keep only the configured number of transitions per account', async () => {
      const created = await a.accounts.create(consoleAccount);
      const other = await a.accounts.create({ ...consoleAccount, name: 'other', proxy: null });
      await a.pool.reload();
      const account = a.pool.get(created.id)!;
      // Five scopes, so each record is a transition of its own.
      for (const scope of ['opus', 'sonnet', 'haiku', 'other', 'account']) {
        await a.health.record(account, {
          kind: 'rate_limited',
          resetAt: Date.now() + 60_000,
          scope,
        });
      }
      await a.health.record(a.pool.get(other.id)!, { kind: 'overloaded', status: 529 });
      await a.health.flush();

      const history = await a.accounts.healthHistory(created.id, 50);
      expect(history.map((e) => e.scope)).toEqual(['account', 'other', 'haiku']);
      const stored = await database.db
        .selectFrom('account_health_events')
        .select('id')
        .where('account_id', '=', created.id)
        .execute();
      expect(stored).toHaveLength(3);
      expect(await a.accounts.healthHistory(other.id, 50)).toHaveLength(1);
    });
  });
}

describe('accounts on SQLite', () => {
  accountsOnEngine(openSqlite);
});

describeWithPostgres('accounts on PostgreSQL', (url) => {
  accountsOnEngine(() => openPostgres(url));
});

describeWithRedis('account health shared through Redis', (url) => {
  let admin: Redis;
  let database: OpenDatabase;
  let keyPrefix: string;
  const stacks: Stack[] = [];

  function redisCoordinator(instanceId: string): RedisCoordinator {
    const { client, subscriber } = createRedisClients({ url });
    return new RedisCoordinator({ instanceId, client, subscriber, keyPrefix });
  }

  async function instance(name: string): Promise<Stack> {
    const stack = await createStack(database.db, redisCoordinator(name));
    stacks.push(stack);
    return stack;
  }

  beforeAll(async () => {
    admin = new Redis(url, { maxRetriesPerRequest: 1 });
    database = await openSqlite();
  });

  afterAll(async () => {
    await admin.quit();
    await database.drop();
  });

  beforeEach(async () => {
    keyPrefix = `sytest:${randomBytes(6).toString('hex')}:`;
    await clearTables(database.db);
  });

  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((stack) => stack.close()));
    const keys = await admin.keys(`${keyPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  });

  it('should share a cooldown with every instance and let it expire by its TTL', async () => {
    const a = await instance('a');
    const b = await instance('b');
    const created = await a.accounts.create({
      name: 'shared',
      type: 'claude-console',
      credentials: { apiKey: API_KEY },
    });
    await eventually(
      () => a.pool.get(created.id) !== undefined && b.pool.get(created.id) !== undefined,
    );

    const recordedAt = Date.now();
    await a.health.record(a.pool.get(created.id)!, {
      kind: 'rate_limited',
      resetAt: recordedAt + 30_000,
      scope: 'account',
    });

    await eventually(() => !b.health.routable(b.pool.get(created.id)!).ok);
    const ttl = await admin.pttl(`${keyPrefix}${accountKeys.health(created.id, 'account')}`);
    // Expires at the reset: what is left is 30 s minus the time since, however long that was.
    expect(ttl).toBeGreaterThan(30_000 - (Date.now() - recordedAt) - 1000);
    expect(ttl).toBeLessThanOrEqual(30_000);

    // An instance started now loads the state from Redis before routing anything.
    const c = await instance('c');
    expect(c.health.routable(c.pool.get(created.id)!)).toMatchObject({
      ok: false,
      state: { state: 'rate_limited' },
    });

    await c.accounts.resetHealth(created.id);
    await eventually(
      () =>
        a.health.routable(a.pool.get(created.id)!).ok &&
        b.health.routable(b.pool.get(created.id)!).ok,
    );
  });

  it('should spread a persistent status to every pool through the invalidation channel', async () => {
    const a = await instance('a');
    const b = await instance('b');
    const created = await a.accounts.create({
      name: 'banned',
      type: 'claude-console',
      credentials: { apiKey: API_KEY },
    });
    await eventually(
      () => a.pool.get(created.id) !== undefined && b.pool.get(created.id) !== undefined,
    );

    await a.health.record(a.pool.get(created.id)!, {
      kind: 'blocked',
      message: 'This organization has been disabled.',
    });

    await eventually(() => b.pool.get(created.id)?.status === 'blocked');
    expect(b.health.routable(b.pool.get(created.id)!)).toEqual({
      ok: false,
      state: { state: 'blocked', reason: 'This organization has been disabled.' },
    });
  });
});

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { appLogger, setLogLevel } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { SecretBox } from 'src/infra/crypto/secret-box';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountGroupsRepository } from 'src/modules/accounts/account-groups.repository';
import { AccountHealthEventsRepository } from 'src/modules/accounts/account-health-events.repository';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import { AccountsService } from 'src/modules/accounts/accounts.service';
import {
  ClaudeOAuthRefresher,
  type ClaudeOAuthRefresherOptions,
} from 'src/modules/oauth/claude/claude-oauth-refresher';
import type { AccountDispatcherFactory } from 'src/modules/oauth/account-dispatcher';
import { UpstreamHttp } from 'src/infra/http/upstream-http.service';
import { startHttpProxy, startSocks5Proxy, type LocalProxy } from '../support/proxies';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

const ENCRYPTION_KEY = 'oauth-refresh-test-encryption-key-0123456789';
const CLIENT_ID = 'test-client-id';

interface TokenCall {
  body: Record<string, unknown>;
}

/** A stand-in for Anthropic's OAuth token endpoint. */
class TokenEndpoint {
  readonly calls: TokenCall[] = [];
  status = 200;
  delayMs = 0;
  private server!: Server;
  private issued = 0;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/oauth/token`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.calls.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        if (this.status !== 200) {
          res.statusCode = this.status;
          res.end(
            JSON.stringify({ error: 'invalid_grant', error_description: 'Refresh token revoked' }),
          );
          return;
        }
        this.issued += 1;
        res.end(
          JSON.stringify({
            token_type: 'Bearer',
            access_token: `sk-ant-oat01-NEW-ACCESS-${this.issued}-0123456789`,
            refresh_token: `sk-ant-ort01-NEW-REFRESH-${this.issued}-0123456789`,
            expires_in: 28800,
            scope: 'user:inference user:profile',
            account: { uuid: 'acc-uuid', email_address: 'dev@example.com' },
            organization: { uuid: 'org-uuid', name: 'Example Org' },
          }),
        );
      }, this.delayMs);
    });
  }
}

interface Instance {
  pool: AccountPool;
  health: AccountHealthService;
  accounts: AccountsService;
  refresher: ClaudeOAuthRefresher;
  close(): Promise<void>;
}

describe(ClaudeOAuthRefresher.name, () => {
  let endpoint: TokenEndpoint;
  let db: Db;
  let store: LocalCoordinatorStore;
  const instances: Instance[] = [];

  async function instance(
    name: string,
    dispatcherFactory?: AccountDispatcherFactory,
    options: Partial<ClaudeOAuthRefresherOptions> = {},
    env: Partial<EnvironmentSchema> = {},
  ): Promise<Instance> {
    const coordinator = new LocalCoordinator({ instanceId: name, store });
    const config = new ConfigService(
      Object.assign(new EnvironmentSchema(), {
        CLAUDE_OAUTH_TOKEN_URL: endpoint.url,
        CLAUDE_OAUTH_CLIENT_ID: CLIENT_ID,
        ...env,
      }),
    );
    const codec = new AccountCodec(new SecretBox(ENCRYPTION_KEY), config);
    const accountsRepository = new AccountsRepository(db);
    const pool = new AccountPool(accountsRepository, codec, coordinator, { reloadDebounceMs: 10 });
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
      new AccountGroupsRepository(db),
      codec,
      pool,
      health,
      coordinator,
    );
    const refresher = new ClaudeOAuthRefresher(
      pool,
      accountsRepository,
      codec,
      health,
      config,
      coordinator,
      dispatcherFactory,
      { lockPollMs: 20, ...options },
    );
    await pool.onModuleInit();
    await health.onModuleInit();
    const created: Instance = {
      pool,
      health,
      accounts,
      refresher,
      close: async () => {
        await health.onModuleDestroy();
        await pool.onModuleDestroy();
        await coordinator.close();
      },
    };
    instances.push(created);
    return created;
  }

  async function oauthAccount(
    on: Instance,
    name: string,
    credentials: Record<string, unknown>,
    extra: { proxy?: string } = {},
  ): Promise<string> {
    const created = await on.accounts.create({
      name,
      type: 'claude-oauth',
      credentials,
      ...extra,
    });
    await on.pool.reload();
    return created.id;
  }

  beforeAll(() => {
    setLogLevel(process.env.LOG_LEVEL ?? 'silent');
  });

  beforeEach(async () => {
    endpoint = new TokenEndpoint();
    await endpoint.start();
    db = createDatabase({ engine: 'sqlite', sqliteFile: ':memory:' });
    await migrateToLatest(db);
    store = new LocalCoordinatorStore();
  });

  afterEach(async () => {
    await Promise.all(instances.splice(0).map((i) => i.close()));
    await db.destroy();
    await endpoint.stop();
  });

  describe('refresh', () => {
    it('should store rotated tokens encrypted and use them at once when the endpoint answers', async () => {
      const a = await instance('a');
      const id = await oauthAccount(a, 'oauth', {
        accessToken: 'sk-ant-oat01-OLD-ACCESS',
        refreshToken: 'sk-ant-ort01-OLD-REFRESH',
        expiresAt: Date.now() - 1000,
      });
      const before = Date.now();

      await expect(a.refresher.refresh(id)).resolves.toBe(true);

      expect(endpoint.calls).toEqual([
        {
          body: {
            grant_type: 'refresh_token',
            refresh_token: 'sk-ant-ort01-OLD-REFRESH',
            client_id: CLIENT_ID,
          },
        },
      ]);
      // No reload needed: the relay retries right after refresh() returns.
      const credentials = a.pool.get(id)!.credentials;
      expect(credentials).toMatchObject({
        type: 'claude-oauth',
        accessToken: 'sk-ant-oat01-NEW-ACCESS-1-0123456789',
        refreshToken: 'sk-ant-ort01-NEW-REFRESH-1-0123456789',
      });
      const expiresAt = (credentials as { expiresAt: number }).expiresAt;
      expect(expiresAt).toBeGreaterThanOrEqual(before + 28_800_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 28_800_000);

      const raw = await db
        .selectFrom('accounts')
        .select(['credentials', 'subscription'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(raw.credentials).not.toContain('NEW-ACCESS');
      expect(raw.credentials).not.toContain('NEW-REFRESH');
      expect(JSON.parse(raw.subscription ?? 'null')).toEqual({
        email: 'dev@example.com',
        accountUuid: 'acc-uuid',
        organizationUuid: 'org-uuid',
        organizationName: 'Example Org',
        scopes: ['user:inference', 'user:profile'],
      });
    });

    it('should keep using the rotated token when it cannot be saved, and save it once SQL accepts it', async () => {
      const warn = jest.spyOn(appLogger, 'warn');
      const a = await instance('a', undefined, { saveRetryBaseMs: 20, saveRetryMaxMs: 100 });
      const id = await oauthAccount(a, 'oauth', {
        accessToken: 'sk-ant-oat01-OLD-ACCESS',
        refreshToken: 'sk-ant-ort01-OLD-REFRESH',
        expiresAt: Date.now() - 1000,
      });
      const codec = new AccountCodec(
        new SecretBox(ENCRYPTION_KEY),
        new ConfigService(new EnvironmentSchema()),
      );
      const storedAccessToken = async (): Promise<string | undefined> => {
        const record = await db
          .selectFrom('accounts')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        const credentials = codec.openCredentials(record);
        return credentials?.type === 'claude-oauth' ? credentials.accessToken : undefined;
      };
      // The database refuses to store credentials (a full disk, a read-only replica, ...).
      await sql`create trigger refuse_credentials before update of credentials on accounts
        begin select raise(abort, 'disk full'); end`.execute(db);

      await expect(a.refresher.refresh(id)).resolves.toBe(true);

      // The provider rotated the refresh token: the new tokens are the only working ones.
      expect(a.pool.get(id)!.credentials).toMatchObject({
        accessToken: 'sk-ant-oat01-NEW-ACCESS-1-0123456789',
        refreshToken: 'sk-ant-ort01-NEW-REFRESH-1-0123456789',
      });
      expect(await storedAccessToken()).toBe('sk-ant-oat01-OLD-ACCESS');
      expect(a.refresher.unsavedAccountIds).toEqual([id]);
      // A reload from SQL (another change to the account) does not bring the spent token back.
      await db
        .updateTable('accounts')
        .set({ priority: 7, updated_at: 5 })
        .where('id', '=', id)
        .execute();
      await a.pool.reload();
      expect(a.pool.get(id)).toMatchObject({
        priority: 7,
        credentials: { accessToken: 'sk-ant-oat01-NEW-ACCESS-1-0123456789' },
      });
      // A second refresh meanwhile spends the new refresh token, not the stored (revoked) one.
      await expect(a.refresher.refresh(id)).resolves.toBe(true);
      expect(endpoint.calls.map((call) => call.body.refresh_token)).toEqual([
        'sk-ant-ort01-OLD-REFRESH',
        'sk-ant-ort01-NEW-REFRESH-1-0123456789',
      ]);

      await sql`drop trigger refuse_credentials`.execute(db);
      const deadline = Date.now() + 20_000;
      while ((await storedAccessToken()) !== 'sk-ant-oat01-NEW-ACCESS-2-0123456789') {
        if (Date.now() > deadline) throw new Error('the rotated token was never saved');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(a.refresher.unsavedAccountIds).toEqual([]);
      expect(a.pool.get(id)!.credentials).toMatchObject({
        accessToken: 'sk-ant-oat01-NEW-ACCESS-2-0123456789',
      });
      const logged = JSON.stringify(warn.mock.calls);
      expect(logged).toContain('could not save the rotated token');
      expect(logged).not.toMatch(/NEW-ACCESS|NEW-REFRESH|OLD-REFRESH/);
      warn.mockRestore();
    });

    it('should answer false and keep the tokens when the endpoint refuses', async () => {
      const a = await instance('a');
      const id = await oauthAccount(a, 'oauth', {
        accessToken: 'at-old',
        refreshToken: 'rt-revoked',
      });
      endpoint.status = 400;

      const result = await a.refresher.refreshWithResult(id);

      expect(result).toEqual({
        ok: false,
        reason: 'refused',
        status: 400,
        detail: 'token endpoint answered 400: invalid_grant: Refresh token revoked',
      });
      expect(a.pool.get(id)!.credentials).toMatchObject({ accessToken: 'at-old' });
    });

    it('should answer false without calling the endpoint when there is no refresh token', async () => {
      const a = await instance('a');
      const id = await oauthAccount(a, 'oauth', { accessToken: 'at-only' });

      await expect(a.refresher.refresh(id)).resolves.toBe(false);
      expect(endpoint.calls).toHaveLength(0);
    });

    it('should refresh once when two instances hit a 401 together', async () => {
      const a = await instance('a');
      const b = await instance('b');
      const id = await oauthAccount(a, 'oauth', { accessToken: 'at-old', refreshToken: 'rt-old' });
      await b.pool.reload();
      endpoint.delayMs = 150;

      const results = await Promise.all([a.refresher.refresh(id), b.refresher.refresh(id)]);

      expect(results).toEqual([true, true]);
      expect(endpoint.calls).toHaveLength(1);
      for (const pool of [a.pool, b.pool]) {
        expect(pool.get(id)!.credentials).toMatchObject({
          accessToken: 'sk-ant-oat01-NEW-ACCESS-1-0123456789',
        });
      }
    });

    describe('through the account proxy', () => {
      const auth = { username: 'proxy-user', password: 'proxy:pass' };
      let proxy: LocalProxy | undefined;

      afterEach(async () => {
        await proxy?.close();
        proxy = undefined;
      });

      it('should not send the refresh token through a proxy the host policy refuses', async () => {
        proxy = await startHttpProxy({ auth });
        const a = await instance('a');
        const id = await oauthAccount(
          a,
          'proxied',
          { accessToken: 'at', refreshToken: 'rt' },
          { proxy: proxy.url },
        );
        const strict = await instance(
          'strict',
          undefined,
          {},
          {
            UPSTREAM_HOST_ALLOWLIST: 'api.anthropic.com',
          },
        );

        const result = await strict.refresher.refreshWithResult(id);

        expect(result).toEqual({
          ok: false,
          reason: 'unavailable',
          detail: 'proxy host 127.0.0.1 is not in UPSTREAM_HOST_ALLOWLIST',
        });
        expect(proxy.connections).toBe(0);
        expect(endpoint.calls).toHaveLength(0);
      });

      it('should send the refresh through an HTTP proxy when the account has one', async () => {
        proxy = await startHttpProxy({ auth });
        const a = await instance('a');
        const id = await oauthAccount(
          a,
          'proxied',
          { accessToken: 'at', refreshToken: 'rt' },
          { proxy: proxy.url },
        );

        await expect(a.refresher.refresh(id)).resolves.toBe(true);

        expect(proxy.requests).toBeGreaterThanOrEqual(1);
        expect(proxy.targets[0]).toBe(new URL(endpoint.url).host);
      });

      it('should send the refresh through a SOCKS5 proxy when the account has one', async () => {
        proxy = await startSocks5Proxy({ auth });
        const a = await instance('a');
        const id = await oauthAccount(
          a,
          'socks',
          { accessToken: 'at', refreshToken: 'rt' },
          { proxy: proxy.url },
        );

        await expect(a.refresher.refresh(id)).resolves.toBe(true);

        expect(proxy.requests).toBe(1);
        expect(endpoint.calls).toHaveLength(1);
      });

      it('should use the shared upstream pools when the module binds the dispatcher factory', async () => {
        proxy = await startSocks5Proxy({ auth });
        const http = new UpstreamHttp(new ConfigService(new EnvironmentSchema()));
        const dispatcherFor = jest.fn((proxyUrl: string) => http.dispatcherFor(proxyUrl));
        try {
          const a = await instance('a', dispatcherFor);
          const id = await oauthAccount(
            a,
            'pooled',
            { accessToken: 'at', refreshToken: 'rt' },
            { proxy: proxy.url },
          );

          await expect(a.refresher.refresh(id)).resolves.toBe(true);

          expect(dispatcherFor).toHaveBeenCalledWith(proxy.url);
          expect(proxy.requests).toBe(1);
        } finally {
          await http.onApplicationShutdown();
        }
      });
    });
  });

  describe('runRefreshJob', () => {
    it('should refresh only tokens that expire within five minutes', async () => {
      const a = await instance('a');
      const soon = await oauthAccount(a, 'soon', {
        accessToken: 'at-soon',
        refreshToken: 'rt-soon',
        expiresAt: Date.now() + 2 * 60_000,
      });
      await oauthAccount(a, 'later', {
        accessToken: 'at-later',
        refreshToken: 'rt-later',
        expiresAt: Date.now() + 2 * 3600_000,
      });
      await oauthAccount(a, 'unknown', { accessToken: 'at-unknown', refreshToken: 'rt-unknown' });

      const summary = await a.refresher.runRefreshJob();

      expect(summary).toEqual({ refreshed: [soon], failed: [] });
      expect(endpoint.calls.map((c) => c.body.refresh_token)).toEqual(['rt-soon']);
    });

    it('should mark the account auth_failed when its refresh token is refused', async () => {
      const a = await instance('a');
      const id = await oauthAccount(a, 'dying', {
        accessToken: 'at',
        refreshToken: 'rt',
        expiresAt: Date.now() + 60_000,
      });
      endpoint.status = 401;

      await a.refresher.runRefreshJob();

      const detail = await a.accounts.get(id);
      expect(detail.status).toBe('auth_failed');
      expect(detail.notRoutableBecause).toMatch(/token refresh refused/);
    });

    it('should run on one instance at a time', async () => {
      const a = await instance('a');
      const b = await instance('b');
      await oauthAccount(a, 'soon', {
        accessToken: 'at',
        refreshToken: 'rt',
        expiresAt: Date.now() + 60_000,
      });
      await b.pool.reload();
      endpoint.delayMs = 100;

      const [first, second] = await Promise.all([
        a.refresher.runRefreshJob(),
        b.refresher.runRefreshJob(),
      ]);

      expect(first.refreshed.length + second.refreshed.length).toBe(1);
      expect(endpoint.calls).toHaveLength(1);
    });
  });
});

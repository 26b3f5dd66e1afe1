import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from 'src/bootstrap';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { COORDINATOR, type Coordinator } from 'src/infra/coordination/coordinator.port';
import { UsersService } from 'src/modules/users/users.service';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres, describeWithRedis } from '../support/services';

const PASSWORD = 'correct-horse-battery';

interface Instance {
  app: NestExpressApplication;
  url: string;
}

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const config = new ConfigService(
    loadEnvironment({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-auth-')),
      LOG_LEVEL: 'silent',
      JWT_SECRET: 'auth-sessions-spec-jwt-secret-0123456789',
      ...env,
    }),
  );
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

async function login(url: string, password = PASSWORD): Promise<{ status: number; token: string }> {
  const res = await fetch(`${url}/admin/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  const body = (await res.json()) as { token?: string };
  return { status: res.status, token: body.token ?? '' };
}

async function me(url: string, token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/admin/api/auth/me`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.json() };
}

async function logout(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/admin/api/auth/logout`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return res.status;
}

/** The revocation rules, on one instance of whichever database the env selects. */
function revocationSuite(env: () => Record<string, string>): void {
  let instance: Instance;

  beforeAll(async () => {
    instance = await startInstance(env());
    await instance.app.get(UsersService).resetPassword('admin', PASSWORD);
  });
  afterAll(async () => {
    await instance?.app.close();
  });

  it('should refuse the token when its user logged out, and all their other tokens too', async () => {
    const first = await login(instance.url);
    const second = await login(instance.url);
    expect((await me(instance.url, first.token)).status).toBe(200);
    expect((await me(instance.url, second.token)).status).toBe(200);

    expect(await logout(instance.url, first.token)).toBe(204);

    const refused = await me(instance.url, first.token);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('INVALID_TOKEN');
    expect((await me(instance.url, second.token)).status).toBe(401);
    expect(await logout(instance.url, first.token)).toBe(401);
    const fresh = await login(instance.url);
    expect((await me(instance.url, fresh.token)).body.username).toBe('admin');
  });

  it('should refuse the old token when the password is reset', async () => {
    const old = await login(instance.url);
    expect((await me(instance.url, old.token)).status).toBe(200);

    await instance.app.get(UsersService).resetPassword('admin', 'a-new-password-123');

    expect((await me(instance.url, old.token)).status).toBe(401);
    expect((await login(instance.url)).status).toBe(401);
    const fresh = await login(instance.url, 'a-new-password-123');
    expect((await me(instance.url, fresh.token)).status).toBe(200);
    await instance.app.get(UsersService).resetPassword('admin', PASSWORD);
  });

  it('should refuse the token and the login of a disabled user', async () => {
    const old = await login(instance.url);
    expect((await me(instance.url, old.token)).status).toBe(200);

    await instance.app.get(UsersService).setDisabled('admin', true);

    expect((await me(instance.url, old.token)).status).toBe(401);
    expect((await login(instance.url)).status).toBe(401);
    await instance.app.get(UsersService).setDisabled('admin', false);
    expect((await login(instance.url)).status).toBe(200);
  });
}

describe('admin sessions (SQLite, in-process coordination)', () => {
  revocationSuite(() => ({ DATABASE_URL: '', REDIS_URL: '' }));
});

describeWithPostgres('admin sessions (PostgreSQL)', (baseUrl) => {
  let db: TempDatabase;
  beforeAll(async () => {
    db = await createTempPostgresDatabase(baseUrl);
  });
  afterAll(async () => {
    await db?.drop();
  });
  revocationSuite(() => ({ DATABASE_URL: db.url, REDIS_URL: '' }));
});

describeWithPostgres('admin sessions across instances', (baseUrl) => {
  describeWithRedis('(PostgreSQL + Redis)', (redisUrl) => {
    let db: TempDatabase;
    let a: Instance;
    let b: Instance;

    beforeAll(async () => {
      db = await createTempPostgresDatabase(baseUrl);
      const env = {
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: `sy-auth-${randomBytes(4).toString('hex')}:`,
      };
      a = await startInstance(env);
      b = await startInstance(env);
      await a.app.get(UsersService).resetPassword('admin', PASSWORD);
    });
    afterAll(async () => {
      await a?.app.close();
      await b?.app.close();
      await db?.drop();
    });

    /** Resolves when instance's subscriber connection has delivered the next user change. */
    async function nextUserChange(instance: Instance): Promise<() => Promise<void>> {
      const coordinator = instance.app.get<Coordinator>(COORDINATOR);
      let heard!: () => void;
      const message = new Promise<void>((resolve) => (heard = resolve));
      const unsubscribe = await coordinator.subscribe(
        coordinationKeys.channels.userInvalidation,
        () => heard(),
      );
      return async () => {
        await message;
        await unsubscribe();
      };
    }

    it('should refuse on the other instance a token logged out on one, without waiting for a cache TTL', async () => {
      const session = await login(a.url);
      // Warm b's cache with the token's user state.
      expect((await me(b.url, session.token)).status).toBe(200);
      const heard = await nextUserChange(b);

      expect(await logout(a.url, session.token)).toBe(204);
      await heard();

      // b's own handler runs in the same delivery as the test's, so its cache is already dropped.
      expect((await me(b.url, session.token)).status).toBe(401);
    });

    it('should throttle a username across instances', async () => {
      for (let i = 0; i < 3; i += 1)
        expect((await login(a.url, 'wrong-password')).status).toBe(401);
      for (let i = 0; i < 2; i += 1)
        expect((await login(b.url, 'wrong-password')).status).toBe(401);
      const res = await fetch(`${a.url}/admin/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: PASSWORD }),
      });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { createRedisClients } from 'src/infra/coordination/redis.clients';
import { RedisCoordinator } from 'src/infra/coordination/redis.coordinator';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { SettingsRepository } from 'src/modules/settings/settings.repository';
import { SettingsService } from 'src/modules/settings/settings.service';
import { describeWithRedis } from '../support/services';

/**
 * Resolves at the first reload of `service` after which `holds` is true. Registered before the
 * change, so the test waits for the change message itself, never for a clock.
 */
function seenBy(service: SettingsService, holds: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const off = service.onReload(() => {
      if (!holds()) return;
      off();
      resolve();
    });
  });
}

/** Two instances sharing one database and one coordination store; only the message links them. */
function propagationContract(createCoordinators: () => Promise<Coordinator[]>): void {
  let db: Db;
  let coordinators: Coordinator[];
  let a: SettingsService;
  let b: SettingsService;

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-settings-prop-'));
    db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
    await migrateToLatest(db);
    coordinators = await createCoordinators();
    const repository = new SettingsRepository(db);
    const config = new ConfigService(loadEnvironment({ RELAY_MAX_ATTEMPTS: '3' }));
    [a, b] = await Promise.all(
      coordinators.map(async (coordinator) => {
        // An hour: the periodic reload cannot be what makes B notice within the test.
        const service = new SettingsService(repository, config, coordinator, {
          safetyReloadMs: 3_600_000,
        });
        await service.onModuleInit();
        return service;
      }),
    );
  });

  afterEach(async () => {
    for (const service of [a, b]) await service?.onModuleDestroy();
    await Promise.all(coordinators.map((c) => c.close()));
    await db.destroy();
  });

  it('should apply a value changed on A on instance B', async () => {
    expect(b.get('relayMaxAttempts')).toBe(3);
    const seen = seenBy(b, () => b.get('relayMaxAttempts') === 6);

    await a.update({ relayMaxAttempts: 6, accountCooldownOverloadedMs: 1000 });

    await seen;
    expect(b.get('accountCooldownOverloadedMs')).toBe(1000);
    expect(b.show('relayMaxAttempts')).toMatchObject({ value: 6, source: 'database' });
  });

  it('should return B to the default when A resets a setting, and A when B changes one', async () => {
    const set = seenBy(b, () => b.get('stickyContentHash'));
    await a.update({ stickyContentHash: true });
    await set;

    const reset = seenBy(b, () => !b.get('stickyContentHash'));
    await a.reset('stickyContentHash');
    await reset;
    expect(b.show('stickyContentHash').source).toBe('env');

    const back = seenBy(a, () => a.get('requestLogRetentionDays') === 14);
    await b.update({ requestLogRetentionDays: 14 });
    await back;
  });

  it('should leave B unchanged when A refuses a change', async () => {
    const error = await a.update({ relayMaxAttempts: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    // A valid change made after it is the first one B sees.
    const seen = seenBy(b, () => b.get('relayMaxAttempts') !== 3);
    await a.update({ relayMaxAttempts: 2 });
    await seen;
    expect(b.get('relayMaxAttempts')).toBe(2);
  });
}

describe(`${SettingsService.name} across instances on LocalCoordinator`, () => {
  propagationContract(async () => {
    const store = new LocalCoordinatorStore();
    return ['a', 'b'].map((instanceId) => new LocalCoordinator({ instanceId, store }));
  });
});

describeWithRedis(`${SettingsService.name} across instances on RedisCoordinator`, (url) => {
  propagationContract(async () => {
    // A fresh prefix per test: channels are prefixed too, so parallel runs never hear each other.
    const keyPrefix = `sytest:${randomBytes(6).toString('hex')}:`;
    return ['a', 'b'].map((instanceId) => {
      const { client, subscriber } = createRedisClients({ url });
      return new RedisCoordinator({ instanceId, client, subscriber, keyPrefix });
    });
  });
});

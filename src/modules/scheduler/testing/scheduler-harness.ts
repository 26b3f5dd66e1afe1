import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import type { AccountStatus, RoutableAccount } from 'src/modules/accounts/account.types';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import type { AccountPool } from 'src/modules/accounts/account-pool.service';
import { Scheduler } from 'src/modules/scheduler/scheduler.service';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

/**
 * The pool as the scheduler and the health service read it, over a fixed list of accounts (the
 * real one decrypts rows from SQL). Preferred first, as AccountPool.forPlatform returns them.
 */
export class FakeAccountPool {
  readonly used: string[] = [];

  constructor(readonly accounts: RoutableAccount[]) {}

  all(): RoutableAccount[] {
    return this.accounts;
  }

  get(id: string): RoutableAccount | undefined {
    return this.accounts.find((a) => a.id === id);
  }

  forPlatform(platform: string): RoutableAccount[] {
    return this.accounts
      .filter((a) => a.platform === platform && a.enabled && a.schedulable)
      .sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
  }

  groupMembers(groupId: string): RoutableAccount[] {
    return this.forPlatform('claude').filter((a) => a.groupIds.includes(groupId));
  }

  markUsed(id: string): void {
    this.used.push(id);
  }

  ensureLoaded(): Promise<void> {
    return Promise.resolve();
  }

  onReload(): () => void {
    return () => undefined;
  }

  applyStatus(id: string, status: AccountStatus, reason: string | null): void {
    const account = this.get(id);
    if (account === undefined) return;
    account.status = status;
    account.statusReason = status === 'active' ? null : reason;
  }
}

export interface SchedulerHarness {
  scheduler: Scheduler;
  /** The real health state machine: what an attempt reports decides what the next pick sees. */
  health: AccountHealthService;
  /** This instance's coordinator (a LocalCoordinator; spy on it to count calls). */
  coordinator: LocalCoordinator;
  /** The store behind it: hand it to another LocalCoordinator to play a second instance. */
  store: LocalCoordinatorStore;
  pool: FakeAccountPool;
  config: ConfigService;
  /** The runtime settings the scheduler, health and attempt loop read (env defaults; set() to change). */
  settings: FixedRuntimeSettings;
  /** Requests in flight on this instance plus live account leases, per account (all 0 when idle). */
  held(): Promise<Record<string, { inFlight: number; leases: number }>>;
  close(): Promise<void>;
}

export function testConfig(env: Partial<EnvironmentSchema> = {}): ConfigService {
  return new ConfigService(Object.assign(new EnvironmentSchema(), env));
}

/** The real Scheduler and AccountHealthService over a fake pool and a LocalCoordinator. */
export async function schedulerHarness(
  accounts: RoutableAccount[],
  env: Partial<EnvironmentSchema> = {},
): Promise<SchedulerHarness> {
  const config = testConfig(env);
  const settings = new FixedRuntimeSettings(config.env);
  const store = new LocalCoordinatorStore();
  const coordinator = new LocalCoordinator({ instanceId: 'instance-a', store });
  const pool = new FakeAccountPool(accounts);
  const health = new AccountHealthService(
    pool as unknown as AccountPool,
    { setStatus: () => Promise.resolve(true) } as never,
    { insert: () => Promise.resolve(), trim: () => Promise.resolve(), recent: () => [] } as never,
    config,
    settings,
    coordinator,
  );
  await health.onModuleInit();
  const scheduler = new Scheduler(
    pool as unknown as AccountPool,
    health,
    config,
    settings,
    coordinator,
  );
  return {
    scheduler,
    health,
    coordinator,
    store,
    pool,
    config,
    settings,
    async held() {
      const out: Record<string, { inFlight: number; leases: number }> = {};
      for (const account of accounts) {
        out[account.id] = {
          inFlight: scheduler.inFlightOf(account.id),
          leases: await coordinator.countLeases(coordinationKeys.accountLease(account.id)),
        };
      }
      return out;
    },
    async close() {
      scheduler.onApplicationShutdown();
      await health.onModuleDestroy();
      await coordinator.close();
    },
  };
}

import { Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { PLATFORMS, type Platform } from 'src/common/platform';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { RelayMetrics } from 'src/modules/metrics/relay-metrics';
import type { RoutableAccount } from './account.types';
import { AccountHealthService } from './account-health.service';
import { AccountPool } from './account-pool.service';

/**
 * An account's state for `switchyard_accounts{platform,state}`, one per account, most severe
 * first: disabled (by an admin: not enabled or not schedulable), auth_failed, blocked,
 * rate_limited or cooling (the whole account), family_limited (rate-limited or cooling for some
 * model families only: it still serves the others), else ok.
 */
export const ACCOUNT_METRIC_STATES = [
  'ok',
  'family_limited',
  'cooling',
  'rate_limited',
  'auth_failed',
  'blocked',
  'disabled',
] as const;
export type AccountMetricState = (typeof ACCOUNT_METRIC_STATES)[number];

export function accountMetricState(
  account: RoutableAccount,
  health: AccountHealthService,
): AccountMetricState {
  if (!account.enabled || !account.schedulable) return 'disabled';
  if (account.status !== 'active') return account.status;
  let state: AccountMetricState = 'ok';
  for (const view of health.states(account)) {
    if (view.scope !== 'account') {
      if (state === 'ok') state = 'family_limited';
    } else if (view.state === 'rate_limited') {
      return 'rate_limited';
    } else if (view.state === 'cooling') {
      state = 'cooling';
    }
  }
  return state;
}

/**
 * The accounts' Prometheus view, read at scrape time from this instance's pool and health state
 * (memory only, no SQL): every platform × state is reported, zero included, so "no account ok"
 * is a plain comparison. Also drops the relay's per-account request series when an account is
 * deleted.
 */
@Injectable()
export class AccountMetrics implements OnModuleInit, OnModuleDestroy {
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly pool: AccountPool,
    private readonly health: AccountHealthService,
    // Optional: admin test apps run the accounts module without the metrics module.
    @Optional() private readonly metrics?: MetricsService,
    @Optional() private readonly relayMetrics?: RelayMetrics,
  ) {}

  onModuleInit(): void {
    const { metrics, relayMetrics } = this;
    if (metrics === undefined || relayMetrics === undefined) return;
    const count = (): Map<Platform, Record<AccountMetricState, number>> => this.count();
    new Gauge({
      name: 'switchyard_accounts',
      help: 'Upstream accounts by platform and state (this instance’s view)',
      labelNames: ['platform', 'state'] as const,
      registers: [metrics.registry],
      collect() {
        for (const [platform, states] of count()) {
          for (const state of ACCOUNT_METRIC_STATES) this.set({ platform, state }, states[state]);
        }
      },
    });
    this.unsubscribe = this.pool.onReload(() => {
      relayMetrics.retainAccounts(new Set(this.pool.all().map((account) => account.id)));
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  private count(): Map<Platform, Record<AccountMetricState, number>> {
    const counts = new Map<Platform, Record<AccountMetricState, number>>();
    for (const platform of PLATFORMS) {
      counts.set(platform, {
        ok: 0,
        family_limited: 0,
        cooling: 0,
        rate_limited: 0,
        auth_failed: 0,
        blocked: 0,
        disabled: 0,
      });
    }
    for (const account of this.pool.all()) {
      const states = counts.get(account.platform);
      if (states !== undefined) states[accountMetricState(account, this.health)] += 1;
    }
    return counts;
  }
}

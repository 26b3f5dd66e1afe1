import { Injectable, Optional } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { appLogger } from 'src/common/logging/app-logger';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { KeySpendReader } from 'src/modules/usage/key-spend.reader';
import { budgetCaps, budgetCounterKey } from './admission-plan';
import { toPolicy } from './api-key.mapper';
import type { ApiKeyPolicy } from './api-key.types';
import { ApiKeysRepository } from './api-keys.repository';

/** How often budget counters are compared with the usage record. */
export const BUDGET_RECONCILE_INTERVAL_MS = 5 * 60_000;
/** One instance reconciles at a time; the lock outlives a slow run but not the next tick. */
const LOCK_TTL_MS = 4 * 60_000;

/**
 * The safety net behind budget seeding: a budget counter must never hold less than what the
 * usage record says was spent in its period (it holds spent + reserved). It can, when rows reach
 * SQL that no settle counted: usage replayed from a crash journal after the counter was seeded,
 * or the settle of a request whose coordinator call failed. Every BUDGET_RECONCILE_INTERVAL_MS,
 * on one instance (coordinator lock), each seeded counter below the record is raised to it.
 * Counters are only ever raised: over-counting is the safe side of a cap.
 */
@Injectable()
export class BudgetReconciler {
  constructor(
    @InjectCoordinator() private readonly coordinator: Coordinator,
    private readonly repository: ApiKeysRepository,
    @Optional() private readonly spend?: KeySpendReader,
  ) {}

  @Interval(BUDGET_RECONCILE_INTERVAL_MS)
  async tick(): Promise<void> {
    try {
      const lock = await this.coordinator.acquireLock(
        coordinationKeys.lock('budget-reconcile'),
        LOCK_TTL_MS,
      );
      if (lock === null) return;
      try {
        const records = await this.repository.listWithBudgets();
        await this.reconcile(records.map(toPolicy));
      } finally {
        await this.coordinator.releaseLock(lock).catch(() => undefined);
      }
    } catch (error) {
      appLogger.warn({ err: error }, 'budget reconciliation failed; retrying at the next run');
    }
  }

  /** Raises every seeded budget counter of these keys that is below the record. */
  async reconcile(policies: ApiKeyPolicy[], now = Date.now()): Promise<{ raised: number }> {
    const spend = this.spend;
    let raised = 0;
    if (spend === undefined) return { raised };
    for (const policy of policies) {
      for (const { period } of budgetCaps(policy.limits, now)) {
        const key = budgetCounterKey(policy.id, period);
        // The record first: a request that settles in between then shows in both or neither.
        const recorded = await spend.spentMicros(policy.id, {
          from: period.startMs,
          to: period.resetAtMs ?? now + 86_400_000,
        });
        const read = await this.coordinator.admit({
          counters: [{ key, amount: 0, seeded: true }],
        });
        // An unseeded counter is seeded from the record by the next admission anyway.
        if (!read.ok) continue;
        const held = read.values[0] ?? 0;
        if (held >= recorded) continue;
        await this.coordinator.settle({
          counters: [{ key, amount: recorded - held, ttlMs: period.ttlMs }],
        });
        raised += 1;
        appLogger.warn(
          { keyId: policy.id, period: period.period, heldMicros: held, recordedMicros: recorded },
          'budget counter was below the usage record; raised to it',
        );
      }
    }
    return { raised };
  }
}

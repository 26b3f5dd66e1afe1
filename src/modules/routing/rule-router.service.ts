import {
  Inject,
  Injectable,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import {
  DEFAULT_LIVE_SNAPSHOT_OPTIONS,
  LiveSnapshot,
  type LiveSnapshotOptions,
} from 'src/infra/coordination/live-snapshot';
import { RuntimeSettings } from 'src/modules/settings/runtime-settings';
import { toRoutingRule } from './routing-rule.mapper';
import type { RoutingGroup, RoutingRule, RuleDecision, RuleRequest } from './routing-rule.types';
import { RoutingRulesRepository, type RoutingRuleRecord } from './routing-rules.repository';
import { RuleTable } from './rule-table';
import { routingKeys } from './routing-coordination.keys';

// What other modules need with the rule router, from the file they import it from.
export type { RoutingGroup, RoutingRule, RuleDecision, RuleRequest } from './routing-rule.types';

/** Where the account groups come from (the accounts module); a port so tests need no database. */
export interface RoutingGroupSource {
  listGroups(): Promise<RoutingGroup[]>;
}

export const ROUTING_GROUP_SOURCE = Symbol('ROUTING_GROUP_SOURCE');

export type RuleRouterOptions = LiveSnapshotOptions;

export const RULE_ROUTER_OPTIONS = Symbol('RULE_ROUTER_OPTIONS');

/** Rule changes, and account changes (a group renamed or deleted changes what rules can name). */
const CHANNELS = [routingKeys.channels.routingRules, coordinationKeys.channels.accountInvalidation];

/**
 * The routing rules and the account groups they can name, held in memory as one compiled
 * snapshot (RuleTable). `decide()` is synchronous, reads no SQL and makes no round trip.
 *
 * Kept fresh like the model routes (a LiveSnapshot): the instance that changed a rule reloads
 * before answering; the others reload when the change is announced on `ch:routing-rules` (or an
 * account invalidation, for group names); a periodic reload bounds staleness; a failed reload
 * keeps the previous snapshot.
 */
@Injectable()
export class RuleRouter implements OnModuleInit, OnModuleDestroy {
  private readonly snapshot: LiveSnapshot<RuleTable, [RoutingRuleRecord[], RoutingGroup[]]>;

  constructor(
    repository: RoutingRulesRepository,
    @Inject(ROUTING_GROUP_SOURCE) groups: RoutingGroupSource,
    @InjectCoordinator() coordinator: Coordinator,
    private readonly settings: RuntimeSettings,
    @Optional() @Inject(RULE_ROUTER_OPTIONS) options?: Partial<RuleRouterOptions>,
  ) {
    this.snapshot = new LiveSnapshot(
      {
        name: 'routing rules',
        channels: CHANNELS,
        read: () => Promise.all([repository.listAll(), groups.listGroups()]),
        build: ([records, groupRows]) => buildTable(records, groupRows),
      },
      RuleTable.EMPTY,
      coordinator,
      { ...DEFAULT_LIVE_SNAPSHOT_OPTIONS, ...options },
    );
  }

  async onModuleInit(): Promise<void> {
    await this.snapshot.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.snapshot.stop();
  }

  // --- hot path: synchronous, no I/O ---

  /** The override or rule a request takes, or null when its model routes it as it is. */
  decide(request: RuleRequest): RuleDecision | null {
    return this.snapshot.current.decide(request, this.settings.get('routingLongContextThreshold'));
  }

  /** Every rule (disabled ones too): global first, then by key; each by priority. */
  list(): readonly RoutingRule[] {
    return this.snapshot.current.rules;
  }

  /** An account group known to the current snapshot. */
  group(id: string): RoutingGroup | undefined {
    return this.snapshot.current.group(id);
  }

  get version(): number {
    return this.snapshot.version;
  }

  /** Notified after each reload that changed the rules. Returns an unsubscribe function. */
  onReload(listener: (version: number) => void): () => void {
    return this.snapshot.onReload(listener);
  }

  /** Reloads from SQL now (see LiveSnapshot.reload). */
  reload(): Promise<void> {
    return this.snapshot.reload();
  }
}

function buildTable(records: RoutingRuleRecord[], groups: RoutingGroup[]): RuleTable {
  const rules: RoutingRule[] = [];
  for (const record of records) {
    const rule = toRoutingRule(record);
    if (rule !== null) rules.push(rule);
    else {
      appLogger.error(
        { ruleId: record.id, scenario: record.scenario },
        'routing rule ignored: its scenario is not one this version knows',
      );
    }
  }
  return new RuleTable(rules, groups);
}

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
import { toRoutingRule } from './routing-rule.mapper';
import type { RoutingGroup, RoutingRule, RuleDecision, RuleRequest } from './routing-rule.types';
import { RoutingRulesRepository } from './routing-rules.repository';
import { RuleTable } from './rule-table';
import { routingKeys } from './routing-coordination.keys';

// What other modules need with the rule router, from the file they import it from.
export type { RoutingGroup, RoutingRule, RuleDecision, RuleRequest } from './routing-rule.types';

/** Where the account groups come from (the accounts module); a port so tests need no database. */
export interface RoutingGroupSource {
  listGroups(): Promise<RoutingGroup[]>;
}

export const ROUTING_GROUP_SOURCE = Symbol('ROUTING_GROUP_SOURCE');

export interface RuleRouterOptions {
  /** Reload this often even without a message (lost messages, changes by another process). */
  safetyReloadMs: number;
  /** After a failed subscribe at start, try again this often. */
  subscribeRetryMs: number;
}

export const RULE_ROUTER_OPTIONS = Symbol('RULE_ROUTER_OPTIONS');

const DEFAULT_OPTIONS: RuleRouterOptions = { safetyReloadMs: 60_000, subscribeRetryMs: 5_000 };

/** Rule changes, and account changes (a group renamed or deleted changes what rules can name). */
const CHANNELS = [routingKeys.channels.routingRules, coordinationKeys.channels.accountInvalidation];

/**
 * The routing rules and the account groups they can name, held in memory as one compiled
 * snapshot (RuleTable). `decide()` is synchronous, reads no SQL and makes no round trip.
 *
 * Kept fresh like the model routes (ModelRouter): the instance that changed a rule reloads before
 * answering; the others reload when the change is announced on `ch:routing-rules` (or an account
 * invalidation, for group names); a periodic reload bounds staleness; a failed reload keeps the
 * previous snapshot.
 */
@Injectable()
export class RuleRouter implements OnModuleInit, OnModuleDestroy {
  private readonly options: RuleRouterOptions;
  private table: RuleTable = RuleTable.EMPTY;
  private fingerprint: string | null = null;
  private currentVersion = 0;
  private loading: Promise<void> | null = null;
  private followUp: Promise<void> | null = null;
  private safetyTimer: NodeJS.Timeout | null = null;
  private subscribeTimer: NodeJS.Timeout | null = null;
  private readonly unsubscribes: (() => Promise<void>)[] = [];
  private readonly listeners = new Set<(version: number) => void>();
  private destroyed = false;

  constructor(
    private readonly repository: RoutingRulesRepository,
    @Inject(ROUTING_GROUP_SOURCE) private readonly groups: RoutingGroupSource,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    @Optional() @Inject(RULE_ROUTER_OPTIONS) options?: Partial<RuleRouterOptions>,
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  async onModuleInit(): Promise<void> {
    // Subscribed before the first load, so no change can fall between the two.
    await this.subscribe(false);
    await this.reload();
    this.safetyTimer = setInterval(() => this.reloadQuietly(), this.options.safetyReloadMs);
    this.safetyTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    if (this.safetyTimer !== null) clearInterval(this.safetyTimer);
    if (this.subscribeTimer !== null) clearTimeout(this.subscribeTimer);
    this.safetyTimer = this.subscribeTimer = null;
    const unsubscribes = this.unsubscribes.splice(0);
    await Promise.all(unsubscribes.map((off) => off().catch(() => undefined)));
    await this.loading?.catch(() => undefined);
  }

  // --- hot path: synchronous, no I/O ---

  /** The override or rule a request takes, or null when its model routes it as it is. */
  decide(request: RuleRequest): RuleDecision | null {
    return this.table.decide(request);
  }

  /** Every rule (disabled ones too): global first, then by key; each by priority. */
  list(): readonly RoutingRule[] {
    return this.table.rules;
  }

  /** An account group known to the current snapshot. */
  group(id: string): RoutingGroup | undefined {
    return this.table.group(id);
  }

  get version(): number {
    return this.currentVersion;
  }

  /** Notified after each reload that changed the rules. Returns an unsubscribe function. */
  onReload(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reloads from SQL now; calls made during a reload share one follow-up reload. */
  reload(): Promise<void> {
    if (this.loading === null) {
      this.loading = this.load().finally(() => {
        this.loading = null;
      });
      return this.loading;
    }
    this.followUp ??= this.loading
      .catch(() => undefined)
      .then(() => {
        this.followUp = null;
        return this.reload();
      });
    return this.followUp;
  }

  private reloadQuietly(): void {
    if (this.destroyed) return;
    this.reload().catch((error: unknown) => {
      appLogger.warn(
        { err: error },
        'routing rules could not be reloaded; keeping the current ones',
      );
    });
  }

  private async load(): Promise<void> {
    const [records, groups] = await Promise.all([
      this.repository.listAll(),
      this.groups.listGroups(),
    ]);
    const fingerprint = JSON.stringify([records, groups]);
    if (fingerprint === this.fingerprint) return;
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
    this.table = new RuleTable(rules, groups);
    this.fingerprint = fingerprint;
    this.currentVersion += 1;
    for (const listener of this.listeners) {
      try {
        listener(this.currentVersion);
      } catch (error) {
        appLogger.error({ err: error }, 'routing rule reload listener failed');
      }
    }
  }

  private async subscribe(retry: boolean): Promise<void> {
    try {
      for (const channel of CHANNELS.slice(this.unsubscribes.length)) {
        const off = await this.coordinator.subscribe(channel, () => this.reloadQuietly());
        if (this.destroyed) {
          await off().catch(() => undefined);
          return;
        }
        this.unsubscribes.push(off);
      }
      if (retry) this.reloadQuietly();
    } catch (error) {
      appLogger.warn({ err: error }, 'subscribing to routing rule changes failed; retrying');
      if (this.destroyed) return;
      this.subscribeTimer = setTimeout(() => {
        this.subscribeTimer = null;
        void this.subscribe(true);
      }, this.options.subscribeRetryMs);
      this.subscribeTimer.unref();
    }
  }
}

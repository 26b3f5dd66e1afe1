import { Inject, Injectable } from '@nestjs/common';
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import { appLogger } from 'src/common/logging/app-logger';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { compareBy, containsText, DEFAULT_PAGE_SIZE, pageOf } from 'src/common/http/list-query.dto';
import type {
  ListRoutingRulesQueryDto,
  ResolveRoutingRuleDto,
  RoutingRuleSortField,
  RoutingRuleInput,
  RoutingRuleListResponseDto,
  RoutingRuleResolutionDto,
  RoutingRuleResponseDto,
  UpdateRoutingRuleDto,
} from './dto/routing-rule.dto';
import { ruleRecordToResponse, toRoutingRuleResponse } from './routing-rule.mapper';
import type { RoutingRule } from './routing-rule.types';
import { RequestScenarios } from './routing-scenarios';
import {
  RoutingRulesRepository,
  type RoutingRuleChanges,
  type RoutingRuleRecord,
} from './routing-rules.repository';
import { ROUTING_GROUP_SOURCE, RuleRouter, type RoutingGroupSource } from './rule-router.service';
import { RoutingException, RoutingExceptionCode } from './routing.exception';
import { routingKeys } from './routing-coordination.keys';

const LIST_DEFAULTS = {
  page: 1,
  pageSize: DEFAULT_PAGE_SIZE,
  sortBy: 'evaluation',
  sortOrder: 'asc',
} as const;

const RULE_SORT_VALUE: Record<
  Exclude<RoutingRuleSortField, 'evaluation'>,
  (rule: RoutingRule) => string | number
> = {
  name: (rule) => rule.name,
  priority: (rule) => rule.priority,
  createdAt: (rule) => rule.createdAt,
  updatedAt: (rule) => rule.updatedAt,
};

/** Whether an API key exists (the api-keys module); a port so this module does not reach in. */
export interface RoutingKeyLookup {
  exists(apiKeyId: string): Promise<boolean>;
}

export const ROUTING_KEY_LOOKUP = Symbol('ROUTING_KEY_LOOKUP');

/** A rule created without a priority goes this far after the scope's last one. */
const PRIORITY_STEP = 10;

function notFound(id: string): RoutingException {
  return new RoutingException(RoutingExceptionCode.RULE_NOT_FOUND, `routing rule ${id} not found`, {
    id,
  });
}

function invalid(message: string, details?: Record<string, unknown>): RoutingException {
  return new RoutingException(RoutingExceptionCode.RULE_INVALID, message, details);
}

/**
 * Admin changes to the routing rules. Every change is in SQL, applied by this instance's rule
 * router before the call answers, and announced so every other instance reloads too.
 */
@Injectable()
export class RoutingRulesService {
  constructor(
    private readonly repository: RoutingRulesRepository,
    private readonly router: RuleRouter,
    @Inject(ROUTING_GROUP_SOURCE) private readonly groups: RoutingGroupSource,
    @Inject(ROUTING_KEY_LOOKUP) private readonly keys: RoutingKeyLookup,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {}

  /**
   * The rules as this instance applies them now. With a key: the rules that key's requests are
   * matched against, in evaluation order (its own, then the global ones).
   */
  list(request: Partial<ListRoutingRulesQueryDto> = {}): RoutingRuleListResponseDto {
    const query = { ...LIST_DEFAULTS, ...request };
    const all = this.router.list();
    const { apiKeyId } = query;
    const rules =
      apiKeyId === undefined
        ? all
        : [
            ...all.filter((r) => r.apiKeyId === apiKeyId),
            ...all.filter((r) => r.apiKeyId === null),
          ];
    const order = new Map(rules.map((rule, index) => [rule, index]));
    const evaluation = (a: RoutingRule, b: RoutingRule): number =>
      (order.get(a) ?? 0) - (order.get(b) ?? 0);
    const matching = rules.filter(
      (rule) =>
        (query.enabled === undefined || rule.enabled === query.enabled) &&
        (query.scenario === undefined || rule.scenario === query.scenario) &&
        containsText(query.search, rule.name, rule.modelPattern, rule.targetModel, rule.note),
    );
    const sorted = matching.sort(
      query.sortBy === 'evaluation'
        ? (a, b) => (query.sortOrder === 'asc' ? evaluation(a, b) : evaluation(b, a))
        : compareBy(RULE_SORT_VALUE[query.sortBy], query.sortOrder, evaluation),
    );
    const page = pageOf(sorted, query);
    return { ...page, items: page.items.map(toRoutingRuleResponse) };
  }

  async get(id: string): Promise<RoutingRuleResponseDto> {
    return ruleRecordToResponse(await this.require(id));
  }

  /** Which rule (or override) a sample request would take now, on this instance. */
  resolve(input: ResolveRoutingRuleDto): RoutingRuleResolutionDto {
    const format = input.format ?? 'anthropic-messages';
    const body = { ...(input.body ?? {}), model: input.model };
    const bodyBytes = Buffer.byteLength(JSON.stringify(body));
    const decision = this.router.decide({
      // A key that cannot exist: only the global rules apply.
      apiKeyId: input.apiKeyId ?? '',
      model: input.model,
      format,
      body,
      bodyBytes,
    });
    const estimatedInputTokens = new RequestScenarios(input.model, format, body, bodyBytes)
      .estimatedInputTokens;
    if (decision === null) return { decision: null, error: null, estimatedInputTokens };
    if (!decision.ok) return { decision: null, error: decision.message, estimatedInputTokens };
    const { ok: _ok, ...rest } = decision;
    return { decision: rest, error: null, estimatedInputTokens };
  }

  async create(input: RoutingRuleInput): Promise<RoutingRuleResponseDto> {
    const apiKeyId = input.apiKeyId ?? null;
    const now = Date.now();
    const record: RoutingRuleRecord = {
      id: timeOrderedId(now),
      name: input.name.trim(),
      api_key_id: apiKeyId,
      priority:
        input.priority ?? ((await this.repository.maxPriority(apiKeyId)) ?? 0) + PRIORITY_STEP,
      scenario: input.scenario ?? null,
      model_pattern: input.modelPattern?.toLowerCase() ?? null,
      long_context_threshold: input.longContextThreshold ?? null,
      target_model: input.targetModel,
      target_group_id: input.targetGroupId ?? null,
      enabled: input.enabled === false ? 0 : 1,
      note: input.note ?? null,
      created_at: now,
      updated_at: now,
    };
    await this.check(record, true);
    await this.repository.insert(record);
    await this.changed(record.id);
    return ruleRecordToResponse(record);
  }

  async update(id: string, input: UpdateRoutingRuleDto): Promise<RoutingRuleResponseDto> {
    const current = await this.require(id);
    const changes: RoutingRuleChanges = { updated_at: Date.now() };
    if (input.name !== undefined) changes.name = input.name.trim();
    if (input.priority !== undefined) changes.priority = input.priority;
    if (input.scenario !== undefined) changes.scenario = input.scenario;
    if (input.modelPattern !== undefined)
      changes.model_pattern = input.modelPattern?.toLowerCase() ?? null;
    if (input.longContextThreshold !== undefined)
      changes.long_context_threshold = input.longContextThreshold;
    if (input.targetModel !== undefined) changes.target_model = input.targetModel;
    if (input.targetGroupId !== undefined) changes.target_group_id = input.targetGroupId;
    if (input.enabled !== undefined) changes.enabled = input.enabled ? 1 : 0;
    if (input.note !== undefined) changes.note = input.note;
    const next = { ...current, ...changes };
    // A threshold left from a long_context rule turned into another scenario means nothing.
    if (next.scenario !== 'long_context' && input.longContextThreshold === undefined)
      next.long_context_threshold = changes.long_context_threshold = null;
    await this.check(next, false);
    if (!(await this.repository.update(id, changes))) throw notFound(id);
    await this.changed(id);
    return ruleRecordToResponse(next);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repository.delete(id))) throw notFound(id);
    await this.changed(id);
  }

  private async require(id: string): Promise<RoutingRuleRecord> {
    const record = await this.repository.findById(id);
    if (record === undefined) throw notFound(id);
    return record;
  }

  /** What the DTOs cannot check alone: the fields together, and the key and group named. */
  private async check(rule: RoutingRuleRecord, isNew: boolean): Promise<void> {
    if (rule.scenario === null && rule.model_pattern === null)
      throw invalid('a rule needs a scenario, a modelPattern, or both');
    if (rule.long_context_threshold !== null && rule.scenario !== 'long_context')
      throw invalid('longContextThreshold applies only to the long_context scenario', {
        scenario: rule.scenario,
      });
    if (isNew && rule.api_key_id !== null && !(await this.keys.exists(rule.api_key_id)))
      throw invalid(`apiKeyId: no API key ${rule.api_key_id}`, { apiKeyId: rule.api_key_id });
    if (rule.target_group_id !== null) {
      const groups = await this.groups.listGroups();
      if (!groups.some((g) => g.id === rule.target_group_id))
        throw invalid(`targetGroupId: no account group ${rule.target_group_id}`, {
          targetGroupId: rule.target_group_id,
        });
    }
  }

  private async changed(id: string): Promise<void> {
    // Read-your-writes: this instance routes by the change before the admin call answers.
    await this.router.reload();
    try {
      await this.coordinator.publish(routingKeys.channels.routingRules, id);
    } catch (error) {
      // Stored already; other instances pick it up at their next safety reload.
      appLogger.warn({ err: error, ruleId: id }, 'routing rule change could not be announced');
    }
  }
}

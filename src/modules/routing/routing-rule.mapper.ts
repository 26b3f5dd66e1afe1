import type { RoutingRuleResponseDto } from './dto/routing-rule.dto';
import { ROUTING_SCENARIOS, type RoutingRule, type RoutingScenario } from './routing-rule.types';
import type { RoutingRuleRecord } from './routing-rules.repository';

function isScenario(value: string): value is RoutingScenario {
  return (ROUTING_SCENARIOS as readonly string[]).includes(value);
}

function fields(record: RoutingRuleRecord, scenario: RoutingScenario | null): RoutingRule {
  return {
    id: record.id,
    name: record.name,
    apiKeyId: record.api_key_id,
    priority: record.priority,
    scenario,
    modelPattern: record.model_pattern,
    longContextThreshold: record.long_context_threshold,
    targetModel: record.target_model,
    targetGroupId: record.target_group_id,
    enabled: record.enabled === 1,
    note: record.note,
    createdAt: Number(record.created_at),
    updatedAt: Number(record.updated_at),
  };
}

/** A stored row as a rule; null when its scenario is none this version knows. */
export function toRoutingRule(record: RoutingRuleRecord): RoutingRule | null {
  if (record.scenario === null) return fields(record, null);
  return isScenario(record.scenario) ? fields(record, record.scenario) : null;
}

export function toRoutingRuleResponse(rule: RoutingRule): RoutingRuleResponseDto {
  return {
    id: rule.id,
    name: rule.name,
    apiKeyId: rule.apiKeyId,
    priority: rule.priority,
    scenario: rule.scenario,
    modelPattern: rule.modelPattern,
    longContextThreshold: rule.longContextThreshold,
    targetModel: rule.targetModel,
    targetGroupId: rule.targetGroupId,
    enabled: rule.enabled,
    note: rule.note,
    createdAt: new Date(rule.createdAt).toISOString(),
    updatedAt: new Date(rule.updatedAt).toISOString(),
  };
}

/** A stored row as the admin API shows it, an unknown scenario as stored (so it can be fixed). */
export function ruleRecordToResponse(record: RoutingRuleRecord): RoutingRuleResponseDto {
  return toRoutingRuleResponse(fields(record, record.scenario as RoutingScenario | null));
}

import { PLATFORMS } from 'src/common/platform';
import { WildcardPattern } from 'src/common/text/wildcard';
import { isPlatform } from './model-route.mapper';
import {
  DEFAULT_LONG_CONTEXT_THRESHOLD,
  OVERRIDE_RULE_NAME,
  type RoutingGroup,
  type RoutingRule,
  type RuleDecision,
  type RuleRequest,
} from './routing-rule.types';
import { RequestScenarios } from './routing-scenarios';

interface CompiledRule {
  rule: RoutingRule;
  glob: WildcardPattern | null;
  /** The rule's own long-context threshold; null: the default given to decide(). */
  threshold: number | null;
  /** The target group, resolved when the table was built; a rule whose group is gone is skipped. */
  group: RoutingGroup | null;
}

/** Evaluation order within one scope: priority ascending, then id (creation order). */
export function compareRules(a: RoutingRule, b: RoutingRule): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * One immutable snapshot of the routing rules and the account groups they (and overrides) can
 * name, compiled for matching: the key's rules, then the global ones, each by priority. Work per
 * request: one map lookup for the key, and per rule tried one linear wildcard match and at most
 * one scan of the body for a scenario (remembered for the rest of the request).
 */
export class RuleTable {
  static readonly EMPTY = new RuleTable([], []);

  /** Every rule, disabled ones included: global rules first, then by key; each by priority. */
  readonly rules: readonly RoutingRule[];
  private readonly global: CompiledRule[] = [];
  private readonly byKey = new Map<string, CompiledRule[]>();
  private readonly groupsByName = new Map<string, RoutingGroup>();
  private readonly groupsById = new Map<string, RoutingGroup>();

  constructor(rules: readonly RoutingRule[], groups: readonly RoutingGroup[]) {
    for (const group of groups) {
      this.groupsById.set(group.id, group);
      this.groupsByName.set(group.name.toLowerCase(), group);
    }
    this.rules = Object.freeze(
      [...rules]
        .sort((a, b) => (a.apiKeyId ?? '').localeCompare(b.apiKeyId ?? '') || compareRules(a, b))
        .map((rule) => Object.freeze(rule)),
    );
    for (const rule of this.rules) {
      if (!rule.enabled) continue;
      const group =
        rule.targetGroupId === null ? null : (this.groupsById.get(rule.targetGroupId) ?? null);
      // The group was deleted: the rule cannot send anywhere it meant to (the admin API shows it).
      if (rule.targetGroupId !== null && group === null) continue;
      const compiled: CompiledRule = {
        rule,
        glob: rule.modelPattern === null ? null : new WildcardPattern(rule.modelPattern),
        threshold: rule.longContextThreshold,
        group,
      };
      if (rule.apiKeyId === null) this.global.push(compiled);
      else {
        const list = this.byKey.get(rule.apiKeyId);
        if (list === undefined) this.byKey.set(rule.apiKeyId, [compiled]);
        else list.push(compiled);
      }
    }
  }

  /** A group by id (for the admin API). */
  group(id: string): RoutingGroup | undefined {
    return this.groupsById.get(id);
  }

  /**
   * Where a request goes: a `provider,model` override when the model names one, else the first
   * enabled rule (the key's, then the global ones, by priority) whose conditions all hold; null
   * when neither applies (the request is routed by its model as before).
   *
   * @param defaultThreshold the long-context threshold of rules that set none
   */
  decide(
    request: RuleRequest,
    defaultThreshold = DEFAULT_LONG_CONTEXT_THRESHOLD,
  ): RuleDecision | null {
    const comma = request.model.indexOf(',');
    if (comma !== -1) return this.override(request.model, comma);
    const own = this.byKey.get(request.apiKeyId);
    if (own === undefined && this.global.length === 0) return null;
    const scenarios = new RequestScenarios(
      request.model,
      request.format,
      request.body,
      request.bodyBytes,
    );
    const lowered = request.model.toLowerCase();
    for (const list of [own, this.global]) {
      if (list === undefined) continue;
      for (const compiled of list) {
        const { rule } = compiled;
        if (compiled.glob !== null && !compiled.glob.matchesPrepared(lowered)) continue;
        if (
          rule.scenario !== null &&
          !scenarios.holds(rule.scenario, compiled.threshold ?? defaultThreshold)
        )
          continue;
        return {
          ok: true,
          model: rule.targetModel,
          platform: compiled.group?.platform ?? null,
          groupId: compiled.group?.id ?? null,
          ruleId: rule.id,
          ruleName: rule.name,
          override: false,
        };
      }
    }
    return null;
  }

  /**
   * claude-code-router's per-request override, `provider,model`: the provider is an account
   * group's name (ignoring case), else a platform (`claude`, `openai`, `gemini`, `droid`); the
   * model after the comma is sent upstream as it is.
   */
  private override(requested: string, comma: number): RuleDecision {
    const provider = requested.slice(0, comma).trim();
    const model = requested.slice(comma + 1).trim();
    if (provider.length === 0 || model.length === 0 || model.includes(',')) {
      return {
        ok: false,
        message: `model "${requested}": an override is "provider,model" (an account group or platform, a comma, then the upstream model)`,
      };
    }
    const group = this.groupsByName.get(provider.toLowerCase());
    if (group !== undefined) {
      return {
        ok: true,
        model,
        platform: group.platform,
        groupId: group.id,
        ruleId: null,
        ruleName: OVERRIDE_RULE_NAME,
        override: true,
      };
    }
    const platform = provider.toLowerCase();
    if (isPlatform(platform)) {
      return {
        ok: true,
        model,
        platform,
        groupId: null,
        ruleId: null,
        ruleName: OVERRIDE_RULE_NAME,
        override: true,
      };
    }
    return {
      ok: false,
      message: `model "${requested}": unknown provider "${provider}"; name an account group or one of the platforms ${PLATFORMS.join(', ')}`,
    };
  }
}

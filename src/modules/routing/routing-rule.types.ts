import type { Platform } from 'src/common/platform';
import type { WireFormat } from 'src/modules/relay/wire-format';

/**
 * Request scenarios a rule can be conditioned on, as claude-code-router defines its `Router`
 * entries (`background`, `think`, `longContext`, `webSearch`, `image`). See routing-scenarios.ts
 * for how each is detected.
 */
export const ROUTING_SCENARIOS = [
  'background',
  'think',
  'long_context',
  'web_search',
  'image',
] as const;
export type RoutingScenario = (typeof ROUTING_SCENARIOS)[number];

/** claude-code-router's default `longContextThreshold`, in (estimated) input tokens. */
export const DEFAULT_LONG_CONTEXT_THRESHOLD = 60_000;

/** A stored routing rule, as the rule router and the admin service use it. */
export interface RoutingRule {
  id: string;
  name: string;
  /** The key the rule belongs to, or null for a global rule. */
  apiKeyId: string | null;
  /** Ascending: lower numbers are tried first (within the key's rules, then the global ones). */
  priority: number;
  /** Null: any scenario. */
  scenario: RoutingScenario | null;
  /** A model-name pattern (`*` globs, lower-case) the requested model must match; null: any. */
  modelPattern: string | null;
  /** For `long_context`: the estimated input tokens above which it holds; null: the default. */
  longContextThreshold: number | null;
  /** The model the request is routed as (model routes still map it to a platform). */
  targetModel: string;
  /** Serve from this account group (its platform) instead of the model routes' platform. */
  targetGroupId: string | null;
  enabled: boolean;
  note: string | null;
  createdAt: number;
  updatedAt: number;
}

/** An account group as a rule target or an override's `provider`. */
export interface RoutingGroup {
  id: string;
  name: string;
  platform: Platform;
}

/** What a rule needs to know of one request; the body is the parsed JSON the dialect read. */
export interface RuleRequest {
  apiKeyId: string;
  /** The model name as the client sent it. */
  model: string;
  format: WireFormat;
  body: Record<string, unknown>;
  /** Size of the raw request body: the input-token estimate is bytes / 4. */
  bodyBytes: number;
}

/** Where a request goes after the rules (or an override); null from `decide` means unchanged. */
export type RuleDecision =
  | {
      ok: true;
      /** The model to route: through the model routes unless `platform` is set. */
      model: string;
      /** Set when the target is fixed: an account group's platform, or a named platform. */
      platform: Platform | null;
      /** Serve from this account group. */
      groupId: string | null;
      /** The rule applied (null for a `provider,model` override). */
      ruleId: string | null;
      /** Recorded on the request log: the rule's name, or `override` for `provider,model`. */
      ruleName: string;
      /** True for a client's `provider,model` override. */
      override: boolean;
    }
  | { ok: false; message: string };

/** The name recorded on the request log for a `provider,model` override. */
export const OVERRIDE_RULE_NAME = 'override';

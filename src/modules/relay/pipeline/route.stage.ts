import { Inject, Injectable } from '@nestjs/common';
import type { Platform } from 'src/common/platform';
import { checkAccess } from 'src/modules/api-keys/api-key-policy';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { sessionOf } from 'src/modules/scheduler/session';
import { RuntimeSettings } from 'src/modules/settings/runtime-settings';
import { ModelCatalog } from 'src/modules/relay/model-catalog.service';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import type { WireFormat } from 'src/modules/relay/wire-format';
import { KeyRejectionCode } from 'src/modules/api-keys/api-key.types';
import type { RelayContext } from './relay-context';

/** What a model name routes to: the platform whose accounts serve it and the name to ask for. */
export interface ModelRouteMatch {
  platform: Platform;
  model: string;
  routeId: string;
}

/** Model routes (patterns and aliases), answered from memory. */
export interface ModelRouting {
  route(model: string): ModelRouteMatch | null;
  /** The enabled exact names (aliases among them), for listing what a key may use. */
  aliases(): readonly { name: string; platform: Platform; model: string }[];
}

export const MODEL_ROUTING = Symbol('MODEL_ROUTING');

/** What a routing rule or a `provider,model` override decided for one request. */
export type RoutingRuleDecision =
  | {
      ok: true;
      /** The model to route (through the model routes unless platform is set). */
      model: string;
      platform: Platform | null;
      groupId: string | null;
      ruleId: string | null;
      ruleName: string;
      override: boolean;
    }
  | { ok: false; message: string };

/** Routing rules (per key, then global) and overrides, answered from memory. */
export interface RoutingRules {
  decide(request: {
    apiKeyId: string;
    model: string;
    format: WireFormat;
    body: Record<string, unknown>;
    bodyBytes: number;
  }): RoutingRuleDecision | null;
}

export const ROUTING_RULES = Symbol('ROUTING_RULES');

/** Names listed in an unknown-model error; the models route lists them all. */
const LISTED_MODELS = 40;

/**
 * Stage 3: the routing rules (a `provider,model` override, else the key's rules, then the global
 * ones) may replace the model and fix an account group; then the model → the platform that
 * serves it (model routes, else the dialect's default platform), the key's permission for that
 * platform and model, and the scheduler's pick request (with the conversation's session for
 * stickiness).
 */
@Injectable()
export class RouteStage {
  constructor(
    @Inject(MODEL_ROUTING) private readonly routing: ModelRouting,
    @Inject(ROUTING_RULES) private readonly rules: RoutingRules,
    private readonly catalog: ModelCatalog,
    private readonly settings: RuntimeSettings,
  ) {}

  run(ctx: RelayContext): void {
    const parsed = ctx.request;
    const policy = ctx.key;
    const decision = this.rules.decide({
      apiKeyId: policy.id,
      model: parsed.model,
      format: ctx.dialect.format,
      body: parsed.body,
      bodyBytes: ctx.raw.length,
    });
    if (decision !== null && !decision.ok)
      throw new RelayException(RelayExceptionCode.INVALID_REQUEST, decision.message, null, 'model');
    const rule = decision ?? null;
    if (rule !== null) ctx.rule = { id: rule.ruleId, name: rule.ruleName };
    // An override names the model as the client wants it; anything else asks by the sent name.
    const requested = rule?.override === true ? rule.model : parsed.model;
    // A fixed platform (an account group, a named platform) takes the model as it is; else the
    // model routes map the rule's target (or the requested name) to a platform and an alias.
    const wanted = rule?.model ?? parsed.model;
    const routed =
      rule?.platform != null
        ? { platform: rule.platform, model: wanted }
        : this.routing.route(wanted);
    const platform = routed?.platform ?? ctx.dialect.defaultPlatform;
    if (platform === null) {
      const usable = [
        ...new Set([
          ...this.catalog.modelIds(policy, ctx.req.headers['user-agent']),
          ...this.routing
            .aliases()
            .filter((a) => checkAccess(policy, { platform: a.platform, model: a.name }) === null)
            .map((a) => a.name),
        ]),
      ].sort();
      const listed =
        usable.length === 0
          ? 'none is available right now'
          : usable.slice(0, LISTED_MODELS).join(', ') +
            (usable.length > LISTED_MODELS ? `, … (${usable.length} in all)` : '');
      throw new RelayException(
        RelayExceptionCode.UNKNOWN_MODEL,
        `model "${wanted}" is not served here; this key may use: ${listed}`,
        null,
        'model',
      );
    }
    const model = routed?.model ?? wanted;
    const userAgent = ctx.req.headers['user-agent'];
    // An alias (or an admin's rule) is granted by the name the client sent or by the model it
    // stands for; an override only by the model it names.
    let denied = checkAccess(policy, { platform, model: requested, userAgent });
    if (denied !== null && model !== requested)
      denied = checkAccess(policy, { platform, model, userAgent }) === null ? null : denied;
    if (denied !== null) throw ApiKeyException.fromRejection(denied);
    let binding = policy.bindings[platform];
    if (rule?.groupId != null) {
      const own = binding;
      // A client may not leave the account or group its key is bound to; an admin's rule may.
      if (rule.override && own !== undefined && !('groupId' in own && own.groupId === rule.groupId))
        throw ApiKeyException.fromRejection({
          code: KeyRejectionCode.PLATFORM_NOT_ALLOWED,
          message: `this key is bound to its own ${platform} accounts; it cannot choose another account group`,
        });
      binding = { groupId: rule.groupId };
    }
    ctx.platform = platform;
    ctx.routedModel = model;
    ctx.model = model;
    ctx.pick = {
      platform,
      model,
      apiKeyId: policy.id,
      binding,
      session: sessionOf(parsed.body, ctx.req.headers, this.settings.get('stickyContentHash')),
      exclude: new Set<string>(),
    };
  }
}

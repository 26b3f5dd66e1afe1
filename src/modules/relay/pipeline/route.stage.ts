import { Inject, Injectable } from '@nestjs/common';
import type { Platform } from 'src/common/platform';
import { ConfigService } from 'src/config/config.service';
import { checkAccess } from 'src/modules/api-keys/api-key-policy';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { sessionOf } from 'src/modules/scheduler/session';
import { ModelCatalog } from 'src/modules/relay/model-catalog.service';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
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

/** Names listed in an unknown-model error; the models route lists them all. */
const LISTED_MODELS = 40;

/**
 * Stage 3: the model → the platform that serves it (model routes, else the dialect's default
 * platform), the key's permission for that platform and model, and the scheduler's pick request
 * (with the conversation's session for stickiness).
 */
@Injectable()
export class RouteStage {
  constructor(
    @Inject(MODEL_ROUTING) private readonly routing: ModelRouting,
    private readonly catalog: ModelCatalog,
    private readonly config: ConfigService,
  ) {}

  run(ctx: RelayContext): void {
    const parsed = ctx.request;
    const policy = ctx.key;
    const routed = this.routing.route(parsed.model);
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
        `model "${parsed.model}" is not served here; this key may use: ${listed}`,
        null,
        'model',
      );
    }
    const model = routed?.model ?? parsed.model;
    const userAgent = ctx.req.headers['user-agent'];
    // An alias is granted by the name the client sent or by the model it stands for.
    let denied = checkAccess(policy, { platform, model: parsed.model, userAgent });
    if (denied !== null && model !== parsed.model)
      denied = checkAccess(policy, { platform, model, userAgent }) === null ? null : denied;
    if (denied !== null) throw ApiKeyException.fromRejection(denied);
    ctx.platform = platform;
    ctx.routedModel = model;
    ctx.model = model;
    ctx.pick = {
      platform,
      model,
      apiKeyId: policy.id,
      binding: policy.bindings[platform],
      session: sessionOf(parsed.body, ctx.req.headers, this.config.env.STICKY_CONTENT_HASH),
      exclude: new Set<string>(),
    };
  }
}

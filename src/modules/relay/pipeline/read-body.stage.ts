import { Injectable } from '@nestjs/common';
import { ConfigService } from 'src/config/config.service';
import { InboundLimits } from 'src/modules/relay/inbound-limits';
import { exceedsJsonDepth } from 'src/modules/relay/json-depth';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import { readBody } from './body-reader';
import type { RelayContext } from './relay-context';

/**
 * Stage 2: the body, bounded in bytes (each byte counted against the instance's in-flight body
 * budget) and in nesting depth before it is parsed; then the dialect's parse, which reads only
 * the fields routing needs and keeps the raw bytes for a passthrough.
 */
@Injectable()
export class ReadBodyStage {
  constructor(
    private readonly inbound: InboundLimits,
    private readonly config: ConfigService,
  ) {}

  async run(ctx: RelayContext): Promise<void> {
    const { env } = this.config;
    ctx.raw = await readBody(ctx.req, env.RELAY_MAX_BODY_BYTES, this.inbound, ctx.heldBody);
    if (exceedsJsonDepth(ctx.raw, env.RELAY_MAX_JSON_DEPTH)) {
      throw new RelayException(
        RelayExceptionCode.INVALID_REQUEST,
        `request body nests arrays or objects deeper than ${env.RELAY_MAX_JSON_DEPTH} levels`,
      );
    }
    ctx.parsed = ctx.dialect.parse(ctx.raw, ctx.req);
    ctx.model = ctx.parsed.model;
    ctx.routedModel = ctx.parsed.model;
    ctx.stream = ctx.parsed.stream && ctx.route.metered;
  }
}

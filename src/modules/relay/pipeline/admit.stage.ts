import { Injectable } from '@nestjs/common';
import { AdmissionService } from 'src/modules/api-keys/admission.service';
import { RelayMetrics } from 'src/modules/metrics/relay-metrics';
import { InboundLimits } from 'src/modules/relay/inbound-limits';
import { Scheduler } from 'src/modules/scheduler/scheduler.service';
import { PricingService } from 'src/modules/usage/pricing.service';
import { UsageRecorder } from 'src/modules/usage/usage-recorder.service';
import type { RelayContext } from './relay-context';
import { SettleStage } from './settle.stage';

/**
 * Stage 4: admission in one coordinator round trip (the key's windows, its concurrency lease and
 * the budget reservation of what the request could cost), overlapped with the scheduler's first
 * pick. Every call takes admission: count_tokens too counts against the key's request window and
 * concurrency; it reserves and bills no cost.
 */
@Injectable()
export class AdmitStage {
  constructor(
    private readonly admission: AdmissionService,
    private readonly scheduler: Scheduler,
    private readonly pricing: PricingService,
    private readonly recorder: UsageRecorder,
    private readonly inbound: InboundLimits,
    private readonly settle: SettleStage,
    private readonly metrics: RelayMetrics,
  ) {}

  async run(ctx: RelayContext): Promise<void> {
    const parsed = ctx.request;
    const policy = ctx.key;
    const pick = ctx.pick;
    if (pick === null) throw new Error('admission before routing');
    const { metered } = ctx.route;
    // The conversation's sticky account is read in admission's round trip when admission makes
    // one; otherwise the first pick (its sticky lookup is a round trip) runs while admission is
    // decided, so the two overlap instead of adding up. A refused request then only cost a
    // sticky lookup; the pick is dropped unread.
    const touch = metered ? this.scheduler.stickyTouch(pick) : null;
    if (touch === null) {
      ctx.firstPick = this.scheduler.pick(pick);
      ctx.firstPick.catch(() => undefined);
    }
    const estimate = metered
      ? this.pricing.estimate(ctx.model, ctx.raw.length, parsed.maxTokens, policy.priceMultiplier)
      : 0;
    const admitStartedAt = performance.now();
    const admission = await this.metrics.admission(
      this.admission.admit(policy, {
        requestId: ctx.requestId,
        model: ctx.model,
        estimatedCostMicros: estimate,
        maxTokens: parsed.maxTokens,
        ...(touch !== null && { touch }),
      }),
      admitStartedAt,
    );
    ctx.admission = admission;
    ctx.stopRenewing = admission.startRenewing();
    if (metered) {
      ctx.beforeEnd = async () => {
        this.settle.run(ctx);
        await this.recorder.journaled();
      };
    }
    ctx.checkClient();
    // Admitted: the body now counts against the key's limits, not the instance's burst budget.
    this.inbound.releaseBody(ctx.heldBody.bytes);
    ctx.heldBody.bytes = 0;
    if (admission.rateLimit !== null) {
      const { limit, remaining, resetAtMs } = admission.rateLimit;
      const { res } = ctx;
      res.setHeader('x-ratelimit-limit', String(limit));
      res.setHeader('x-ratelimit-remaining', String(Math.max(0, remaining)));
      res.setHeader(
        'x-ratelimit-reset',
        String(Math.max(1, Math.ceil((resetAtMs - Date.now()) / 1000))),
      );
    }
    if (ctx.firstPick === null) {
      const touched = admission.touched;
      ctx.firstPick = this.scheduler.pick(
        pick,
        touched === undefined ? undefined : { value: touched },
      );
    }
  }
}

import { Injectable } from '@nestjs/common';
import { RelayMetrics } from 'src/modules/metrics/relay-metrics';
import { InboundLimits } from 'src/modules/relay/inbound-limits';
import { totalTokens } from 'src/modules/usage/pricing/token-usage';
import { PricingService } from 'src/modules/usage/pricing.service';
import { UsageRecorder } from 'src/modules/usage/usage-recorder.service';
import type { RelayContext } from './relay-context';

/**
 * Stage 7: gives back what the request held on this instance (body budget, key slot, lease
 * renewal), settles the admission to the actual cost and hands the usage event to the recorder
 * (its journal and write-behind batch), and the request's metrics. Runs once, before a response's last byte when it can
 * (see RelayContext.beforeEnd), and in any case when the request is over.
 */
@Injectable()
export class SettleStage {
  constructor(
    private readonly inbound: InboundLimits,
    private readonly pricing: PricingService,
    private readonly recorder: UsageRecorder,
    private readonly metrics: RelayMetrics,
  ) {}

  /** The request is over: release what it holds, then settle (once). */
  finish(ctx: RelayContext): void {
    this.inbound.releaseBody(ctx.heldBody.bytes);
    ctx.heldBody.bytes = 0;
    if (ctx.slotKeyId !== null) this.inbound.leaveKey(ctx.slotKeyId);
    ctx.slotKeyId = null;
    ctx.stopRenewing?.();
    ctx.stopRenewing = null;
    this.run(ctx);
    this.metrics.finished(ctx);
  }

  /** Settles the admission and records the usage event; later calls do nothing. */
  run(ctx: RelayContext): void {
    const { admission, policy } = ctx;
    if (ctx.recorded || admission === null || policy === null) return;
    ctx.recorded = true;
    if (!ctx.route.metered) {
      // count_tokens: its request counted against the window; it spends no tokens.
      void admission.release();
      return;
    }
    const { costMicros, priceKnown } = this.pricing.cost(
      ctx.model,
      ctx.usage,
      policy.priceMultiplier,
    );
    ctx.costMicros = costMicros;
    // settle never rejects; it runs after the response so the client never waits on it.
    void admission.settle({ tokens: totalTokens(ctx.usage), costMicros });
    this.recorder.record({
      requestId: ctx.requestId,
      at: ctx.startedAt,
      apiKeyId: policy.id,
      apiKeyName: policy.name,
      userId: policy.userId,
      accountId: ctx.accountId,
      platform: ctx.platform,
      model: ctx.model,
      status: ctx.status,
      outcome: ctx.outcome,
      stream: ctx.stream,
      usage: ctx.usage,
      costMicros,
      priceKnown,
      latencyMs: Date.now() - ctx.startedAt,
      ttfbMs: ctx.ttfbMs,
      attempts: ctx.attempts,
      errorCode: ctx.errorCode,
      ruleId: ctx.rule?.id ?? null,
      ruleName: ctx.rule?.name ?? null,
    });
  }
}

import type { Request, Response } from 'express';
import type { Platform } from 'src/common/platform';
import { UpstreamAbort } from 'src/infra/http/upstream-http.service';
import type { Admission } from 'src/modules/api-keys/admission.service';
import type { ApiKeyPolicy } from 'src/modules/api-keys/api-key.types';
import type { PickRequest, PickResult } from 'src/modules/scheduler/scheduler.service';
import { emptyUsage, type TokenUsage } from 'src/modules/usage/pricing/token-usage';
import type { UsageOutcome } from 'src/modules/usage/usage.types';
import type { RelayRoute } from 'src/modules/relay/relay.routes';
import type { ParsedRequest } from 'src/modules/relay/relay.types';
import type { RelayTrace } from 'src/modules/relay/tracing/relay-trace';

/** The client left (or stopped reading); every stage checks for it after each await. */
export class ClientGoneError extends Error {}

/**
 * One relay request as it moves through the stages: what the client sent, what was decided about
 * it, and the facts that become its usage event. Each stage reads what earlier stages filled in.
 */
export class RelayContext {
  readonly startedAt = Date.now();
  /** Aborts the upstream request; fired when the client leaves. */
  readonly abort = new UpstreamAbort();
  /** The request's spans; null when tracing is off (every stage calls `ctx.trace?.…`). */
  trace: RelayTrace | null = null;

  // authenticate
  policy: ApiKeyPolicy | null = null;
  /** The key holding one of this instance's per-key body slots (released at settle). */
  slotKeyId: string | null = null;

  // read and parse
  /** Bytes of this request's body held against the instance's in-flight body budget. */
  readonly heldBody = { bytes: 0 };
  raw: Buffer = Buffer.alloc(0);
  parsed: ParsedRequest | null = null;

  // route
  platform: Platform;
  /** The model after routing (an alias resolved); accounts map it further to `model`. */
  routedModel = 'unknown';
  /** The routing rule (or `provider,model` override) the request took, for the request log. */
  rule: { id: string | null; name: string } | null = null;

  // admit, pick and reserve
  admission: Admission | null = null;
  stopRenewing: (() => void) | null = null;
  pick: PickRequest | null = null;
  firstPick: Promise<PickResult> | null = null;

  // attempts and response: the facts of the usage event
  /** The model served (what the account was asked for): usage and cost are recorded against it. */
  model = 'unknown';
  stream = false;
  accountId: string | null = null;
  attempts = 0;
  status = 0;
  outcome: UsageOutcome = 'error';
  usage: TokenUsage = emptyUsage();
  /** What the request cost (micro-USD), known once settled. */
  costMicros = 0;
  ttfbMs: number | null = null;
  errorCode: string | null = null;
  clientGone = false;
  /**
   * Records the usage (once) and waits until it is in the crash journal; awaited right before a
   * response's last byte, so a response the client saw complete is billed even after a kill -9.
   */
  beforeEnd: (() => Promise<void>) | null = null;
  recorded = false;

  constructor(
    readonly route: RelayRoute,
    readonly req: Request,
    readonly res: Response,
    readonly requestId: string,
  ) {
    this.platform = route.dialect.defaultPlatform ?? 'claude';
  }

  get dialect(): RelayRoute['dialect'] {
    return this.route.dialect;
  }

  /** Throws ClientGoneError when the client has left; called after every await. */
  checkClient(): void {
    if (this.clientGone) throw new ClientGoneError();
  }

  /** The parsed request; only stages after read-and-parse call this. */
  get request(): ParsedRequest {
    if (this.parsed === null) throw new Error('request read before it was parsed');
    return this.parsed;
  }

  get key(): ApiKeyPolicy {
    if (this.policy === null) throw new Error('key read before it was authenticated');
    return this.policy;
  }
}

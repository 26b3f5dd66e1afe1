import { Injectable } from '@nestjs/common';
import type { Platform } from 'src/common/platform';
import type { UpstreamOutcome } from 'src/modules/accounts/account.types';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { LocalCounter, LocalHistogram } from './local-metrics';
import { MetricsService } from './metrics.service';
import { modelFamily, type ModelFamily } from './model-family';

/**
 * What a relayed request ended as, for `switchyard_relay_requests_total{outcome}`: a fixed set,
 * derived from the request log's outcome, status and error code (relayOutcome below).
 */
export const RELAY_OUTCOMES = [
  'ok',
  'client_error',
  'rate_limited',
  'budget_exhausted',
  'no_account',
  'upstream_error',
  'timeout',
  'server_error',
  'aborted',
  'truncated',
] as const;
export type RelayOutcome = (typeof RELAY_OUTCOMES)[number];

/** Why an attempt failed over: the scheduler's upstream outcome kinds (accounts/account.types). */
export type FailoverReason = Exclude<UpstreamOutcome['kind'], 'success'>;
export const FAILOVER_REASONS = [
  'overloaded',
  'server_error',
  'timeout',
  'connect_error',
  'rate_limited',
  'auth_failed',
  'blocked',
] as const satisfies readonly FailoverReason[];

/** Token kinds as Anthropic bills them (TokenUsage); other providers map onto them. */
export const TOKEN_KINDS = [
  'input',
  'output',
  'cache_write_5m',
  'cache_write_1h',
  'cache_read',
] as const;

/** Admission's verdict: admitted, refused by a limit or budget (4xx), or failed (coordinator). */
export type AdmissionResult = 'admitted' | 'refused' | 'failed';

/** The label of a request no account was reserved for (refused or failed before the pick). */
const NO_ACCOUNT = 'none';

/** The facts of a finished request that metrics read (RelayContext has them all). */
export interface FinishedRelayRequest {
  readonly platform: Platform;
  /** The model served, else the one asked for; reduced to its family, never a label itself. */
  readonly model: string;
  readonly accountId: string | null;
  readonly outcome: 'ok' | 'error' | 'truncated' | 'aborted';
  readonly status: number;
  readonly errorCode: string | null;
  /** Epoch ms when the request arrived. */
  readonly startedAt: number;
  readonly ttfbMs: number | null;
  readonly usage: TokenUsage;
  readonly costMicros: number;
}

/** The request a relay attempt belongs to. */
export interface RelayAttemptSubject {
  readonly platform: Platform;
  readonly model: string;
}

/** The outcome label of a finished request. */
export function relayOutcome(
  outcome: FinishedRelayRequest['outcome'],
  status: number,
  errorCode: string | null,
): RelayOutcome {
  if (outcome !== 'error') return outcome;
  switch (errorCode ?? '') {
    case 'BUDGET_EXHAUSTED':
      return 'budget_exhausted';
    case 'WINDOW_LIMIT':
    case 'CONCURRENCY_LIMIT':
      return 'rate_limited';
    case 'NO_ACCOUNT_AVAILABLE':
    case 'ALL_ACCOUNTS_RATE_LIMITED':
      return 'no_account';
    case 'UPSTREAM_TIMEOUT':
      return 'timeout';
    case 'UPSTREAM_UNREACHABLE':
    case 'UPSTREAM_BAD_RESPONSE':
    case 'UPSTREAM_OVERLOADED':
    case 'UPSTREAM_STREAM_ERROR':
      return 'upstream_error';
    default:
      break;
  }
  // `UPSTREAM_<status>`: the upstream's own error relayed as it was (its 4xx is the client's).
  if (errorCode?.startsWith('UPSTREAM_') === true) {
    return status >= 500 ? 'upstream_error' : 'client_error';
  }
  if (status === 429) return 'rate_limited';
  return status >= 500 ? 'server_error' : 'client_error';
}

interface Observer {
  observe(value: number): void;
}
interface Incrementer {
  inc(value?: number): void;
}

/** The children of one platform and model family, resolved once. */
interface FamilyChildren {
  duration: Observer;
  ttfb: Observer;
  upstream: Observer;
  tokens: Incrementer[];
  cost: Incrementer;
  /** account label -> outcome -> requests child */
  requests: Map<string, Map<RelayOutcome, Incrementer>>;
}

/** Latency of an answer's first byte (upstream headers, or the client's first byte). */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60];
/** A whole request: a long stream runs for minutes. */
const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];
/** Admission is one coordinator round trip (or none, in process). */
const ADMISSION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2];

/** Model names seen are cached with their family; past this many the cache starts over. */
const FAMILY_CACHE_LIMIT = 1024;

/**
 * The relay's Prometheus metrics, recorded by the pipeline: one call when a request finishes
 * (settle), one per upstream answer and per failover (attempt loop), one per admission. Every
 * label set is bounded: platform (4), model family (MODEL_FAMILIES, never the raw model), outcome
 * and failover reason (fixed enums), token kind (5) and account id (the accounts that exist:
 * retainAccounts drops the series of deleted ones). No key label: keys can be many thousands.
 *
 * Series are resolved once and kept (local-metrics.ts: prom-client's children hash their labels on
 * every call), so a request costs plain additions, not a hash of its labels per metric.
 */
@Injectable()
export class RelayMetrics {
  private readonly requests: LocalCounter<'platform' | 'family' | 'account' | 'outcome'>;
  private readonly duration: LocalHistogram<'platform' | 'family'>;
  private readonly ttfb: LocalHistogram<'platform' | 'family'>;
  private readonly upstream: LocalHistogram<'platform' | 'family'>;
  private readonly tokens: LocalCounter<'platform' | 'family' | 'kind'>;
  private readonly cost: LocalCounter<'platform' | 'family'>;
  private readonly failovers: LocalCounter<'platform' | 'reason'>;
  private readonly admissionDuration: LocalHistogram<'result'>;

  private readonly families = new Map<string, ModelFamily>();
  private readonly children = new Map<Platform, Map<ModelFamily, FamilyChildren>>();
  private readonly failoverChildren = new Map<Platform, Map<string, Incrementer>>();
  private readonly admissionChildren: Record<AdmissionResult, Observer>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.requests = new LocalCounter({
      name: 'switchyard_relay_requests_total',
      help: 'Relay requests by platform, model family, account (id, or none) and outcome',
      labelNames: ['platform', 'family', 'account', 'outcome'] as const,
      registers,
    });
    this.duration = new LocalHistogram({
      name: 'switchyard_relay_request_duration_seconds',
      help: 'Relay request duration, from its first byte until it is settled (a stream included)',
      labelNames: ['platform', 'family'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.ttfb = new LocalHistogram({
      name: 'switchyard_relay_ttfb_seconds',
      help: 'Time from a relay request arriving to the first byte of its answer reaching the client',
      labelNames: ['platform', 'family'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstream = new LocalHistogram({
      name: 'switchyard_relay_upstream_latency_seconds',
      help: 'Upstream latency per attempt: request sent until the response headers arrived',
      labelNames: ['platform', 'family'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.tokens = new LocalCounter({
      name: 'switchyard_relay_tokens_total',
      help: 'Tokens of relayed requests by platform, model family and kind',
      labelNames: ['platform', 'family', 'kind'] as const,
      registers,
    });
    this.cost = new LocalCounter({
      name: 'switchyard_relay_cost_usd_total',
      help: 'Cost of relayed requests in USD (after the key price multiplier)',
      labelNames: ['platform', 'family'] as const,
      registers,
    });
    this.failovers = new LocalCounter({
      name: 'switchyard_relay_failovers_total',
      help: 'Upstream attempts that failed before the first byte and were retried or given up',
      labelNames: ['platform', 'reason'] as const,
      registers,
    });
    this.admissionDuration = new LocalHistogram({
      name: 'switchyard_relay_admission_duration_seconds',
      help: "Admission (the key's windows, concurrency and budget) by result",
      labelNames: ['result'] as const,
      buckets: ADMISSION_BUCKETS,
      registers,
    });
    this.admissionChildren = {
      admitted: this.admissionDuration.labels({ result: 'admitted' }),
      refused: this.admissionDuration.labels({ result: 'refused' }),
      failed: this.admissionDuration.labels({ result: 'failed' }),
    };
  }

  /** A request is over (settled): its outcome, latencies, tokens and cost. */
  finished(request: FinishedRelayRequest): void {
    const family = this.familyOf(request.model);
    const children = this.childrenOf(request.platform, family);
    const account = request.accountId ?? NO_ACCOUNT;
    let byOutcome = children.requests.get(account);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      children.requests.set(account, byOutcome);
    }
    const outcome = relayOutcome(request.outcome, request.status, request.errorCode);
    let counter = byOutcome.get(outcome);
    if (counter === undefined) {
      counter = this.requests.labels({
        platform: request.platform,
        family,
        account,
        outcome,
      });
      byOutcome.set(outcome, counter);
    }
    counter.inc();
    children.duration.observe((Date.now() - request.startedAt) / 1000);
    if (request.ttfbMs !== null) children.ttfb.observe(request.ttfbMs / 1000);
    const { usage } = request;
    const [input, output, write5m, write1h, read] = children.tokens as [
      Incrementer,
      Incrementer,
      Incrementer,
      Incrementer,
      Incrementer,
    ];
    if (usage.inputTokens > 0) input.inc(usage.inputTokens);
    if (usage.outputTokens > 0) output.inc(usage.outputTokens);
    if (usage.cacheCreation5mTokens > 0) write5m.inc(usage.cacheCreation5mTokens);
    if (usage.cacheCreation1hTokens > 0) write1h.inc(usage.cacheCreation1hTokens);
    if (usage.cacheReadTokens > 0) read.inc(usage.cacheReadTokens);
    if (request.costMicros > 0) children.cost.inc(request.costMicros / 1_000_000);
  }

  /** An upstream answered an attempt (headers in); sentAt is performance.now() at the send. */
  upstreamAnswered(subject: RelayAttemptSubject, sentAt: number): void {
    const children = this.childrenOf(subject.platform, this.familyOf(subject.model));
    children.upstream.observe((performance.now() - sentAt) / 1000);
  }

  /** An attempt failed before the first byte; the request fails over (or gives up). */
  failover(subject: RelayAttemptSubject, reason: UpstreamOutcome['kind']): void {
    let byReason = this.failoverChildren.get(subject.platform);
    if (byReason === undefined) {
      byReason = new Map();
      this.failoverChildren.set(subject.platform, byReason);
    }
    let counter = byReason.get(reason);
    if (counter === undefined) {
      counter = this.failovers.labels({ platform: subject.platform, reason });
      byReason.set(reason, counter);
    }
    counter.inc();
  }

  /** Times an admission (startedAt: performance.now() before it) by how it ended. */
  admission<T>(admitting: Promise<T>, startedAt: number): Promise<T> {
    return admitting.then(
      (admitted) => {
        this.admissionChildren.admitted.observe((performance.now() - startedAt) / 1000);
        return admitted;
      },
      (error: unknown) => {
        const status = (error as { status?: unknown } | null)?.status;
        const result = typeof status === 'number' && status < 500 ? 'refused' : 'failed';
        this.admissionChildren[result].observe((performance.now() - startedAt) / 1000);
        throw error;
      },
    );
  }

  /**
   * Drops the request series of accounts that no longer exist, so deleted accounts do not stay
   * in every scrape. Called with the pool's ids after each reload.
   */
  retainAccounts(ids: ReadonlySet<string>): void {
    for (const [platform, byFamily] of this.children) {
      for (const [family, children] of byFamily) {
        for (const [account, byOutcome] of children.requests) {
          if (account === NO_ACCOUNT || ids.has(account)) continue;
          for (const outcome of byOutcome.keys()) {
            this.requests.remove({ platform, family, account, outcome });
          }
          children.requests.delete(account);
        }
      }
    }
  }

  private familyOf(model: string): ModelFamily {
    let family = this.families.get(model);
    if (family === undefined) {
      family = modelFamily(model);
      // Model names come from clients: keep the cache bounded whatever they send.
      if (this.families.size >= FAMILY_CACHE_LIMIT) this.families.clear();
      this.families.set(model, family);
    }
    return family;
  }

  private childrenOf(platform: Platform, family: ModelFamily): FamilyChildren {
    let byFamily = this.children.get(platform);
    if (byFamily === undefined) {
      byFamily = new Map();
      this.children.set(platform, byFamily);
    }
    let children = byFamily.get(family);
    if (children === undefined) {
      const labels = { platform, family };
      children = {
        duration: this.duration.labels(labels),
        ttfb: this.ttfb.labels(labels),
        upstream: this.upstream.labels(labels),
        tokens: TOKEN_KINDS.map((kind) => this.tokens.labels({ platform, family, kind })),
        cost: this.cost.labels(labels),
        requests: new Map(),
      };
      byFamily.set(family, children);
    }
    return children;
  }
}

import type { RequestLogTable } from 'src/infra/database/database.types';
import type { UsageOutcome } from './usage.types';

/** The outbox `type` of a billing event, also the AMQP `type` property. */
export const BILLING_EVENT_TYPE = 'usage.recorded';
/** Bumped on a change a consumer could trip over (a field removed or its meaning changed). */
export const BILLING_EVENT_VERSION = 1;
/** Outbox ids are varchar(36): a request id (UUID v7) always fits. */
const OUTBOX_ID_WIDTH = 36;

/**
 * One relayed request as the billing stream publishes it (docs/billing-stream.md lists every
 * field). Built from the stored request-log row, so it says exactly what the request log and the
 * aggregates counted; it never carries a secret, a prompt or a reply.
 */
export interface BillingEvent {
  /** The request id: the AMQP `messageId`, and the key consumers deduplicate on. */
  id: string;
  type: typeof BILLING_EVENT_TYPE;
  version: typeof BILLING_EVENT_VERSION;
  /** When the request arrived (ISO 8601, UTC) and the same as epoch milliseconds. */
  at: string;
  atMs: number;
  apiKey: { id: string | null; name: string | null };
  /** The user who owns the key, null for a key an admin created. */
  userId: string | null;
  /** The upstream account that served the request, null when none was reached. */
  accountId: string | null;
  platform: string;
  model: string;
  /** HTTP status the client saw (for a stream cut mid-way, the 200 it started with). */
  status: number;
  outcome: UsageOutcome;
  stream: boolean;
  tokens: {
    input: number;
    output: number;
    cacheWrite5m: number;
    cacheWrite1h: number;
    cacheRead: number;
  };
  cost: {
    /** Integer micro-dollars (1 USD = 1,000,000), with the key's price multiplier applied. */
    micros: number;
    /** The same, as an exact decimal string with six places, e.g. "0.003615". */
    usd: string;
    /** False when the model was in no price table and the default price was used. */
    priceKnown: boolean;
  };
  latencyMs: number;
  /** Time to the first byte of the answer, null when none came. */
  ttfbMs: number | null;
  /** Upstream attempts (more than 1 after a failover). */
  attempts: number;
  errorCode: string | null;
  /** The routing rule the request took, null when none. */
  rule: { id: string; name: string | null } | null;
}

/** What the request-log row does not hold. */
export interface BillingEventExtras {
  apiKeyName?: string | null;
  userId?: string | null;
}

/** Micro-dollars as an exact decimal string: 3615 -> "0.003615". */
export function microsToUsd(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  const fraction = micros - whole * 1_000_000;
  return `${whole}.${String(fraction).padStart(6, '0')}`;
}

export function toBillingEvent(
  row: RequestLogTable,
  extras: BillingEventExtras = {},
): BillingEvent {
  return {
    id: row.id,
    type: BILLING_EVENT_TYPE,
    version: BILLING_EVENT_VERSION,
    at: new Date(row.at).toISOString(),
    atMs: row.at,
    apiKey: { id: row.api_key_id, name: extras.apiKeyName ?? null },
    userId: extras.userId ?? null,
    accountId: row.account_id,
    platform: row.platform,
    model: row.model,
    status: row.status,
    outcome: row.outcome as UsageOutcome,
    stream: row.stream === 1,
    tokens: {
      input: row.input_tokens,
      output: row.output_tokens,
      cacheWrite5m: row.cache_5m_tokens,
      cacheWrite1h: row.cache_1h_tokens,
      cacheRead: row.cache_read_tokens,
    },
    cost: {
      micros: row.cost_micros,
      usd: microsToUsd(row.cost_micros),
      priceKnown: row.price_known === 1,
    },
    latencyMs: row.latency_ms,
    ttfbMs: row.ttfb_ms,
    attempts: row.attempts,
    errorCode: row.error_code,
    rule: row.rule_id === null ? null : { id: row.rule_id, name: row.rule_name },
  };
}

/** The outbox columns of a billing event (topic `usage`, type BILLING_EVENT_TYPE). */
export interface BillingOutboxRow {
  id: string;
  /** Ordering scope: the API key. */
  partitionKey: string | null;
  payload: string;
}

export function toBillingOutboxRow(
  row: RequestLogTable,
  extras: BillingEventExtras | undefined,
  newId: () => string,
): BillingOutboxRow {
  return {
    // The request id keeps outbox order = request order and makes a second insert a no-op. The
    // relay's ids always fit; an id from elsewhere that does not gets an outbox id of its own
    // (the event still carries the request id).
    id: row.id.length <= OUTBOX_ID_WIDTH ? row.id : newId(),
    partitionKey: row.api_key_id,
    payload: JSON.stringify(toBillingEvent(row, extras)),
  };
}

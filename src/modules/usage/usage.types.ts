import type { Platform } from 'src/common/platform';
import type { TokenUsage } from './pricing/token-usage';

export type UsageOutcome = 'ok' | 'error' | 'truncated' | 'aborted';

/** One finished relay request, handed off the response path to the usage recorder. */
export interface UsageEvent {
  requestId: string;
  /** Epoch ms when the request arrived. */
  at: number;
  apiKeyId: string | null;
  /** The key's name and owning user when the request ran: for the billing stream, not stored. */
  apiKeyName?: string | null;
  userId?: string | null;
  accountId: string | null;
  platform: Platform;
  model: string;
  /** Status the client saw (for a stream cut mid-way, the 200 it started with). */
  status: number;
  outcome: UsageOutcome;
  stream: boolean;
  usage: TokenUsage;
  costMicros: number;
  /** False when the model was in no price table and the default price was used. */
  priceKnown: boolean;
  latencyMs: number;
  ttfbMs: number | null;
  attempts: number;
  errorCode: string | null;
  /** The routing rule the request took (absent or null: none). */
  ruleId?: string | null;
  /** Its name, or `override` for a `provider,model` override. */
  ruleName?: string | null;
}

/**
 * The wire formats Switchyard speaks: each inbound dialect is one, each provider speaks one, and a
 * converter exists for every (dialect format, provider format) pair that differs.
 */
export const WIRE_FORMATS = [
  'anthropic-messages',
  'openai-chat',
  'openai-responses',
  'gemini',
  'code-assist',
] as const;
export type WireFormat = (typeof WIRE_FORMATS)[number];

/** What a relay route asks of the upstream, independent of any provider's paths. */
export type RelayOperation = 'generate' | 'count_tokens';

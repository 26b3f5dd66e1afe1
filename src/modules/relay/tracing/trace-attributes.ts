import type { ProviderId } from 'src/modules/accounts/types/account-type.descriptor';

/**
 * Attribute names of the spans. The HTTP, server and error ones are stable semantic conventions;
 * the GenAI ones are still experimental (and have moved to their own repository), so they are
 * spelled here rather than imported from `@opentelemetry/semantic-conventions/incubating`, whose
 * exports may change in a minor release. `gen_ai.system` is deprecated in favour of
 * `gen_ai.provider.name` (semantic conventions 1.45 installed); the spans carry both while
 * backends catch up.
 */
export const ATTR = {
  httpMethod: 'http.request.method',
  httpRoute: 'http.route',
  httpStatus: 'http.response.status_code',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
  genAiSystem: 'gen_ai.system',
  genAiProvider: 'gen_ai.provider.name',
  genAiOperation: 'gen_ai.operation.name',
  genAiRequestModel: 'gen_ai.request.model',
  genAiResponseModel: 'gen_ai.response.model',
  genAiInputTokens: 'gen_ai.usage.input_tokens',
  genAiOutputTokens: 'gen_ai.usage.output_tokens',
  genAiCacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  genAiCacheCreationTokens: 'gen_ai.usage.cache_creation.input_tokens',
  requestId: 'switchyard.request_id',
  route: 'switchyard.route',
  apiKeyId: 'switchyard.api_key.id',
  accountId: 'switchyard.account.id',
  platform: 'switchyard.platform',
  stream: 'switchyard.stream',
  outcome: 'switchyard.outcome',
  attempts: 'switchyard.attempts',
  attempt: 'switchyard.attempt',
  failoverReason: 'switchyard.failover.reason',
  pickResult: 'switchyard.pick.result',
  ttfbMs: 'switchyard.ttfb_ms',
} as const;

/**
 * What each provider is called in the GenAI conventions, and whether its upstream receives a
 * W3C `traceparent` (and `tracestate`) naming the attempt's span. Anthropic's, OpenAI's and
 * Google's APIs ignore headers they do not know, as do the OpenAI-compatible servers and
 * Factory's; Bedrock gets none: its requests are SigV4-signed and sent exactly as signed (AWS
 * traces with its own `X-Amzn-Trace-Id`). A new provider must take a line here (the record is
 * exhaustive).
 */
export const PROVIDER_TELEMETRY: Record<ProviderId, { genAi: string; traceContext: boolean }> = {
  anthropic: { genAi: 'anthropic', traceContext: true },
  openai: { genAi: 'openai', traceContext: true },
  codex: { genAi: 'openai', traceContext: true },
  'azure-openai': { genAi: 'azure.ai.openai', traceContext: true },
  gemini: { genAi: 'gcp.gemini', traceContext: true },
  'code-assist': { genAi: 'gcp.gen_ai', traceContext: true },
  bedrock: { genAi: 'aws.bedrock', traceContext: false },
  'openai-compatible': { genAi: 'openai_compatible', traceContext: true },
  droid: { genAi: 'factory.droid', traceContext: true },
};

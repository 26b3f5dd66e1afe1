import type { ConversionInput } from 'src/modules/relay/converters/converter';

/**
 * What a converter is told about one request: the client's body for a non-streamed generate
 * request on claude-sonnet-4-5, with the body's model as the requested one; override what the
 * test is about.
 */
export function conversionInput(
  body: Record<string, unknown>,
  overrides: Partial<ConversionInput> = {},
): ConversionInput {
  return {
    body,
    upstreamModel: 'claude-sonnet-4-5',
    requestedModel: typeof body.model === 'string' ? body.model : 'gpt-4o',
    stream: false,
    operation: 'generate',
    requestId: 'req-1',
    ...overrides,
  };
}

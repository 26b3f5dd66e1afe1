import type {
  Conversion,
  ConversionInput,
  Converter,
  StreamConversion,
} from 'src/modules/relay/converters/converter';
import {
  parseObject,
  SseJsonMap,
  unwrapResponse,
  wrapCountRequest,
  wrapGenerateRequest,
} from './code-assist-envelope';

/**
 * Gemini API clients (`@google/genai`, Gemini CLI with an API key) served by `gemini-oauth`
 * accounts, which speak Code Assist: the request goes inside Code Assist's envelope with the
 * upstream model (the provider adds the account's project), and the answers, whole or streamed,
 * come out of it (`response`, with `traceId` as `responseId`, as Gemini CLI unwraps them),
 * a stream framed as the client asked (events with `alt=sse`, else Google's JSON array; Code
 * Assist itself always streams events).
 * Errors share Google's shape on both sides and pass unchanged.
 */
export class GeminiToCodeAssistConverter implements Converter {
  readonly from = 'gemini' as const;
  readonly to = 'code-assist' as const;

  convert(input: ConversionInput): Conversion {
    const counting = input.operation === 'count_tokens';
    const request = counting
      ? wrapCountRequest(input.body, input.upstreamModel)
      : wrapGenerateRequest(input.body, input.upstreamModel);
    return {
      body: Buffer.from(JSON.stringify(request), 'utf8'),
      response: (providerBody: Buffer): Buffer => {
        const envelope = parseObject(providerBody);
        if (envelope === null || counting) return providerBody;
        return Buffer.from(JSON.stringify(unwrapResponse(envelope)), 'utf8');
      },
      stream: (): StreamConversion => new SseJsonMap(unwrapResponse, input.streamFraming ?? 'sse'),
      error: (_status: number, providerBody: Buffer): Buffer => providerBody,
    };
  }
}

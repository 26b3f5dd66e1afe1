import type {
  Conversion,
  ConversionInput,
  Converter,
  StreamConversion,
} from 'src/modules/relay/converters/converter';
import {
  parseObject,
  SseJsonMap,
  unwrapCountRequest,
  unwrapGenerateRequest,
  wrapResponse,
} from '../gemini-to-code-assist/code-assist-envelope';

/**
 * Gemini CLI in its Google-login mode (Code Assist requests) served by accounts that speak the
 * Gemini API (`gemini-api`): the envelope's `request` goes as the Gemini API body (the model
 * goes in the provider's path), and each answer is wrapped back as `{response, traceId}`.
 * Errors share Google's shape and pass unchanged.
 */
export class CodeAssistToGeminiConverter implements Converter {
  readonly from = 'code-assist' as const;
  readonly to = 'gemini' as const;

  convert(input: ConversionInput): Conversion {
    const counting = input.operation === 'count_tokens';
    const request = counting ? unwrapCountRequest(input.body) : unwrapGenerateRequest(input.body);
    return {
      body: Buffer.from(JSON.stringify(request), 'utf8'),
      response: (providerBody: Buffer): Buffer => {
        const response = parseObject(providerBody);
        if (response === null || counting) return providerBody;
        return Buffer.from(JSON.stringify(wrapResponse(response)), 'utf8');
      },
      stream: (): StreamConversion => new SseJsonMap(wrapResponse),
      error: (_status: number, providerBody: Buffer): Buffer => providerBody,
    };
  }
}

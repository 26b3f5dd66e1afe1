import type { Conversion, ConversionInput } from '../converter';
import { OpenAIToAnthropicConverter, anthropicConversion } from '../shared/anthropic-request';
import { toAnthropicRequest } from './request';
import { responsesContextOf, toResponse } from './response';
import { ResponsesEventStream } from './stream';

/**
 * OpenAI Responses clients (Codex CLI, the openai SDKs' `responses.create`) served by Claude
 * accounts: requests to `/openai/v1/responses` become Anthropic Messages requests, and the
 * answers, streamed or not, become Response objects and Responses event streams. What maps to
 * what, and what is refused, is in request.ts and docs/clients.md.
 */
export class OpenAIResponsesToAnthropicConverter extends OpenAIToAnthropicConverter {
  readonly from = 'openai-responses' as const;

  convert(input: ConversionInput): Conversion {
    const plan = toAnthropicRequest(input);
    return anthropicConversion(
      plan.body,
      () => responsesContextOf(input, plan, this.now()),
      toResponse,
      (ctx) => new ResponsesEventStream(ctx),
    );
  }
}

import type { ErrorKind } from 'src/modules/relay/relay.exception';
import type { ParsedRequest } from 'src/modules/relay/relay.types';
import { parseJsonObject, requireModel } from 'src/modules/relay/dialects/dialect-helpers';
import { invalidParam, OpenAIDialect, optionalBoolean, positiveInteger } from './openai.dialect';
import { redactCredentials } from './openai-error';

/**
 * Output tokens assumed for admission when the client sets no limit: Codex CLI never sets one,
 * and the Responses → Messages converter then asks for up to 32,000.
 */
const RESPONSES_DEFAULT_MAX_TOKENS = 32_000;

/**
 * OpenAI Responses clients: Codex CLI and the `openai` SDKs' `responses.create`
 * (`/openai/v1/responses`, `/openai/responses`, `/v1/responses`).
 */
export class OpenAIResponsesDialect extends OpenAIDialect {
  readonly name = 'openai-responses';
  readonly format = 'openai-responses' as const;

  parse(raw: Buffer): ParsedRequest {
    const record = parseJsonObject(raw, 'We could not parse the JSON body of your request.');
    const model = requireModel(record, 'you must provide a model parameter');
    const input = record.input;
    if (typeof input !== 'string' && !Array.isArray(input))
      throw invalidParam('input: must be a string or an array of input items', 'input');
    const stream = optionalBoolean(record.stream, 'stream');
    const maxTokens =
      positiveInteger(record.max_output_tokens, 'max_output_tokens') ??
      RESPONSES_DEFAULT_MAX_TOKENS;
    return { model, stream, maxTokens, body: record };
  }

  /**
   * The Responses stream's `error` event: OpenAI's SDKs throw it from the stream, and Codex CLI,
   * which waits for `response.completed`, treats the stream as failed and retries.
   */
  streamErrorEvent(kind: ErrorKind, message: string): Buffer {
    const data = {
      type: 'error',
      code: kind === 'rate_limited' ? 'rate_limit_exceeded' : 'server_error',
      message: redactCredentials(message),
      param: null,
    };
    return Buffer.from(`event: error\ndata: ${JSON.stringify(data)}\n\n`, 'utf8');
  }
}

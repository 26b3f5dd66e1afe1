import type { SseEvent } from 'src/modules/relay/sse/sse-parser';
import { emptyUsage, type TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { chatUsageToTokens, hasObjectValue, isJson, parseJson } from './openai-usage';
import { SseUsageTap, usageOfBodyOrStream } from '../shared/stream-usage.tap';

/**
 * Watches a Chat Completions chunk stream (`data: {chat.completion.chunk}` lines, then
 * `data: [DONE]`) on its way to the client and keeps what billing and failover need. It never
 * throws on bad input.
 *
 * Cheap by construction: a chunk is JSON-parsed only when it holds a `usage` object or an
 * `error` (a key check on the raw text, see hasObjectValue); the content chunks, which carry
 * `"usage":null` at most, are only counted.
 *
 * `complete` is `data: [DONE]`, not a `finish_reason`: [DONE] is the stream's own end marker and
 * comes after the usage chunk (`stream_options.include_usage`), so a stream cut between the
 * finish chunk and the usage is seen as truncated rather than billed at zero, and with `n > 1`
 * one choice's finish_reason does not end the others.
 */
export class OpenAIChatTap extends SseUsageTap {
  // Before the usage chunk (a stream cut short, or one without include_usage), each chunk
  // forwarded counts as one output token.

  protected onEvent(event: SseEvent): void {
    const data = event.data;
    if (data.length < 16 && data.trim() === '[DONE]') {
      this.done = true;
      return;
    }
    const usage = hasObjectValue(data, 'usage');
    const error = hasObjectValue(data, 'error', true);
    if (!usage && !error) {
      this.forwarded++;
      return;
    }
    const json = parseJson(data);
    if (!isJson(json)) return;
    if (json.error !== undefined && json.error !== null) this.failed = true;
    if (isJson(json.usage)) this.reported = chatUsageToTokens(json.usage);
  }
}

/**
 * The usage of a non-stream Chat Completions body (`chat.completion`); an error body or anything
 * unreadable has none. A whole chunk stream (an upstream that streamed anyway) is read with the
 * tap.
 */
export function usageFromChatCompletion(body: Buffer): TokenUsage {
  return usageOfBodyOrStream(
    body,
    (object) => {
      const json = parseJson(object);
      return isJson(json) && isJson(json.usage) ? chatUsageToTokens(json.usage) : emptyUsage();
    },
    () => new OpenAIChatTap(),
  );
}

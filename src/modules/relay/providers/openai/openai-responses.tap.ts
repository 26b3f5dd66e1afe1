import type { SseEvent } from 'src/modules/relay/sse/sse-parser';
import { emptyUsage, type TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { responsesEventType } from './openai-responses-stream';
import { isJson, parseJson, responsesUsageToTokens } from './openai-usage';
import { SseUsageTap, usageOfBodyOrStream } from '../shared/stream-usage.tap';

/**
 * Watches an OpenAI Responses event stream on its way to the client and keeps what billing and
 * failover need. It never throws on bad input.
 *
 * Only the events that end a response (`response.completed`, `response.incomplete`,
 * `response.failed`) and `error` are JSON-parsed; every other event is recognised by its type
 * (the `event:` line, else a prefix check on the data) and deltas are only counted.
 *
 * `complete`: `response.completed` or `response.incomplete` (a response cut by its token limit
 * ended properly; the stream was not truncated). `sawError`: `response.failed` or `error`.
 */

type Tracked = 'response.completed' | 'response.incomplete' | 'response.failed' | 'error';

const TRACKED: ReadonlySet<string> = new Set<Tracked>([
  'response.completed',
  'response.incomplete',
  'response.failed',
  'error',
]);

export class OpenAIResponsesTap extends SseUsageTap {
  // Before the final response (a stream cut short), each delta forwarded counts as one output
  // token.

  protected onEvent(event: SseEvent): void {
    const type = responsesEventType(event);
    if (type !== undefined) {
      if (type.endsWith('.delta')) {
        this.forwarded++;
        return;
      }
      if (!TRACKED.has(type)) return;
    }
    const json = parseJson(event.data);
    if (!isJson(json)) return;
    const kind = typeof json.type === 'string' ? json.type : (type ?? '');
    switch (kind) {
      case 'response.completed':
      case 'response.incomplete':
        this.done = true;
        this.readUsage(json.response);
        break;
      case 'response.failed':
        this.failed = true;
        this.readUsage(json.response);
        break;
      case 'error':
        this.failed = true;
        break;
      default:
        // Reached only for events whose type needed a parse: deltas count, the rest carry nothing.
        if (kind.endsWith('.delta')) this.forwarded++;
    }
  }

  private readUsage(response: unknown): void {
    if (isJson(response) && isJson(response.usage)) {
      this.reported = responsesUsageToTokens(response.usage);
    }
  }
}

/**
 * The usage of a non-stream Responses body (a Response object); an error body or anything
 * unreadable has none. A whole event stream (from an upstream that only streams) is read with
 * the tap.
 */
export function usageFromResponse(body: Buffer): TokenUsage {
  return usageOfBodyOrStream(
    body,
    (object) => {
      const json = parseJson(object);
      return isJson(json) && isJson(json.usage) ? responsesUsageToTokens(json.usage) : emptyUsage();
    },
    () => new OpenAIResponsesTap(),
  );
}

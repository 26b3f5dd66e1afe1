import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import { SseEvent, SseParser } from 'src/modules/relay/sse/sse-parser';
import { isJson, parseJson } from './openai-usage';

/**
 * Facts about the OpenAI Responses event stream (`event: <type>` + `data: {"type": <type>, …}`)
 * that more than one reader needs: the type of an event without parsing it, and the final
 * Response a whole stream amounts to (for an upstream that only streams, such as the Codex
 * backend, serving a client that asked for one JSON body).
 */

type Json = Record<string, unknown>;

const TYPE_PREFIX = '{"type":"';

/**
 * An event's type: its `event:` field, else the leading `"type"` of its data as OpenAI serialises
 * it; undefined when neither tells without a parse.
 */
export function responsesEventType(event: SseEvent): string | undefined {
  if (event.event !== undefined) return event.event;
  const data = event.data;
  if (!data.startsWith(TYPE_PREFIX)) return undefined;
  const end = data.indexOf('"', TYPE_PREFIX.length);
  return end === -1 ? undefined : data.slice(TYPE_PREFIX.length, end);
}

/** The events that end a response: each carries the final Response. */
export const TERMINAL_EVENTS: ReadonlySet<string> = new Set([
  'response.completed',
  'response.incomplete',
  'response.failed',
]);

/** Events the assembly reads; the many deltas are skipped unparsed. */
const ASSEMBLY_EVENTS: ReadonlySet<string> = new Set([
  ...TERMINAL_EVENTS,
  'response.output_item.done',
  'error',
]);

/**
 * A whole Responses event stream → the final Response object, as the non-stream API returns it:
 * the Response of `response.completed` (or `response.incomplete`, or `response.failed`, whose
 * `status` and `error` say so). When that Response carries no `output` (an upstream may leave it
 * empty), the items of the `response.output_item.done` events stand in, in output order.
 *
 * Throws a RelayException (UPSTREAM_BAD_RESPONSE) for a stream that reports an `error` event or
 * ends without a terminal event: there is no Response to give.
 */
export function responseFromEventStream(body: Buffer): Json {
  const parser = new SseParser();
  const items = new Map<number, Json>();
  let terminal: Json | undefined;
  for (const event of [...parser.push(body), ...parser.end()]) {
    const type = responsesEventType(event);
    if (type !== undefined && !ASSEMBLY_EVENTS.has(type)) continue;
    const json = parseJson(event.data);
    if (!isJson(json)) continue;
    const kind = typeof json.type === 'string' ? json.type : type;
    if (kind === 'response.output_item.done') {
      if (isJson(json.item) && typeof json.output_index === 'number') {
        items.set(json.output_index, json.item);
      }
    } else if (kind !== undefined && TERMINAL_EVENTS.has(kind) && isJson(json.response)) {
      terminal = json.response;
    } else if (kind === 'error') {
      const message = typeof json.message === 'string' ? json.message : 'upstream stream failed';
      throw new RelayException(
        RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
        `upstream stream failed: ${message}`,
      );
    }
  }
  if (terminal === undefined) {
    throw new RelayException(
      RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
      'upstream stream ended before the response was complete',
    );
  }
  const output = terminal.output;
  if (Array.isArray(output) && output.length > 0) return terminal;
  const collected = [...items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
  return { ...terminal, output: collected };
}

import type { StreamConversion } from 'src/modules/relay/converters/converter';
import type { PassthroughAdjustment } from 'src/modules/relay/relay.types';
import type { WireFormat } from 'src/modules/relay/wire-format';
import { hasObjectValue, isJson, parseJson } from './openai-usage';

/**
 * A Chat Completions stream reports its usage only when the client asks for it
 * (`stream_options.include_usage`), and Switchyard bills from that usage. So for a client that
 * did not ask, the upstream is asked anyway, and what it adds because of that is taken out of
 * the stream on its way back: the last chunk that carries only the usage (`choices: []`), and
 * the `"usage":null` every other chunk then carries. The client reads what it asked for; a client
 * that asked for the usage gets the upstream's bytes untouched.
 */
export function chatStreamUsagePassthrough(
  format: WireFormat,
  body: Record<string, unknown>,
  stream: boolean,
): PassthroughAdjustment | null {
  if (format !== 'openai-chat' || !stream) return null;
  const options = body.stream_options;
  if (isJson(options) && options.include_usage === true) return null;
  return {
    body: {
      ...body,
      stream_options: { ...(isJson(options) ? options : {}), include_usage: true },
    },
    stream: () => new ChatUsageChunkFilter(),
  };
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * The chunk stream without what `include_usage` added (see chatStreamUsagePassthrough). Events
 * are held until complete (a chunk may be split across reads anywhere); every event other than
 * the usage chunk is written as it came, minus a top-level `"usage":null` member.
 */
export class ChatUsageChunkFilter implements StreamConversion {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer {
    const bytes = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    let start = 0;
    for (let end = eventEnd(bytes, start); end !== -1; end = eventEnd(bytes, start)) {
      const event = bytes.subarray(start, end);
      const kept = filterEvent(event);
      if (kept !== null) out.push(kept);
      start = end;
    }
    this.pending = start === bytes.length ? Buffer.alloc(0) : Buffer.from(bytes.subarray(start));
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** A last event without its blank line (the upstream closed right after it) goes as it is. */
  end(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest.length === 0 ? rest : (filterEvent(rest) ?? Buffer.alloc(0));
  }
}

/**
 * The offset just past the blank line that ends the event starting at `from`, or -1 when the
 * event is not complete yet. Lines end in LF, CRLF or CR (the SSE rules); a CR at the very end
 * waits for the next read, which may bring its LF.
 */
function eventEnd(bytes: Buffer, from: number): number {
  let lineStart = true;
  for (let i = from; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte !== LF && byte !== CR) {
      lineStart = false;
      continue;
    }
    if (byte === CR) {
      if (i + 1 === bytes.length) return -1;
      if (bytes[i + 1] === LF) i++;
    }
    if (lineStart) return i + 1;
    lineStart = true;
  }
  return -1;
}

/** The event as the client should see it, or null to drop it (the usage-only chunk). */
function filterEvent(event: Buffer): Buffer | null {
  // Cheap test first: most events of a long answer are small deltas with `"usage":null`.
  if (event.indexOf('"usage"') === -1) return event;
  const text = event.toString('utf8');
  const dataAt = text.startsWith('data:') ? 0 : text.indexOf('\ndata:') + 1;
  if (dataAt === 0 && !text.startsWith('data:')) return event;
  const lineEnd = text.slice(dataAt).search(/\r\n|\n|\r/);
  const valueStart = dataAt + (text[dataAt + 5] === ' ' ? 6 : 5);
  const valueEnd = lineEnd === -1 ? text.length : dataAt + lineEnd;
  const data = text.slice(valueStart, valueEnd);
  if (hasObjectValue(data, 'usage')) {
    const json = parseJson(data);
    const usageOnly =
      isJson(json) &&
      isJson(json.usage) &&
      Array.isArray(json.choices) &&
      json.choices.length === 0;
    return usageOnly ? null : event;
  }
  const stripped = withoutTopLevelNull(data, 'usage');
  if (stripped === null) return event;
  return Buffer.from(text.slice(0, valueStart) + stripped + text.slice(valueEnd), 'utf8');
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/**
 * The JSON object text without its top-level member `"<key>": null`, leaving every other byte as
 * it was; null when there is no such member (or the text is not an object). Scans strings and
 * nesting so that a nested member, or the words inside a string, are never touched.
 */
export function withoutTopLevelNull(json: string, key: string): string | null {
  const needle = `"${key}"`;
  let depth = 0;
  let inString = false;
  // The last significant character outside strings at depth 1: `{` or `,` before a member name.
  let previous = '';
  let previousAt = -1;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (isSpace(json.charCodeAt(i))) continue;
    if (c === '"') {
      if (depth === 1 && (previous === '{' || previous === ',') && json.startsWith(needle, i)) {
        let j = i + needle.length;
        while (isSpace(json.charCodeAt(j))) j++;
        if (json[j] === ':') {
          j++;
          while (isSpace(json.charCodeAt(j))) j++;
          if (json.startsWith('null', j)) {
            let k = j + 4;
            while (isSpace(json.charCodeAt(k))) k++;
            if (json[k] === ',' || json[k] === '}') {
              // `,"usage":null` after another member; `"usage":null,` when it comes first.
              if (previous === ',') return json.slice(0, previousAt) + json.slice(j + 4);
              if (json[k] === ',') {
                let next = k + 1;
                while (isSpace(json.charCodeAt(next))) next++;
                return json.slice(0, i) + json.slice(next);
              }
              return json.slice(0, i) + json.slice(k);
            }
          }
        }
      }
      inString = true;
      previous = '"';
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    if (depth === 0 && c !== '}') return null;
    previous = c;
    previousAt = i;
  }
  return null;
}

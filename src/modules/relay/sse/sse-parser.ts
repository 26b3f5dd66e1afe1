/**
 * Incremental Server-Sent Events parser that observes a byte stream without changing it.
 *
 * Follows the WHATWG "event stream interpretation" rules: lines end with CRLF, LF or CR; a blank
 * line dispatches the pending event; lines starting with `:` are comments; `field: value` drops
 * one leading space from the value; several `data` lines are joined with `\n`; an event with no
 * `data` line is not dispatched; a leading UTF-8 BOM is ignored.
 *
 * Lines are split on raw bytes and only complete lines are decoded, so a multi-byte character
 * split across chunks is never turned into U+FFFD. Only the unfinished last line is kept between
 * calls (copied, because the caller may reuse its buffer once it has been written to the client).
 */

export interface SseEvent {
  /** The `event:` field; undefined when absent or empty (the spec's default "message"). */
  event: string | undefined;
  data: string;
}

export interface SseParserOptions {
  /**
   * Upper bound for one line and for one event's joined data. Larger ones are dropped and
   * counted in `oversized`, so a stream without line ends cannot grow memory without limit.
   */
  maxEventBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = '\ufeff';

/** Anthropic events are a few KiB; server tool results can reach a few MiB. */
const DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024;

export class SseParser {
  private readonly maxEventBytes: number;

  /** Bytes of the unfinished line, in arrival order (joined once when the line completes). */
  private tailParts: Buffer[] = [];
  private tailBytes = 0;
  /** True while skipping the rest of an oversized line. */
  private discardingLine = false;
  /** The previous chunk ended in CR: an LF at the start of the next chunk is the same line end. */
  private pendingCr = false;
  private atStreamStart = true;

  private eventType: string | undefined;
  private dataLines: string[] = [];
  private dataChars = 0;
  /** True while skipping the rest of an event whose data grew past the limit. */
  private discardingEvent = false;

  private oversizedCount = 0;

  constructor(options: SseParserOptions = {}) {
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  /** Lines or events dropped for exceeding `maxEventBytes`. */
  get oversized(): number {
    return this.oversizedCount;
  }

  /** Feeds one chunk; returns the events it completed. Never modifies `chunk`. */
  push(chunk: Buffer): SseEvent[] {
    const events: SseEvent[] = [];
    const len = chunk.length;
    if (len === 0) return events;

    let pos = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (chunk[0] === LF) pos = 1;
    }

    // Native indexOf scans far faster than a JS loop; each search result is reused until passed.
    let nextLf = chunk.indexOf(LF, pos);
    let nextCr = chunk.indexOf(CR, pos);
    while (pos < len) {
      if (nextLf !== -1 && nextLf < pos) nextLf = chunk.indexOf(LF, pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = chunk.indexOf(CR, pos);
      const eol = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
      if (eol === -1) {
        this.appendTail(chunk, pos, len);
        break;
      }
      this.completeLine(chunk, pos, eol, events);
      if (chunk[eol] === CR) {
        if (eol + 1 === len) {
          this.pendingCr = true;
          pos = len;
        } else {
          pos = chunk[eol + 1] === LF ? eol + 2 : eol + 1;
        }
      } else {
        pos = eol + 1;
      }
    }
    return events;
  }

  /**
   * Ends the stream: processes an unterminated last line and dispatches the pending event.
   * The spec discards an event that lacks its blank line; we keep it on purpose, because usage
   * accounting wants every figure the upstream did send before the connection ended.
   * The parser is reset and may be reused.
   */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.tailBytes > 0 && !this.discardingLine) {
      const line = Buffer.concat(this.tailParts, this.tailBytes);
      this.resetTail();
      this.processLine(this.decode(line, 0, line.length), events);
    }
    this.resetTail();
    this.dispatch(events);
    this.pendingCr = false;
    this.atStreamStart = true;
    return events;
  }

  private appendTail(chunk: Buffer, start: number, end: number): void {
    if (this.discardingLine) return;
    const size = end - start;
    if (this.tailBytes + size > this.maxEventBytes) {
      this.resetTail();
      this.discardingLine = true;
      this.oversizedCount++;
      return;
    }
    // Copy: the caller owns `chunk` and may recycle it after writing it to the client.
    this.tailParts.push(Buffer.from(chunk.subarray(start, end)));
    this.tailBytes += size;
  }

  private completeLine(chunk: Buffer, start: number, end: number, events: SseEvent[]): void {
    if (this.discardingLine) {
      this.discardingLine = false;
      return;
    }
    let line: string;
    if (this.tailBytes === 0) {
      line = this.decode(chunk, start, end);
    } else {
      if (this.tailBytes + (end - start) > this.maxEventBytes) {
        this.resetTail();
        this.oversizedCount++;
        return;
      }
      this.tailParts.push(chunk.subarray(start, end));
      const joined = Buffer.concat(this.tailParts, this.tailBytes + (end - start));
      this.resetTail();
      line = this.decode(joined, 0, joined.length);
    }
    this.processLine(line, events);
  }

  private decode(buf: Buffer, start: number, end: number): string {
    const text = buf.toString('utf8', start, end);
    if (!this.atStreamStart) return text;
    this.atStreamStart = false;
    return text.startsWith(BOM) ? text.slice(1) : text;
  }

  private processLine(line: string, events: SseEvent[]): void {
    if (line.length === 0) {
      this.dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === COLON) return;

    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      const valueStart = line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1;
      value = line.slice(valueStart);
    }

    if (field === 'event') {
      this.eventType = value;
    } else if (field === 'data') {
      this.appendData(value);
    }
    // `id` and `retry` only matter to a reconnecting client, and unknown fields are ignored.
  }

  private appendData(value: string): void {
    if (this.discardingEvent) return;
    // Approximates bytes with UTF-16 units (plus one per joining LF); enough for a memory bound.
    this.dataChars += value.length + 1;
    if (this.dataChars > this.maxEventBytes) {
      this.dataLines = [];
      this.discardingEvent = true;
      this.oversizedCount++;
      return;
    }
    this.dataLines.push(value);
  }

  private dispatch(events: SseEvent[]): void {
    const type = this.eventType;
    const lines = this.dataLines;
    const discarded = this.discardingEvent;
    this.eventType = undefined;
    this.dataLines = [];
    this.dataChars = 0;
    this.discardingEvent = false;
    if (discarded || lines.length === 0) return;
    events.push({
      event: type === undefined || type.length === 0 ? undefined : type,
      data: lines.length === 1 ? lines[0] : lines.join('\n'),
    });
  }

  private resetTail(): void {
    this.tailParts = [];
    this.tailBytes = 0;
    this.discardingLine = false;
  }
}

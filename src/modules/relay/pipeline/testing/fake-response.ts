import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Writable } from 'node:stream';
import type { Request, Response } from 'express';

export interface FakeResponseOptions {
  /** Bytes buffered before write() answers false (backpressure). */
  highWaterMark?: number;
  /** A client that reads nothing: writes are never acknowledged until read() is called. */
  stalled?: boolean;
}

/**
 * The client's side of a relay response, as the stages use an http.ServerResponse: writeHead,
 * setHeader, flushHeaders, write with backpressure ('drain'), end, destroy ('close'). Records the
 * status, the headers and every byte written.
 */
export class FakeResponse extends Writable {
  statusCode = 200;
  headersSent = false;
  /** writeHead calls, in order (more than one is a bug: Node throws). */
  readonly heads: { status: number; headers: OutgoingHttpHeaders }[] = [];
  flushes = 0;
  readonly chunks: Buffer[] = [];
  private readonly headerMap = new Map<string, string | number | readonly string[]>();
  private stalled: boolean;
  private readonly pending: (() => void)[] = [];

  constructor(options: FakeResponseOptions = {}) {
    super({ highWaterMark: options.highWaterMark ?? 16 * 1024 });
    this.stalled = options.stalled ?? false;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.headersSent = true;
    this.chunks.push(chunk);
    if (this.stalled) this.pending.push(callback);
    else callback();
  }

  /** The client starts reading: every held write is acknowledged. */
  startReading(): void {
    this.stalled = false;
    for (const callback of this.pending.splice(0)) callback();
  }

  writeHead(status: number, headers: OutgoingHttpHeaders = {}): this {
    if (this.headersSent) throw new Error('FakeResponse: headers already sent');
    this.statusCode = status;
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) this.headerMap.set(name.toLowerCase(), value);
    }
    this.heads.push({ status, headers });
    this.headersSent = true;
    return this;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    if (this.headersSent) throw new Error(`FakeResponse: ${name} set after the headers were sent`);
    this.headerMap.set(name.toLowerCase(), value);
    return this;
  }

  getHeader(name: string): string | number | readonly string[] | undefined {
    return this.headerMap.get(name.toLowerCase());
  }

  getHeaders(): OutgoingHttpHeaders {
    return Object.fromEntries(this.headerMap) as OutgoingHttpHeaders;
  }

  flushHeaders(): void {
    this.headersSent = true;
    this.flushes += 1;
  }

  /** Every byte the client received. */
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get text(): string {
    return this.body.toString('utf8');
  }

  asResponse(): Response {
    return this as unknown as Response;
  }
}

/** The request fields the stages read: url (its query string travels upstream) and headers. */
export function fakeRequest(
  options: { url?: string; headers?: IncomingHttpHeaders } = {},
): Request {
  return {
    method: 'POST',
    url: options.url ?? '/v1/messages',
    headers: { 'content-type': 'application/json', ...options.headers },
  } as Request;
}

import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { errors } from 'undici';
import type { ConfigService } from 'src/config/config.service';
import {
  UpstreamAbort,
  UpstreamHttp,
  type UpstreamRequest,
  type UpstreamResponse,
} from 'src/infra/http/upstream-http.service';

/**
 * An upstream response body as undici hands it over: a byte stream (not object mode) read by
 * async iteration or 'data' events and destroyed by the relay when it is done with it. Chunks
 * given up front are delivered one by one; the rest is sent by the spec (send, finish, fail).
 */
export class UpstreamBody extends Readable {
  constructor(chunks: readonly (string | Buffer)[] = [], ending: 'end' | 'open' | Error = 'end') {
    super();
    for (const chunk of chunks) this.send(chunk);
    if (ending === 'end') this.finish();
    else if (ending instanceof Error) this.fail(ending);
  }

  override _read(): void {
    // The spec pushes.
  }

  send(chunk: string | Buffer): void {
    this.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }

  finish(): void {
    this.push(null);
  }

  /**
   * Breaks the body off the way undici does when the socket goes: the reader gets error after
   * the chunks already sent (on a later turn, so those are delivered first).
   */
  fail(error: Error): void {
    setImmediate(() => this.destroy(error));
  }
}

export interface ScriptedResponse {
  status: number;
  headers?: IncomingHttpHeaders;
  /** A string or Buffer is one chunk; an array, one chunk each; an UpstreamBody, as it goes. */
  body?: string | Buffer | readonly (string | Buffer)[] | UpstreamBody;
}

/** What one send answers: a response, a thrown transport error, or nothing until aborted. */
export type UpstreamScript = ScriptedResponse | { error: Error } | { hang: true };

function bodyOf(body: ScriptedResponse['body']): UpstreamBody {
  if (body instanceof UpstreamBody) return body;
  if (body === undefined) return new UpstreamBody();
  return new UpstreamBody(typeof body === 'string' || Buffer.isBuffer(body) ? [body] : body);
}

/** An undici ResponseData around a scripted response. */
export function upstreamResponse(script: ScriptedResponse): UpstreamResponse {
  const stream = bodyOf(script.body);
  return {
    statusCode: script.status,
    statusText: '',
    headers: { 'content-type': 'application/json', ...script.headers },
    body: stream as unknown as UpstreamResponse['body'],
    trailers: {},
    opaque: null,
    context: {},
  };
}

/** The transport errors undici and the socket layer throw, as transportFaultOf reads them. */
export const transportErrors = {
  connectRefused: (): Error =>
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
    }),
  connectTimeout: (): Error => new errors.ConnectTimeoutError(),
  firstByteTimeout: (): Error => new errors.HeadersTimeoutError(),
  idleTimeout: (): Error => new errors.BodyTimeoutError(),
  reset: (): Error => new errors.SocketError('other side closed'),
  aborted: (): Error => new errors.RequestAbortedError(),
};

/**
 * UpstreamHttp answering from scripts kept per origin (one origin per fake account), so a spec
 * says which account answers what whatever the order they are tried in. A request to an origin
 * with nothing scripted fails the spec with a plain Error (not a transport fault).
 */
export class FakeUpstreamHttp extends UpstreamHttp {
  readonly sent: UpstreamRequest[] = [];
  private readonly scripts = new Map<string, UpstreamScript[]>();

  constructor(config: ConfigService) {
    super(config);
  }

  /** Queues the answers of the upstream at baseUrl, one per request, in order. */
  answer(baseUrl: string, ...answers: UpstreamScript[]): this {
    const origin = new URL(baseUrl).origin;
    this.scripts.set(origin, [...(this.scripts.get(origin) ?? []), ...answers]);
    return this;
  }

  /** The requests sent to one origin. */
  sentTo(baseUrl: string): UpstreamRequest[] {
    const origin = new URL(baseUrl).origin;
    return this.sent.filter((r) => new URL(r.url).origin === origin);
  }

  override send(req: UpstreamRequest): Promise<UpstreamResponse> {
    this.sent.push(req);
    const origin = new URL(req.url).origin;
    const next = this.scripts.get(origin)?.shift();
    if (next === undefined) {
      return Promise.reject(new Error(`FakeUpstreamHttp: nothing scripted for ${req.url}`));
    }
    if ('error' in next) return Promise.reject(next.error);
    if ('hang' in next) return untilAborted(req.signal);
    return Promise.resolve(upstreamResponse(next));
  }
}

/** Never answers; rejects as undici does once the request's signal fires. */
function untilAborted(signal: UpstreamRequest['signal']): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (!(signal instanceof UpstreamAbort)) return;
    if (signal.aborted) reject(transportErrors.aborted());
    else signal.once('abort', () => reject(transportErrors.aborted()));
  });
}

import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { Logger } from 'pino';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { redactBody, redactHeaders, redactUrl } from './http-traffic-redaction';
import type { UpstreamRequest, UpstreamResponse } from './upstream-http.service';

/** Bytes of each body kept for the log; the rest is counted, not kept. */
export const TRAFFIC_BODY_LIMIT = 64 * 1024;

/** Who an upstream exchange is for: the Switchyard key and the account it went out on. */
export interface TrafficTarget {
  keyId: string | null;
  accountId: string | null;
  requestId?: string;
}

/** What DEBUG_HTTP_TRAFFIC selects: nothing, everything, or these keys and accounts. */
export type TrafficSelection =
  | { mode: 'off' }
  | { mode: 'all' }
  | { mode: 'some'; keys: ReadonlySet<string>; accounts: ReadonlySet<string> };

/** `off` (or empty), `all`, or `key:<id>` / `account:<id>` entries separated by commas. */
export function parseTrafficSelection(spec: string | undefined): TrafficSelection {
  const text = (spec ?? '').trim();
  if (text === '' || text === 'off') return { mode: 'off' };
  if (text === 'all') return { mode: 'all' };
  const keys = new Set<string>();
  const accounts = new Set<string>();
  for (const entry of text.split(',')) {
    const [kind, id] = entry.trim().split(':', 2);
    if (kind === 'key') keys.add(id);
    else if (kind === 'account') accounts.add(id);
  }
  return { mode: 'some', keys, accounts };
}

type HeaderMap = Record<string, string | string[] | number | undefined>;

function headerOf(headers: HeaderMap | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value === undefined ? undefined : String(value);
}

/** A body for the log: its first TRAFFIC_BODY_LIMIT bytes, redacted, and its whole size. */
function bodyFields(
  body: Buffer,
  total: number,
  contentType: string | undefined,
  secrets: readonly string[],
): { body: string; bodyBytes: number; bodyTruncated: boolean } {
  const truncated = total > body.length;
  return {
    body: redactBody(body, contentType, secrets, !truncated),
    bodyBytes: total,
    bodyTruncated: truncated,
  };
}

/**
 * Keeps the first `limit` bytes of a body as it passes, without holding it back: every chunk goes
 * on at once (same Buffer, no copy), backpressure and errors travel as through any pipe. Reports
 * once, at the end or when the body is cut off.
 */
class BodyTap extends Transform {
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private total = 0;
  private reported = false;

  constructor(private readonly report: (kept: Buffer, total: number, end: string) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.total += chunk.length;
    if (this.keptBytes < TRAFFIC_BODY_LIMIT) {
      const part = chunk.subarray(0, TRAFFIC_BODY_LIMIT - this.keptBytes);
      this.kept.push(part);
      this.keptBytes += part.length;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.finish('end');
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.finish(error === null ? 'closed' : 'error');
    callback(error);
  }

  private finish(end: string): void {
    if (this.reported) return;
    this.reported = true;
    this.report(Buffer.concat(this.kept), this.total, end);
  }
}

/** One traced upstream exchange: logs the response (head, then body as it streams) or a failure. */
export class TrafficExchange {
  private readonly startedAt = Date.now();

  constructor(
    private readonly logger: Logger,
    private readonly fields: Record<string, unknown>,
    private readonly secrets: readonly string[],
  ) {}

  /** Logs the response head and returns the response with its body tapped for the log. */
  response(response: UpstreamResponse): UpstreamResponse {
    const headers = response.headers as HeaderMap;
    this.head(response.statusCode, headers);
    const tap = new BodyTap((kept, total, end) =>
      this.body(response.statusCode, headers, kept, total, end),
    );
    // Destroying the tap (client gone) destroys the upstream body too, as with the body itself.
    const body = pipeline(response.body, tap, () => undefined);
    return { ...response, body: body as unknown as UpstreamResponse['body'] };
  }

  /** Logs a response whose body was read whole (OAuth token calls). */
  completed(status: number, headers: HeaderMap, body: Buffer): void {
    this.head(status, headers);
    this.body(status, headers, body.subarray(0, TRAFFIC_BODY_LIMIT), body.length, 'end');
  }

  private head(status: number, headers: HeaderMap): void {
    this.logger.info(
      {
        traffic: {
          ...this.fields,
          phase: 'response',
          status,
          headers: redactHeaders(headers, this.secrets),
          ms: Date.now() - this.startedAt,
        },
      },
      'upstream response',
    );
  }

  private body(status: number, headers: HeaderMap, kept: Buffer, total: number, end: string): void {
    this.logger.info(
      {
        traffic: {
          ...this.fields,
          phase: 'response_body',
          status,
          ...bodyFields(kept, total, headerOf(headers, 'content-type'), this.secrets),
          end,
          ms: Date.now() - this.startedAt,
        },
      },
      'upstream response body',
    );
  }

  /** Logs a transport failure (no response came); fetch's errors carry the code in `cause`. */
  failed(error: unknown): void {
    const failure = error as { code?: unknown; cause?: { code?: unknown } } | null;
    const code = failure?.code ?? failure?.cause?.code;
    this.logger.info(
      {
        traffic: {
          ...this.fields,
          phase: 'error',
          code: typeof code === 'string' ? code : 'unknown',
          ms: Date.now() - this.startedAt,
        },
      },
      'upstream request failed',
    );
  }
}

/**
 * DEBUG_HTTP_TRAFFIC: logs the upstream exchanges of the selected keys and accounts (method,
 * URL, headers, bodies up to 64 KiB each, streamed bodies tapped as they pass) with every
 * credential redacted: credential headers by name, credential fields of JSON and form bodies and
 * of the query, and the account's and client's secret values wherever they appear. Off by
 * default; callers test `enabled` (one boolean) before doing anything else. Provided by
 * HttpModule (a factory: the logger argument is for specs).
 */
export class HttpTrafficLogger {
  readonly enabled: boolean;
  private readonly selection: TrafficSelection;

  constructor(
    config: ConfigService,
    private readonly logger: Logger = appLogger,
  ) {
    this.selection = parseTrafficSelection(config.env.DEBUG_HTTP_TRAFFIC);
    this.enabled = this.selection.mode !== 'off';
  }

  /** Whether an exchange for this key (null: none, e.g. a token refresh) and account is traced. */
  wants(keyId: string | null, accountId: string | null): boolean {
    const s = this.selection;
    if (s.mode !== 'some') return s.mode === 'all';
    return (
      (keyId !== null && s.keys.has(keyId)) || (accountId !== null && s.accounts.has(accountId))
    );
  }

  /**
   * Logs the request of an exchange and returns its tracer, or null when this key and account
   * are not traced. `secrets`: values to scrub wherever they appear (see secretValuesOf).
   */
  begin(
    target: TrafficTarget,
    request: Pick<UpstreamRequest, 'method' | 'url' | 'headers' | 'body'>,
    secrets: readonly string[],
  ): TrafficExchange | null {
    if (!this.wants(target.keyId, target.accountId)) return null;
    const fields = {
      ...(target.requestId === undefined ? {} : { requestId: target.requestId }),
      keyId: target.keyId,
      accountId: target.accountId,
      method: request.method,
      url: redactUrl(request.url, secrets),
    };
    const raw = request.body;
    const body =
      raw === undefined ? Buffer.alloc(0) : typeof raw === 'string' ? Buffer.from(raw) : raw;
    this.logger.info(
      {
        traffic: {
          ...fields,
          phase: 'request',
          headers: redactHeaders(request.headers, secrets),
          ...bodyFields(
            body.subarray(0, TRAFFIC_BODY_LIMIT),
            body.length,
            headerOf(request.headers, 'content-type'),
            secrets,
          ),
        },
      },
      'upstream request',
    );
    return new TrafficExchange(this.logger, fields, secrets);
  }

  /**
   * Logs a whole exchange whose response body was read at once (OAuth token calls), when traced.
   */
  exchange(
    target: TrafficTarget,
    request: Pick<UpstreamRequest, 'method' | 'url' | 'headers' | 'body'>,
    response: { status: number; headers: HeaderMap; body: string },
    secrets: readonly string[],
  ): void {
    this.begin(target, request, secrets)?.completed(
      response.status,
      response.headers,
      Buffer.from(response.body),
    );
  }
}

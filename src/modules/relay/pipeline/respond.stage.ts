import { Injectable } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { transportFaultOf, type UpstreamResponse } from 'src/infra/http/upstream-http.service';
import type { Conversion, StreamConversion } from 'src/modules/relay/converters/converter';
import type { WireFormat } from 'src/modules/relay/wire-format';
import { forwardableResponseHeaders } from 'src/modules/relay/headers';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import type {
  PassthroughAdjustment,
  ProviderAdapter,
  UsageTap,
} from 'src/modules/relay/relay.types';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { pump } from './pump';
import { ClientGoneError, type RelayContext } from './relay-context';
import { faultException } from './upstream-faults';

/** Non-stream response bytes kept to read usage from; the client gets every byte regardless. */
const MAX_PARSED_BODY = 16 * 1024 * 1024;

/** An upstream response chosen to answer the client (no failover past this point). */
export interface ChosenResponse {
  response: UpstreamResponse;
  /** An upstream 4xx about the client's own request, already read (it is the provider's error). */
  buffered?: Buffer;
}

/**
 * Stage 6: the chosen response to the client. Its status and headers, then its bytes as they
 * arrive, with backpressure both ways. The usage tap reads the provider's side; a conversion (when
 * the client's format differs from the provider's) transforms the bytes on their way out; when it
 * is null the bytes pass untouched, with no parse and no copy.
 */
@Injectable()
export class RespondStage {
  constructor(private readonly config: ConfigService) {}

  async run(
    ctx: RelayContext,
    provider: ProviderAdapter,
    leg: {
      format: WireFormat;
      conversion: Conversion | null;
      passthrough?: PassthroughAdjustment | null;
    },
    chosen: ChosenResponse,
  ): Promise<void> {
    const { format, conversion } = leg;
    const { response } = chosen;
    const { res } = ctx;
    ctx.trace?.streaming();
    if (ctx.clientGone || res.destroyed) {
      response.body.destroy();
      throw new ClientGoneError();
    }
    const contentType = String(response.headers['content-type'] ?? '');
    const sse = contentType.includes('text/event-stream');
    // No content-length, even when the upstream sent one: with it, the client counts the response
    // complete at its last byte, which must not leave before the usage is journaled (below).
    const headers = forwardableResponseHeaders(response.headers, { keepContentLength: false });
    if (sse) {
      headers['cache-control'] = 'no-cache';
      headers['x-accel-buffering'] = 'no';
    }
    // A stream of a conversion is made now: it may answer in another content type than events.
    const conversionStream = conversion !== null && sse ? conversion.stream() : null;
    if (conversion !== null) {
      headers['content-type'] = sse
        ? (conversionStream?.contentType ?? 'text/event-stream; charset=utf-8')
        : 'application/json';
    }
    ctx.status = response.statusCode;
    if (chosen.buffered !== undefined) {
      // An upstream 4xx about the client's own request: the body is the provider's error.
      res.writeHead(response.statusCode, headers);
      ctx.ttfbMs = Date.now() - ctx.startedAt;
      ctx.outcome = 'error';
      ctx.errorCode = `UPSTREAM_${response.statusCode}`;
      ctx.usage = provider.usageFromBody(format, chosen.buffered);
      const body =
        conversion === null
          ? chosen.buffered
          : conversion.error(response.statusCode, chosen.buffered);
      await ctx.beforeEnd?.();
      res.end(body);
      return;
    }
    // A client that asked for one JSON body, from an upstream that only streams: assembled.
    const assemble =
      sse && !ctx.request.stream && provider.assembleStream !== undefined
        ? (body: Buffer) =>
            (provider.assembleStream as NonNullable<typeof provider.assembleStream>)(format, body)
        : null;
    if ((conversion !== null && !sse) || assemble !== null) {
      if (assemble !== null) {
        headers['content-type'] = 'application/json';
        delete headers['cache-control'];
        delete headers['x-accel-buffering'];
      }
      await this.respondWhole(ctx, provider, format, conversion, response, headers, assemble);
      return;
    }
    res.writeHead(response.statusCode, headers);
    // A stream of an adjusted passthrough request: what the adjustment added is taken out.
    const transform =
      conversion !== null
        ? (conversionStream ?? conversion.stream())
        : sse && leg.passthrough != null
          ? leg.passthrough.stream()
          : null;
    await this.stream(ctx, provider, format, transform, response, sse);
  }

  /** Bytes as they arrive: passed through, or through a stream transform. */
  private async stream(
    ctx: RelayContext,
    provider: ProviderAdapter,
    format: WireFormat,
    transform: StreamConversion | null,
    response: UpstreamResponse,
    sse: boolean,
  ): Promise<void> {
    const { res } = ctx;
    const tap: UsageTap | null = sse ? provider.createTap(format) : null;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let wrote = false;
    // A stream's headers go out at once, so the client sees the status while the model thinks;
    // but the first event usually arrived with them, and then one write carries both.
    const flush = sse
      ? setImmediate(() => {
          if (!wrote && !res.writableEnded && !res.destroyed) res.flushHeaders();
        })
      : undefined;
    try {
      const end = await pump(
        response.body,
        res,
        (chunk) => {
          wrote = true;
          ctx.ttfbMs ??= Date.now() - ctx.startedAt;
          if (tap !== null) tap.push(chunk);
          else if (keptBytes < MAX_PARSED_BODY) {
            kept.push(chunk);
            keptBytes += chunk.length;
          }
          return transform === null ? chunk : transform.push(chunk);
        },
        () => ctx.clientGone,
        this.config.env.RELAY_WRITE_STALL_TIMEOUT_MS,
      );
      if (end === 'stalled') {
        // The client stopped reading: cut both sides so neither holds a connection or a lease.
        ctx.clientGone = true;
        ctx.errorCode = 'CLIENT_WRITE_STALLED';
        appLogger.info(
          { requestId: ctx.requestId, accountId: ctx.accountId },
          'client stopped reading its response; cut after the write-stall timeout',
        );
        ctx.abort.abort();
        res.destroy();
      }
      if (end !== 'end' || ctx.clientGone) throw new ClientGoneError();
      tap?.end();
      if (tap !== null && !tap.complete && !tap.sawError) {
        res.write(
          ctx.dialect.streamErrorEvent(
            'upstream_failure',
            'upstream stream ended before it was complete',
            { framing: ctx.request.streamFraming, started: wrote, endedCleanly: true },
          ),
        );
        ctx.outcome = 'truncated';
        ctx.errorCode = 'UPSTREAM_STREAM_TRUNCATED';
      } else {
        ctx.outcome = response.statusCode < 400 && !(tap?.sawError ?? false) ? 'ok' : 'error';
        if (tap?.sawError === true) ctx.errorCode = 'UPSTREAM_STREAM_ERROR';
        if (transform !== null && tap?.complete === true) {
          const tail = transform.end();
          if (tail.length > 0) res.write(tail);
        }
      }
      ctx.usage = usageOf(provider, format, tap, kept);
      await ctx.beforeEnd?.();
      res.end();
    } catch (error) {
      response.body.destroy();
      tap?.end();
      if (ctx.clientGone || error instanceof ClientGoneError) {
        ctx.outcome = 'aborted';
      } else {
        // The upstream broke mid-response: the client already has bytes, so no failover.
        appLogger.warn(
          { err: error, requestId: ctx.requestId, accountId: ctx.accountId },
          'upstream response broke off',
        );
        ctx.outcome = 'truncated';
        ctx.errorCode = 'UPSTREAM_STREAM_TRUNCATED';
        if (tap !== null && !res.destroyed) {
          res.end(
            ctx.dialect.streamErrorEvent('upstream_failure', 'upstream stream was interrupted', {
              framing: ctx.request.streamFraming,
              started: wrote,
              endedCleanly: false,
            }),
          );
        } else {
          res.destroy();
        }
      }
    } finally {
      clearImmediate(flush);
      // Paths that ended early (client gone, upstream broke) record what was seen so far.
      if (!ctx.recorded) ctx.usage = usageOf(provider, format, tap, kept);
    }
  }

  /**
   * A response read whole: a non-stream answer in another format, or an upstream's event stream
   * for a client that asked for one body (assembled first). Converted, written at once. A body the
   * converter cannot read is the upstream's failure (502), not the client's.
   */
  private async respondWhole(
    ctx: RelayContext,
    provider: ProviderAdapter,
    format: WireFormat,
    conversion: Conversion | null,
    response: UpstreamResponse,
    headers: Record<string, string | string[]>,
    assemble: ((body: Buffer) => Buffer) | null,
  ): Promise<void> {
    const { res } = ctx;
    let providerBody: Buffer;
    try {
      providerBody = await readWhole(response, MAX_PARSED_BODY);
    } catch (error) {
      ctx.checkClient();
      if (error instanceof RelayException) throw error;
      const fault = transportFaultOf(error);
      // The body broke off before a byte reached the client: a 502/504 the client may retry.
      if (fault !== null) throw faultException(fault, null);
      throw error;
    }
    ctx.checkClient();
    ctx.ttfbMs = Date.now() - ctx.startedAt;
    let body: Buffer;
    try {
      if (assemble !== null) providerBody = assemble(providerBody);
      ctx.usage = provider.usageFromBody(format, providerBody);
      body = conversion === null ? providerBody : conversion.response(providerBody);
    } catch (error) {
      appLogger.warn(
        { err: error, requestId: ctx.requestId, accountId: ctx.accountId },
        'upstream response could not be converted',
      );
      ctx.outcome = 'error';
      throw new RelayException(
        RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
        'upstream sent a response that could not be read',
      );
    }
    ctx.outcome = response.statusCode < 400 ? 'ok' : 'error';
    res.writeHead(response.statusCode, headers);
    await ctx.beforeEnd?.();
    res.end(body);
  }
}

/** A whole response body, refused past limit bytes (it would be converted in memory). */
async function readWhole(response: UpstreamResponse, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      response.body.destroy();
      throw new RelayException(
        RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
        `upstream response is larger than ${limit} bytes`,
      );
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
}

/** A response's usage: from the stream's tap, else from the kept (non-stream) body. */
function usageOf(
  provider: ProviderAdapter,
  format: WireFormat,
  tap: UsageTap | null,
  kept: Buffer[],
): TokenUsage {
  if (tap !== null) return tap.usage;
  return provider.usageFromBody(format, kept.length === 1 ? kept[0] : Buffer.concat(kept));
}

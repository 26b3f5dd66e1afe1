import type { Request } from 'express';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import type { InboundLimits } from 'src/modules/relay/inbound-limits';
import { ClientGoneError } from './relay-context';

function bodyTooLarge(limit: number): RelayException {
  return new RelayException(
    RelayExceptionCode.BODY_TOO_LARGE,
    `request body exceeds ${limit} bytes`,
  );
}

function serverBusy(): RelayException {
  return new RelayException(
    RelayExceptionCode.SERVER_BUSY,
    'too many large request bodies in flight; retry shortly',
    Date.now() + 1000,
  );
}

/**
 * A refused body's remaining bytes are read and dropped, so the client (still sending) reads the
 * error instead of a connection reset; past this many bytes or milliseconds the socket is cut.
 */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
const DISCARD_MAX_MS = 10_000;

/**
 * Drops the rest of a body that will not be read while the caller answers. The connection is
 * not closed at once: a client still sending would then get a reset and lose the answer in its
 * receive buffer; past DISCARD_MAX_BYTES or DISCARD_MAX_MS of more body it is cut all the same.
 */
export function discardBody(req: Request): void {
  if (req.readableEnded || req.destroyed) return;
  let dropped = 0;
  const cut = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
    req.destroy();
  };
  const onData = (chunk: Buffer): void => {
    dropped += chunk.length;
    if (dropped > DISCARD_MAX_BYTES) cut();
  };
  const timer = setTimeout(cut, DISCARD_MAX_MS);
  timer.unref();
  req.on('data', onData);
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/**
 * The whole request body, up to limit bytes, each byte counted against the instance's in-flight
 * body budget (held.bytes says how much this request holds; the caller gives it back). Plain
 * stream events rather than `for await`: an async iterator costs a promise per chunk and an
 * end-of-stream watcher per request. A client that leaves mid-body rejects with ClientGoneError;
 * a body refused for its size (413) or for the budget (503) is discarded, not reset, so the
 * client reads the answer.
 */
export function readBody(
  req: Request,
  limit: number,
  budget: InboundLimits,
  held: { bytes: number },
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const hasLength = Number.isFinite(declared) && declared >= 0;
  if (hasLength && declared > limit) {
    discardBody(req);
    return Promise.reject(bodyTooLarge(limit));
  }
  if (hasLength) {
    if (!budget.tryReserveBody(declared)) {
      discardBody(req);
      return Promise.reject(serverBusy());
    }
    held.bytes = declared;
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const refuse = (error: Error): void => {
      cleanup();
      chunks.length = 0;
      discardBody(req);
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return refuse(bodyTooLarge(limit));
      if (size > held.bytes) {
        // A chunked body (or one longer than it said) reserves as it arrives.
        if (!budget.tryReserveBody(size - held.bytes)) return refuse(serverBusy());
        held.bytes = size;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const gone = (): void => {
      cleanup();
      req.destroy();
      reject(new ClientGoneError());
    };
    const onError = (): void => gone();
    const onClose = (): void => {
      if (!req.readableEnded) gone();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

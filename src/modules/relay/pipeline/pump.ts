import type { Readable } from 'node:stream';
import type { Response } from 'express';

/** Reads a body up to limit bytes (the rest is drained and dropped). */
export async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) {
      chunks.push(chunk);
      size += chunk.length;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/** How a pump ended: the body's end, stop() (client gone) or the client's stall. */
export type PumpEnd = 'end' | 'stopped' | 'stalled';

/**
 * Writes every chunk of body to res as it arrives (as onChunk returns it: the chunk itself when
 * bytes pass through, the converted bytes otherwise; nothing when that is empty), pausing body while res is full. Resolves at
 * the end of body; as soon as stop() says so or res is destroyed ('stopped': the caller then
 * destroys body, since a destroyed response never drains); or when res has stayed full for
 * stallMs ('stalled': a client that reads nothing must not hold a lease and an upstream
 * connection for ever). Rejects with body's error. Stream events rather than `for await`,
 * which costs a promise per chunk.
 */
export function pump(
  body: Readable,
  res: Response,
  onChunk: (chunk: Buffer) => Buffer,
  stop: () => boolean,
  stallMs: number,
): Promise<PumpEnd> {
  return new Promise<PumpEnd>((resolve, reject) => {
    let stall: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      clearTimeout(stall);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      res.off('drain', onDrain);
      res.off('close', onDrain);
    };
    const finish = (end: PumpEnd): void => {
      cleanup();
      resolve(end);
    };
    const onData = (chunk: Buffer): void => {
      let out: Buffer;
      try {
        out = onChunk(chunk);
      } catch (error) {
        // A converter that cannot read the upstream's bytes ends the response like a broken one.
        onError(error as Error);
        return;
      }
      if (res.destroyed || stop()) return finish('stopped');
      if (out.length > 0 && !res.write(out)) {
        body.pause();
        stall ??= setTimeout(() => finish('stalled'), stallMs);
      }
    };
    const onDrain = (): void => {
      clearTimeout(stall);
      stall = undefined;
      if (res.destroyed || stop()) finish('stopped');
      else if (body.isPaused()) body.resume();
    };
    const onEnd = (): void => finish('end');
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    res.on('drain', onDrain);
    res.on('close', onDrain);
  });
}

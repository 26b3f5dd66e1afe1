import { EventStreamCodec } from '@smithy/eventstream-codec';
import type { Message } from '@smithy/types';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { anthropicErrorEvent } from '../anthropic/anthropic-usage.tap';

/**
 * Bedrock's InvokeModelWithResponseStream answers with the AWS event stream
 * (`application/vnd.amazon.eventstream`): binary frames of a 12-byte prelude (total length,
 * headers length, CRC32), headers, a payload and a CRC32 of the whole message. For Claude, each
 * `chunk` event's payload is `{"bytes":"<base64>"}` (plus padding), the bytes being one Anthropic
 * stream event as JSON; failures come as `exception` messages (`:exception-type`
 * `throttlingException`, `modelStreamErrorException`, …, payload `{"message":"…"}`) or
 * protocol `error` messages (`:error-code`, `:error-message`).
 *
 * This decoder turns that into the Anthropic SSE Claude clients read: `event: <type>\ndata:
 * <json>\n\n` per chunk, the JSON exactly as the model sent it; exceptions become Anthropic
 * `error` events. Frames may split anywhere across chunks; the codec checks both CRCs.
 */

/** A frame larger than this is not Bedrock's (its chunks are a few KiB; tool results a few MiB). */
const MAX_FRAME_BYTES = 32 * 1024 * 1024;
const PRELUDE_BYTES = 12;
/** Total length, headers length, prelude CRC and message CRC. */
const MIN_FRAME_BYTES = 16;

/** Bedrock exception names (stream `:exception-type`, or `x-amzn-errortype`) → Anthropic error types. */
export function anthropicErrorTypeOf(awsType: string | undefined, status?: number): string {
  const name = (awsType ?? '').replace(/Exception$/i, '').toLowerCase();
  switch (name) {
    case 'throttling':
    case 'servicequotaexceeded':
      return 'rate_limit_error';
    case 'serviceunavailable':
    case 'modelnotready':
      return 'overloaded_error';
    case 'modeltimeout':
      return 'timeout_error';
    case 'validation':
      return 'invalid_request_error';
    case 'accessdenied':
      return 'permission_error';
    case 'unrecognizedclient':
    case 'invalidsignature':
    case 'incompletesignature':
    case 'expiredtoken':
    case 'missingauthenticationtoken':
      return 'authentication_error';
    case 'resourcenotfound':
      return 'not_found_error';
    case 'modelstreamerror':
    case 'modelerror':
    case 'internalserver':
      return 'api_error';
  }
  if (status === undefined) return 'api_error';
  if (status === 400) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503) return 'overloaded_error';
  return status < 500 ? 'invalid_request_error' : 'api_error';
}

function headerString(message: Message, name: string): string | undefined {
  const header = message.headers[name];
  return header?.type === 'string' ? header.value : undefined;
}

/** The `message` of an AWS error payload (`{"message": "…"}` or `{"Message": "…"}`). */
export function awsErrorMessage(payload: string): string | undefined {
  try {
    const json = JSON.parse(payload) as Record<string, unknown>;
    const message = json.message ?? json.Message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

export class BedrockEventStreamDecoder {
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Anthropic SSE bytes for every whole frame now available (possibly none). */
  push(chunk: Buffer): Buffer {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const out: Buffer[] = [];
    while (this.pendingBytes >= PRELUDE_BYTES) {
      const head = this.pending.length === 1 ? this.pending[0] : this.joined();
      const total = head.readUInt32BE(0);
      if (total < MIN_FRAME_BYTES || total > MAX_FRAME_BYTES) {
        throw new Error(`Bedrock event stream frame of ${total} bytes is not valid`);
      }
      if (this.pendingBytes < total) break;
      const all = this.joined();
      const frame = all.subarray(0, total);
      const rest = all.subarray(total);
      this.pending = rest.length > 0 ? [Buffer.from(rest)] : [];
      this.pendingBytes = rest.length;
      const sse = this.onMessage(this.codec.decode(frame));
      if (sse !== null) out.push(sse);
    }
    return out.length === 0 ? EMPTY : out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Bytes left over at the end of the stream (a frame cut short) are not an event: dropped. */
  end(): Buffer {
    this.pending = [];
    this.pendingBytes = 0;
    return EMPTY;
  }

  /** Whether part of a frame is still waiting for its rest. */
  get partial(): boolean {
    return this.pendingBytes > 0;
  }

  private joined(): Buffer {
    if (this.pending.length > 1) this.pending = [Buffer.concat(this.pending, this.pendingBytes)];
    return this.pending[0];
  }

  private onMessage(message: Message): Buffer | null {
    const kind = headerString(message, ':message-type') ?? 'event';
    const payload = toUtf8(message.body);
    if (kind === 'exception') {
      const type = headerString(message, ':exception-type');
      return anthropicErrorEvent(
        anthropicErrorTypeOf(type),
        awsErrorMessage(payload) ?? `Bedrock stream failed (${type ?? 'exception'})`,
      );
    }
    if (kind === 'error') {
      const code = headerString(message, ':error-code');
      return anthropicErrorEvent(
        anthropicErrorTypeOf(code),
        headerString(message, ':error-message') ?? `Bedrock stream failed (${code ?? 'error'})`,
      );
    }
    if (headerString(message, ':event-type') !== 'chunk') return null;
    let bytes: unknown;
    try {
      bytes = (JSON.parse(payload) as { bytes?: unknown }).bytes;
    } catch {
      throw new Error('Bedrock chunk event payload is not JSON');
    }
    if (typeof bytes !== 'string') return null;
    return anthropicSseOf(Buffer.from(bytes, 'base64').toString('utf8'));
  }
}

const EMPTY = Buffer.alloc(0);

/** One Anthropic stream event (JSON text) as an SSE event named by its `type`. */
function anthropicSseOf(json: string): Buffer {
  let event: unknown;
  try {
    event = JSON.parse(json);
  } catch {
    throw new Error('Bedrock chunk does not carry a JSON event');
  }
  const type =
    typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !/^[a-z_]+$/.test(type)) {
    throw new Error('Bedrock chunk event has no type');
  }
  // The model's JSON passes as it came; one with a raw line break would end the SSE line early.
  const data = /[\r\n]/.test(json) ? JSON.stringify(event) : json;
  return Buffer.from(`event: ${type}\ndata: ${data}\n\n`, 'utf8');
}

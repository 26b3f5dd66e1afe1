import type { StreamFraming } from 'src/modules/relay/relay.types';
import type { RelayOperation, WireFormat } from 'src/modules/relay/wire-format';

/**
 * What an account's Chat Completions server accepts beyond the common ground, for converters to
 * `openai-chat` (openai-compatible accounts); see docs/accounts.md.
 */
export interface ChatUpstreamOptions {
  /** The largest output cap the server takes (a larger request is lowered to it). */
  maxOutputTokens: number | null;
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  tools: boolean;
  streamOptions: boolean;
  images: boolean;
  /** How the server takes a request to reason ('none': it takes no such field). */
  reasoning: 'none' | 'reasoning_effort' | 'openrouter' | 'thinking' | 'enable_thinking';
  /** Merged into every request body, over the fields of the same name. */
  extraBody: Record<string, unknown> | null;
}

/** What a converter is told about one request when it converts it. */
export interface ConversionInput {
  /** The client's request body, parsed once by the dialect. */
  body: Record<string, unknown>;
  /** The model name to send upstream (after account mappings and routing). */
  upstreamModel: string;
  /** The model name the client asked for, echoed back where the client's format names one. */
  requestedModel: string;
  stream: boolean;
  /**
   * The framing the client asked its stream in (the dialect read it: Gemini's `alt=sse` or not).
   * Absent: server-sent events. Converters whose client format streams only one way ignore it.
   */
  streamFraming?: StreamFraming;
  /**
   * The upstream answers only with an event stream (the Codex backend requires `stream: true`):
   * the converter asks for a stream whatever the client asked, and its `response()` accepts the
   * provider's whole stream body as well as a JSON one.
   */
  upstreamStreamsOnly?: boolean;
  operation: RelayOperation;
  /** Switchyard's request id, for response ids the client's format requires (`chatcmpl-…`). */
  requestId: string;
  /**
   * The picked account's server options, from providers whose servers differ per account
   * (ProviderAdapter.upstreamOptions); absent otherwise, and converters that do not target such
   * servers ignore it.
   */
  upstream?: ChatUpstreamOptions;
}

/**
 * A stateful transform of a provider's stream bytes into the client's stream bytes. Chunks split
 * anywhere (inside an SSE event, inside a UTF-8 sequence); the transform buffers what it must.
 */
export interface StreamConversion {
  /**
   * The content type of the client's stream when it is not server-sent events (Google's JSON
   * array: `application/json`).
   */
  readonly contentType?: string;
  /** The client's bytes for this provider chunk; an empty buffer when nothing is complete yet. */
  push(chunk: Buffer): Buffer;
  /**
   * The provider's stream ended: whatever the client's format needs to close the stream (the
   * final chunk, `data: [DONE]`). Called once, only after a clean end.
   */
  end(): Buffer;
}

/** One request's conversion, created by Converter.convert before the first attempt. */
export interface Conversion {
  /** The provider request body. */
  readonly body: Buffer;
  /**
   * A provider's non-stream success body (JSON) → the client's body. With `upstreamStreamsOnly`,
   * the provider's whole event stream (read to its end) instead, for a client that asked for one
   * body.
   */
  response(providerBody: Buffer): Buffer;
  /** A fresh transform for a provider stream (one per attempt that streams). */
  stream(): StreamConversion;
  /**
   * A provider error body passed to the client (an upstream 4xx about the request itself) → the
   * client's error body; the status stays the provider's.
   */
  error(status: number, providerBody: Buffer): Buffer;
}

/**
 * Converts between a client's wire format (from) and a provider's (to). convert() throws a
 * RelayException (INVALID_REQUEST, a 400 in the client's dialect) for anything the provider
 * cannot honour; it never drops a field silently.
 */
export interface Converter {
  readonly from: WireFormat;
  readonly to: WireFormat;
  convert(input: ConversionInput): Conversion;
}

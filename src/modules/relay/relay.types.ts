import type { IncomingHttpHeaders } from 'node:http';
import type { Request } from 'express';
import type { Platform } from 'src/common/platform';
import type { UpstreamRequest, UpstreamResponse } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import type { ProviderId } from 'src/modules/accounts/types/account-type.descriptor';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import type { ChatUpstreamOptions, StreamConversion } from './converters/converter';
import type { RequestHeaderAllowlist } from './headers';
import type { ErrorKind } from './relay.exception';
import type { RelayOperation, WireFormat } from './wire-format';

/** A relay error as every dialect sees it, before it is rendered in the dialect's shape. */
export interface RelayErrorView {
  kind: ErrorKind;
  /** The generic status of the kind (or the status another feature's error carries). */
  status: number;
  /** Stable Switchyard code (KEY_DISABLED, UPSTREAM_TIMEOUT, …). */
  code: string;
  message: string;
  /** The request field the error is about, when one is. */
  param?: string;
  /** A finer reason than the code, for dialects that name one (OpenAI's `code`). */
  reason?: string;
  headers?: Record<string, string>;
}

/** An error in one dialect's shape, ready to write. */
export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** The fields routing needs, read from a request body kept as raw bytes. */
export interface ParsedRequest {
  model: string;
  stream: boolean;
  maxTokens: number;
  body: Record<string, unknown>;
  /**
   * The model is named by the request's path, not its body (Gemini's `models/{model}:method`):
   * a renamed model then leaves the client's bytes untouched, since the provider's endpoint
   * carries the upstream model.
   */
  modelInPath?: boolean;
  /**
   * How a stream is framed for the client: server-sent events, or Google's streamed JSON array
   * (what Gemini's `streamGenerateContent` answers without `alt=sse`). Absent: events.
   */
  streamFraming?: StreamFraming;
}

export type StreamFraming = 'sse' | 'json-array';

/** Where a stream broke, for dialects whose stream is not a series of events. */
export interface StreamBreak {
  framing?: StreamFraming;
  /** Some bytes of the response body reached the client. */
  started: boolean;
  /** The upstream's bytes ended cleanly (short of its final event) rather than broke off. */
  endedCleanly: boolean;
}

/**
 * How clients of one API family call Switchyard: where the key is, the body fields routing needs,
 * the error shape. A dialect names no provider: the account picked for a request decides that.
 */
export interface InboundDialect {
  readonly name: string;
  readonly format: WireFormat;
  /**
   * The platform that serves a model no model route names, or null when such a model is unknown
   * to this dialect (Anthropic clients ask for Claude models by any name).
   */
  readonly defaultPlatform: Platform | null;
  extractKey(req: Request): string | null;
  /** The fields routing needs, from the body and, for dialects that name the model there, the URL. */
  parse(raw: Buffer, req: Request): ParsedRequest;
  /**
   * The query string a passthrough request (the client's format is the provider's) carries
   * upstream, without `?`. Absent: the provider's query followed by the client's. A dialect whose
   * clients put their key or their stream format in the query (Gemini: `key`, `alt=sse`) says
   * what goes instead.
   */
  passthroughQuery?(clientQuery: string, providerQuery: string): string;
  renderError(error: RelayErrorView): RenderedError;
  /**
   * Bytes that tell a streaming client its stream broke. `at` says where the stream stands for
   * formats that are not event streams (Gemini's streamed JSON array): its framing, whether any
   * byte went out and whether the upstream's own bytes ended (the array may be closed already).
   */
  streamErrorEvent(kind: ErrorKind, message: string, at?: StreamBreak): Buffer;
}

/** Watches a provider's response stream on the side and reads its usage. */
export interface UsageTap {
  push(chunk: Buffer): void;
  end(): void;
  readonly usage: TokenUsage;
  /** The stream reached its proper end (Anthropic: message_stop). */
  readonly complete: boolean;
  /** The upstream itself sent an error event. */
  readonly sawError: boolean;
}

/** Where a provider sends one operation: a path and a query (without `?`, may be empty). */
export interface ProviderEndpoint {
  path: string;
  query: string;
}

export interface ProviderRequestInput {
  /** The provider format the body is in (one of the provider's formats). */
  format: WireFormat;
  endpoint: ProviderEndpoint;
  /** The client's headers; the provider forwards only those in its allowlist. */
  headers: IncomingHttpHeaders;
  body: Buffer | undefined;
  /**
   * The upstream model the request is for, for a provider whose headers depend on it (Droid's
   * `x-api-provider`); absent for requests that name none (account tests read their body).
   */
  model?: string;
}

/**
 * What a provider changes about a request that passes through in the client's own format: the
 * body it sends instead (the model is set afterwards), and a transform of its stream that takes
 * out what that change added, so the client reads what it asked for.
 */
export interface PassthroughAdjustment {
  body: Record<string, unknown>;
  /** A fresh transform for one attempt's event stream. */
  stream(): StreamConversion;
}

/**
 * Speaks one provider's wire format for the account types whose descriptor names it: endpoints,
 * request building (credentials may need a token fetch or a signature, hence async), failure
 * classification and usage reading. Chosen per attempt from the picked account's type.
 */
export interface ProviderAdapter {
  readonly id: ProviderId;
  /**
   * The wire formats the upstream speaks natively, preferred first: a client whose format is
   * among them passes through untouched; any other is converted to the first one a converter
   * reaches.
   */
  readonly formats: readonly WireFormat[];
  /** The client request headers this provider's upstream reads; no other header is forwarded. */
  readonly requestHeaders: RequestHeaderAllowlist;
  endpoint(
    account: RoutableAccount,
    format: WireFormat,
    operation: RelayOperation,
    model: string,
    stream: boolean,
  ): ProviderEndpoint;
  buildRequest(account: RoutableAccount, input: ProviderRequestInput): Promise<UpstreamRequest>;
  /**
   * The health outcome of an upstream error status that warrants failover, or null when the
   * response belongs to the client (a 400 about its own request) and is passed through.
   */
  classifyFailure(
    account: RoutableAccount,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    bodyText: string,
  ): UpstreamOutcome | null;
  /** A usage tap over a response stream in `format`. */
  createTap(format: WireFormat): UsageTap;
  /** The usage of a non-stream response body (or an error body) in `format`. */
  usageFromBody(format: WireFormat, body: Buffer): TokenUsage;
  /**
   * For an upstream that only streams: a whole event stream in `format` as the non-stream body of
   * that format, for a client that asked for one.
   */
  assembleStream?(format: WireFormat, body: Buffer): Buffer;
  /**
   * For a request in one of the provider's own formats: a change the provider needs (e.g. to
   * learn a stream's usage), or null to send the client's bytes as they are.
   */
  passthrough?(
    format: WireFormat,
    body: Record<string, unknown>,
    stream: boolean,
    account: RoutableAccount,
  ): PassthroughAdjustment | null;
  /**
   * For an upstream whose responses come in an envelope around the provider format (Bedrock's
   * AWS event stream and error bodies): the response as the format's own (its body transformed
   * as it streams, its headers saying what the body now is), before failures are classified
   * and the client is answered. Absent: the response is the format's own.
   */
  adaptResponse?(
    format: WireFormat,
    operation: RelayOperation,
    response: UpstreamResponse,
  ): UpstreamResponse;
  /**
   * For providers whose servers differ per account (openai-compatible quirks): what the
   * account's server accepts, handed to the converter. With it, a request is converted (or
   * adjusted) per account rather than once per provider and model.
   */
  upstreamOptions?(account: RoutableAccount): ChatUpstreamOptions;
  /**
   * The model name the request body carries for this account, when it is not the upstream model
   * itself (Azure names the deployment there).
   */
  bodyModel?(account: RoutableAccount, model: string): string;
}

import type { IncomingHttpHeaders } from 'node:http';
import type { Request, Response } from 'express';
import type { Platform } from 'src/common/platform';
import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type {
  AccountType,
  RoutableAccount,
  UpstreamOutcome,
} from 'src/modules/accounts/account.types';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import type { RequestHeaderAllowlist } from './headers';

/** A relay error as every dialect sees it, before it is rendered in the dialect's shape. */
export interface RelayErrorView {
  status: number;
  /** Stable Switchyard code (KEY_DISABLED, UPSTREAM_TIMEOUT, …). */
  code: string;
  message: string;
  headers?: Record<string, string>;
}

/** The fields routing needs, read from a request body kept as raw bytes. */
export interface ParsedRequest {
  model: string;
  stream: boolean;
  maxTokens: number;
  body: Record<string, unknown>;
}

/** How clients of one API family call Switchyard: key location, body fields, error shape. */
export interface InboundDialect {
  readonly name: string;
  readonly platform: Platform;
  extractKey(req: Request): string | null;
  parse(raw: Buffer): ParsedRequest;
  writeError(res: Response, error: RelayErrorView): void;
  /** Bytes that tell a streaming client its stream broke (an SSE error event). */
  streamErrorEvent(type: string, message: string): Buffer;
}

/** Watches a response stream on the side and reads its usage. */
export interface UsageTap {
  push(chunk: Buffer): void;
  end(): void;
  readonly usage: TokenUsage;
  /** The stream reached its proper end (Anthropic: message_stop). */
  readonly complete: boolean;
  /** The upstream itself sent an error event. */
  readonly sawError: boolean;
}

export interface ProviderRequestInput {
  /** Upstream path, e.g. /v1/messages. */
  path: string;
  method: 'GET' | 'POST';
  headers: IncomingHttpHeaders;
  body: Buffer | undefined;
}

/** Speaks one provider's wire format for the account types it serves. */
export interface ProviderAdapter {
  readonly accountTypes: readonly AccountType[];
  /** The client request headers this provider's upstream reads; no other header is forwarded. */
  readonly requestHeaders: RequestHeaderAllowlist;
  buildRequest(account: RoutableAccount, input: ProviderRequestInput): UpstreamRequest;
  /**
   * The health outcome of an upstream error status that warrants failover, or null when the
   * response belongs to the client (a 400 about its own request) and is passed through.
   */
  classifyFailure(
    status: number,
    headers: Record<string, string | string[] | undefined>,
    bodyText: string,
    model: string,
  ): UpstreamOutcome | null;
  createTap(): UsageTap;
  usageFromBody(body: Buffer): TokenUsage;
}

import { pipeline, Transform, type TransformCallback } from 'node:stream';
import type { UpstreamRequest, UpstreamResponse } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import type { BedrockCredentials } from 'src/modules/accounts/types/bedrock';
import {
  bedrockErrorType,
  bedrockHealthRules,
} from 'src/modules/accounts/types/bedrock.health-rules';
import { bedrockModelId } from 'src/modules/accounts/types/bedrock.model-ids';
import {
  forwardableRequestHeaders,
  headerValue,
  requestHeaderAllowlist,
  type RequestHeaderAllowlist,
} from 'src/modules/relay/headers';
import type {
  ProviderAdapter,
  ProviderEndpoint,
  ProviderRequestInput,
  UsageTap,
} from 'src/modules/relay/relay.types';
import type { RelayOperation, WireFormat } from 'src/modules/relay/wire-format';
import { emptyUsage, type TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { AnthropicUsageTap, usageFromAnthropicMessage } from '../anthropic/anthropic-usage.tap';
import {
  anthropicErrorTypeOf,
  awsErrorMessage,
  BedrockEventStreamDecoder,
} from './bedrock-event-stream';
import { signBedrockRequest } from './bedrock-signer';

/** What Bedrock's Claude models take in the body instead of the `anthropic-version` header. */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/**
 * Beta flags only Anthropic's own API serves (Claude Code sends them to a first-party base URL);
 * Bedrock refuses a body that names one, so they are left out of `anthropic_beta`.
 */
const FIRST_PARTY_BETA_PREFIXES = [
  'claude-code-',
  'oauth-',
  'files-api-',
  'mcp-client-',
  'code-execution-',
  'skills-',
  'prompt-caching-scope-',
];

/** The client headers a Bedrock request carries: the beta flags (moved into the body) and the client's name. */
const BEDROCK_REQUEST_HEADERS: RequestHeaderAllowlist = requestHeaderAllowlist([
  'anthropic-beta',
  'user-agent',
]);

/** Bedrock's operations on one model, by the path's last segment. */
const MODEL_PATH = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|count-tokens)$/;
/** A cross-region profile's prefix; CountTokens takes the foundation model's id. */
const PROFILE_PREFIX = /^(?:us|eu|apac|jp|au|us-gov|global)\./;
const MAX_ERROR_BYTES = 64 * 1024;

function bedrockCredentials(account: RoutableAccount): BedrockCredentials {
  const credentials = account.credentials;
  if (credentials.type !== 'bedrock') {
    throw new Error(`the bedrock provider cannot serve ${credentials.type} accounts`);
  }
  return credentials;
}

function modelIdFor(credentials: BedrockCredentials, model: string): string {
  return bedrockModelId(model, {
    region: credentials.region,
    modelIds: credentials.modelIds,
    inferenceProfile: credentials.inferenceProfile,
  });
}

/** The flags of `anthropic-beta` headers and of a body's own `anthropic_beta`, Bedrock's only. */
function betaFlags(header: string | undefined, body: unknown): string[] {
  const flags = new Set<string>();
  if (Array.isArray(body)) for (const flag of body) if (typeof flag === 'string') flags.add(flag);
  for (const flag of (header ?? '').split(',')) {
    const trimmed = flag.trim();
    if (trimmed !== '') flags.add(trimmed);
  }
  return [...flags].filter((flag) => !FIRST_PARTY_BETA_PREFIXES.some((p) => flag.startsWith(p)));
}

/**
 * The Messages request as Bedrock's Claude models take it: no `model` (the path names it), no
 * `stream` (the operation decides), `anthropic_version` in the body, the beta flags in
 * `anthropic_beta`. CountTokens wraps that body, base64, in `{input: {invokeModel: {body}}}`.
 */
export function bedrockRequestBody(
  raw: Buffer | undefined,
  betaHeader: string | undefined,
  countTokens: boolean,
): Buffer {
  let parsed: unknown = {};
  if (raw !== undefined && raw.length > 0) parsed = JSON.parse(raw.toString('utf8'));
  const source =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  const { model: _model, stream: _stream, anthropic_beta: bodyBeta, ...rest } = source;
  const body: Record<string, unknown> = { anthropic_version: BEDROCK_ANTHROPIC_VERSION, ...rest };
  body.anthropic_version = BEDROCK_ANTHROPIC_VERSION;
  const flags = betaFlags(betaHeader, bodyBeta);
  if (flags.length > 0) body.anthropic_beta = flags;
  if (!countTokens) return Buffer.from(JSON.stringify(body));
  // InvokeModel requires max_tokens; count_tokens requests have none.
  body.max_tokens ??= 1;
  const inner = Buffer.from(JSON.stringify(body)).toString('base64');
  return Buffer.from(JSON.stringify({ input: { invokeModel: { body: inner } } }));
}

/** The Anthropic SSE usage tap, with Bedrock's invocation metrics when the events carry no usage. */
class BedrockUsageTap implements UsageTap {
  private readonly tap = new AnthropicUsageTap();
  private metrics: { input: number; output: number } | null = null;

  push(chunk: Buffer): void {
    this.tap.push(chunk);
    // Chunks are whole events here (the decoder writes whole frames), so a match is not split.
    if (chunk.includes('amazon-bedrock-invocationMetrics')) {
      const text = chunk.toString('utf8');
      const input = /"inputTokenCount":(\d+)/.exec(text);
      const output = /"outputTokenCount":(\d+)/.exec(text);
      if (input !== null && output !== null) {
        this.metrics = { input: Number(input[1]), output: Number(output[1]) };
      }
    }
  }
  end(): void {
    this.tap.end();
  }
  get usage(): TokenUsage {
    const usage = this.tap.billableUsage;
    if (this.metrics !== null && usage.inputTokens === 0 && usage.outputTokens === 0) {
      return { ...usage, inputTokens: this.metrics.input, outputTokens: this.metrics.output };
    }
    return usage;
  }
  get complete(): boolean {
    return this.tap.sawMessageStop;
  }
  get sawError(): boolean {
    return this.tap.sawError;
  }
}

/** A transform that reads a whole (bounded) body and writes what `convert` makes of it. */
class WholeBodyTransform extends Transform {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly convert: (body: Buffer) => Buffer) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.size < MAX_ERROR_BYTES) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    callback();
  }
  override _flush(callback: TransformCallback): void {
    try {
      callback(null, this.convert(Buffer.concat(this.chunks)));
    } catch (error) {
      callback(error as Error);
    }
  }
}

class EventStreamTransform extends Transform {
  private readonly decoder = new BedrockEventStreamDecoder();
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let out: Buffer;
    try {
      out = this.decoder.push(chunk);
    } catch (error) {
      callback(error as Error);
      return;
    }
    if (out.length > 0) this.push(out);
    callback();
  }
}

/** An upstream error body in Anthropic's shape: its type from the AWS error name, its message kept. */
export function anthropicErrorBody(
  status: number,
  awsType: string | undefined,
  body: Buffer,
): Buffer {
  const message =
    awsErrorMessage(body.toString('utf8')) ??
    `Amazon Bedrock answered ${status}${awsType === undefined ? '' : ` (${awsType})`}`;
  return Buffer.from(
    JSON.stringify({
      type: 'error',
      error: { type: anthropicErrorTypeOf(awsType, status), message },
    }),
  );
}

function countTokensBody(body: Buffer): Buffer {
  const parsed = JSON.parse(body.toString('utf8')) as { inputTokens?: unknown };
  if (typeof parsed.inputTokens !== 'number')
    throw new Error('CountTokens answered no inputTokens');
  return Buffer.from(JSON.stringify({ input_tokens: parsed.inputTokens }));
}

/**
 * Claude on Amazon Bedrock (`bedrock` accounts). Speaks the Anthropic Messages format, so
 * Anthropic clients pass through with no converter (and other dialects reach it through the
 * converters to Anthropic Messages); what differs is Bedrock's envelope, handled here: the model
 * in the path (mapped to a Bedrock id or inference profile), the body's `anthropic_version` and
 * `anthropic_beta`, SigV4 or a bearer API key, and on the way back the AWS event stream decoded
 * into Anthropic SSE and AWS error bodies put in Anthropic's error shape (`adaptResponse`).
 */
export class BedrockProvider implements ProviderAdapter {
  readonly id = 'bedrock' as const;
  readonly formats = ['anthropic-messages'] as const;
  readonly requestHeaders = BEDROCK_REQUEST_HEADERS;

  endpoint(
    account: RoutableAccount,
    _format: WireFormat,
    operation: RelayOperation,
    model: string,
    stream: boolean,
  ): ProviderEndpoint {
    const credentials = bedrockCredentials(account);
    const id = modelIdFor(credentials, model);
    if (operation === 'count_tokens') {
      return {
        path: `/model/${encodeURIComponent(id.replace(PROFILE_PREFIX, ''))}/count-tokens`,
        query: '',
      };
    }
    const action = stream ? 'invoke-with-response-stream' : 'invoke';
    return { path: `/model/${encodeURIComponent(id)}/${action}`, query: '' };
  }

  async buildRequest(
    account: RoutableAccount,
    input: ProviderRequestInput,
  ): Promise<UpstreamRequest> {
    const credentials = bedrockCredentials(account);
    const match = MODEL_PATH.exec(input.endpoint.path);
    if (match === null) throw new Error(`not a Bedrock model path: ${input.endpoint.path}`);
    const action = match[2];
    // Idempotent: a path endpoint() built keeps its id; a model name (the account test) is mapped.
    let id = modelIdFor(credentials, decodeURIComponent(match[1]));
    if (action === 'count-tokens') id = id.replace(PROFILE_PREFIX, '');
    const path = `/model/${encodeURIComponent(id)}/${action}`;
    const client = forwardableRequestHeaders(input.headers, this.requestHeaders);
    const body = bedrockRequestBody(
      input.body,
      client['anthropic-beta'],
      action === 'count-tokens',
    );
    const base = account.baseUrl.replace('{region}', credentials.region);
    // The client's query (Claude Code's `?beta=true`) means nothing to Bedrock: not sent.
    const url = new URL(`${base}${path}`);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept:
        action === 'invoke-with-response-stream'
          ? 'application/vnd.amazon.eventstream'
          : 'application/json',
    };
    let sent: Record<string, string>;
    if (credentials.apiKey !== undefined) {
      sent = { ...headers, authorization: `Bearer ${credentials.apiKey}` };
    } else {
      sent = await signBedrockRequest({
        url,
        method: 'POST',
        headers,
        body,
        region: credentials.region,
        credentials: {
          accessKeyId: credentials.accessKeyId ?? '',
          secretAccessKey: credentials.secretAccessKey ?? '',
          sessionToken: credentials.sessionToken,
        },
      });
    }
    // Not signed (AWS never signs user-agent), only named.
    if (client['user-agent'] !== undefined) sent['user-agent'] = client['user-agent'];
    return { url: url.toString(), method: 'POST', headers: sent, body, proxyUrl: account.proxyUrl };
  }

  /**
   * By status and Bedrock's error name: throttling and quotas rate-limit the model's family
   * briefly; a model not ready, a model timeout and 5xx cool the account; 401 / 403 (unknown
   * key, bad signature, expired token, access denied) are auth failures; other 4xx
   * (ValidationException, …) belong to the client.
   */
  classifyFailure(
    _account: RoutableAccount,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    _bodyText: string,
  ): UpstreamOutcome | null {
    const type = bedrockErrorType(headers);
    if (type === 'ModelNotReadyException' || type === 'ModelTimeoutException') {
      return { kind: 'server_error', status };
    }
    if (status === 429) {
      return {
        kind: 'rate_limited',
        resetAt: bedrockHealthRules.rateLimitReset(headers, Date.now()),
        scope: bedrockHealthRules.rateLimitScope(headers),
      };
    }
    if (status >= 500) return { kind: 'server_error', status };
    if (bedrockHealthRules.isAuthFailed(status, '')) return { kind: 'auth_failed', status };
    return null;
  }

  /**
   * Bedrock's envelope taken off the response: the event stream as Anthropic SSE, an error body
   * in Anthropic's shape, CountTokens' `inputTokens` as `input_tokens`. A non-stream Messages
   * body is Anthropic's own and passes untouched.
   */
  adaptResponse(
    _format: WireFormat,
    operation: RelayOperation,
    response: UpstreamResponse,
  ): UpstreamResponse {
    const contentType = headerValue(response.headers, 'content-type') ?? '';
    let transform: Transform;
    let type: string;
    if (response.statusCode >= 400) {
      const awsType = bedrockErrorType(response.headers);
      const status = response.statusCode;
      transform = new WholeBodyTransform((body) => anthropicErrorBody(status, awsType, body));
      type = 'application/json';
    } else if (contentType.includes('application/vnd.amazon.eventstream')) {
      transform = new EventStreamTransform();
      type = 'text/event-stream; charset=utf-8';
    } else if (operation === 'count_tokens') {
      transform = new WholeBodyTransform(countTokensBody);
      type = 'application/json';
    } else {
      return response;
    }
    const headers: UpstreamResponse['headers'] = { ...response.headers, 'content-type': type };
    delete headers['content-length'];
    delete headers['x-amzn-errortype'];
    // Destroying the returned stream destroys the upstream body too (and so aborts it).
    const body = pipeline(response.body, transform, () => undefined);
    return { ...response, headers, body: body as unknown as UpstreamResponse['body'] };
  }

  createTap(): UsageTap {
    return new BedrockUsageTap();
  }

  usageFromBody(_format: WireFormat, body: Buffer): TokenUsage {
    try {
      return usageFromAnthropicMessage(JSON.parse(body.toString('utf8')));
    } catch {
      return emptyUsage();
    }
  }
}

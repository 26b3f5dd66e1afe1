import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { SignatureV4 } from '@smithy/signature-v4';
import type { MessageHeaders } from '@smithy/types';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/**
 * Amazon Bedrock's runtime as the fake plays it: `POST /model/{modelId}/invoke`,
 * `/invoke-with-response-stream` (AWS event-stream framing built with the AWS SDK's codec) and
 * `/count-tokens`; requests authenticated with SigV4 (re-signed here with the AWS SDK's signer
 * and the secret the test registered, then compared) or a Bedrock API key as a bearer token.
 * Errors as Bedrock sends them: `x-amzn-errortype` names the exception, the body is
 * `{"message": "…"}`.
 */

export type BedrockAction = 'invoke' | 'invoke-with-response-stream' | 'count-tokens';

export interface BedrockRoute {
  modelId: string;
  action: BedrockAction;
}

const ROUTE = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|count-tokens)$/;

export function bedrockRouteOf(method: string, path: string): BedrockRoute | undefined {
  if (method !== 'POST') return undefined;
  const match = ROUTE.exec(path);
  if (match === null) return undefined;
  return { modelId: decodeURIComponent(match[1]), action: match[2] as BedrockAction };
}

/** `us.anthropic.claude-sonnet-4-5-20250929-v1:0` → `claude-sonnet-4-5-20250929` (the reply's model). */
export function bedrockModelName(modelId: string): string {
  return modelId
    .replace(/^arn:.*\//, '')
    .replace(/^(?:[a-z-]+\.)?anthropic\./, '')
    .replace(/-v\d+(?::\d+)?$/, '');
}

export const BEDROCK_EVENT_STREAM = 'application/vnd.amazon.eventstream';
export const BEDROCK_INVALID_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
export const BEDROCK_UNRECOGNIZED_CLIENT = 'The security token included in the request is invalid.';

/** An error as Bedrock answers it. */
export interface BedrockError {
  status: number;
  type: string;
  message: string;
}

const EXCEPTION_BY_STATUS: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

const MESSAGE_BY_TYPE: Record<string, string> = {
  ValidationException: 'Malformed input request, please reformat your input and try again.',
  AccessDeniedException: "You don't have access to the model with the specified model ID.",
  ResourceNotFoundException: 'Model not found.',
  ThrottlingException: 'Too many requests, please wait before trying again.',
  ServiceQuotaExceededException: 'Too many tokens per day, please wait before trying again.',
  ModelNotReadyException: 'Model is not ready to serve inference requests.',
  ServiceUnavailableException: 'Service unavailable. Try your request again.',
  InternalServerException: 'The server encountered an internal error.',
};

/** The error a scripted status stands for (errorType names the exception when given). */
export function bedrockErrorFor(status: number, type?: string, message?: string): BedrockError {
  const name = type ?? EXCEPTION_BY_STATUS[status] ?? 'InternalServerException';
  return { status, type: name, message: message ?? MESSAGE_BY_TYPE[name] ?? 'Request failed.' };
}

export function bedrockErrorHeaders(error: BedrockError): Record<string, string> {
  return {
    'x-amzn-errortype': `${error.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  };
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function frame(headers: MessageHeaders, payload: string): Buffer {
  return Buffer.from(codec.encode({ headers, body: fromUtf8(payload) }));
}

/** One Anthropic stream event (an SSE event as the fake renders it) as a Bedrock `chunk` frame. */
export function bedrockChunkFrame(sseEvent: string): Buffer {
  const dataLine = sseEvent.split('\n').find((line) => line.startsWith('data: '));
  const json = dataLine === undefined ? '{}' : dataLine.slice('data: '.length);
  const bytes = Buffer.from(json, 'utf8').toString('base64');
  return frame(
    {
      ':event-type': { type: 'string', value: 'chunk' },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    // Bedrock pads events with a random-length `p` field; a fixed one keeps the fake deterministic.
    JSON.stringify({ bytes, p: 'abcdefghij' }),
  );
}

/** A mid-stream exception frame (`throttlingException`, `modelStreamErrorException`, …). */
export function bedrockExceptionFrame(type: string, message: string): Buffer {
  const name = /Exception$/.test(type) ? type : 'modelStreamErrorException';
  return frame(
    {
      ':exception-type': { type: 'string', value: name },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    JSON.stringify({ message }),
  );
}

interface AccessKey {
  secretAccessKey: string;
  sessionToken?: string;
}

export type BedrockAuthResult =
  { ok: true; credential: string } | { ok: false; error: BedrockError; credential?: string };

const AUTH_HEADER =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

/** `20250101T120000Z` → a Date. */
function amzDate(value: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m === null) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Who may call the fake Bedrock: access key pairs (with their session token, if any) and API
 * keys the test registered. Every request is checked as Bedrock checks it.
 */
export class FakeBedrockAuth {
  private readonly accessKeys = new Map<string, AccessKey>();
  private readonly apiKeys = new Set<string>();
  /** The signatures checked and found valid (tests assert SigV4 was really verified). */
  verifiedSignatures = 0;

  allowAccessKey(accessKeyId: string, secretAccessKey: string, sessionToken?: string): this {
    this.accessKeys.set(accessKeyId, { secretAccessKey, sessionToken });
    return this;
  }

  allowApiKey(apiKey: string): this {
    this.apiKeys.add(apiKey);
    return this;
  }

  reset(): void {
    this.accessKeys.clear();
    this.apiKeys.clear();
    this.verifiedSignatures = 0;
  }

  async check(
    method: string,
    rawUrl: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<BedrockAuthResult> {
    const authorization = single(headers.authorization) ?? '';
    const denied = (type: string, message: string, credential?: string): BedrockAuthResult => ({
      ok: false,
      error: { status: 403, type, message },
      credential,
    });
    if (/^bearer /i.test(authorization)) {
      const key = authorization.slice(7).trim();
      return this.apiKeys.has(key)
        ? { ok: true, credential: key }
        : denied('UnrecognizedClientException', BEDROCK_UNRECOGNIZED_CLIENT, key);
    }
    const parsed = AUTH_HEADER.exec(authorization);
    if (parsed === null) {
      return denied('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const [, accessKeyId, day, region, service, signedList, signature] = parsed;
    const key = this.accessKeys.get(accessKeyId);
    if (key === undefined) {
      return denied('UnrecognizedClientException', BEDROCK_UNRECOGNIZED_CLIENT, accessKeyId);
    }
    if (key.sessionToken !== undefined && headers['x-amz-security-token'] !== key.sessionToken) {
      return denied('UnrecognizedClientException', BEDROCK_UNRECOGNIZED_CLIENT, accessKeyId);
    }
    const date = amzDate(single(headers['x-amz-date']) ?? '');
    if (
      date === null ||
      service !== 'bedrock' ||
      !date.toISOString().replace(/-/g, '').startsWith(day)
    ) {
      return denied(
        'IncompleteSignatureException',
        'Invalid credential scope or date.',
        accessKeyId,
      );
    }
    const bodyHash = createHash('sha256').update(body).digest('hex');
    const claimedHash = single(headers['x-amz-content-sha256']);
    if (claimedHash !== undefined && claimedHash !== bodyHash) {
      return denied('InvalidSignatureException', BEDROCK_INVALID_SIGNATURE, accessKeyId);
    }
    const signed = signedList.split(';');
    if (!signed.includes('host')) {
      return denied('InvalidSignatureException', BEDROCK_INVALID_SIGNATURE, accessKeyId);
    }
    const signedHeaders: Record<string, string> = {};
    for (const name of signed) signedHeaders[name] = single(headers[name]) ?? '';
    const queryAt = rawUrl.indexOf('?');
    const query: Record<string, string> = {};
    if (queryAt !== -1) {
      new URLSearchParams(rawUrl.slice(queryAt + 1)).forEach((value, name) => {
        query[name] = value;
      });
    }
    const signer = new SignatureV4({
      service: 'bedrock',
      region,
      credentials: {
        accessKeyId,
        secretAccessKey: key.secretAccessKey,
        sessionToken: key.sessionToken,
      },
      sha256: Sha256,
    });
    const resigned = await signer.sign(
      {
        method,
        protocol: 'http:',
        hostname: (signedHeaders.host ?? '').replace(/:\d+$/, ''),
        path: queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt),
        query,
        headers: signedHeaders,
        body,
      },
      { signingDate: date, signableHeaders: new Set(signed) },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(resigned.headers.authorization ?? '')?.[1];
    if (expected !== signature) {
      return denied('InvalidSignatureException', BEDROCK_INVALID_SIGNATURE, accessKeyId);
    }
    this.verifiedSignatures++;
    return { ok: true, credential: accessKeyId };
  }
}

/** What Bedrock refuses in a Claude body before anything else, or undefined. */
export function bedrockBodyProblem(json: unknown, action: BedrockAction): string | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return 'Malformed input request: expected a JSON object, please reformat your input and try again.';
  }
  let body = json as Record<string, unknown>;
  if (action === 'count-tokens') {
    const inner = (body.input as { invokeModel?: { body?: unknown } } | undefined)?.invokeModel
      ?.body;
    if (typeof inner !== 'string') return 'input.invokeModel.body is required.';
    try {
      body = JSON.parse(Buffer.from(inner, 'base64').toString('utf8')) as Record<string, unknown>;
    } catch {
      return 'input.invokeModel.body is not valid JSON.';
    }
  }
  for (const field of ['model', 'stream']) {
    if (field in body)
      return `Malformed input request: #: extraneous key [${field}] is not permitted, please reformat your input and try again.`;
  }
  if (body.anthropic_version !== 'bedrock-2023-05-31') {
    return 'Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.';
  }
  if (body.anthropic_beta !== undefined && !Array.isArray(body.anthropic_beta)) {
    return 'Malformed input request: #/anthropic_beta: expected type: JSONArray.';
  }
  return undefined;
}

/** The decoded InvokeModel body of a CountTokens request (its size drives the fake's count). */
export function countTokensInner(json: unknown): Buffer {
  const inner = (json as { input?: { invokeModel?: { body?: string } } }).input?.invokeModel?.body;
  return Buffer.from(inner ?? '', 'base64');
}

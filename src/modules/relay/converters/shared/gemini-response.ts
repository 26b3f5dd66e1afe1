import { redactCredentials } from 'src/modules/relay/dialects/openai/openai-error';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';

/**
 * Reading Gemini `GenerateContentResponse`s (a whole one, or the partial ones of a stream) for
 * other APIs' clients, shared by the Chat Completions and Anthropic Messages converters: the
 * first candidate's parts, the finish reason, token usage and error bodies.
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A non-streamed GenerateContentResponse, or UPSTREAM_BAD_RESPONSE when the body is not one. */
export function parseGeminiResponse(providerBody: Buffer): Json {
  const json = parse(providerBody.toString('utf8'));
  if (!isObject(json) || (!Array.isArray(json.candidates) && !isObject(json.promptFeedback))) {
    throw new RelayException(
      RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
      'the upstream answered with a body that is not a GenerateContentResponse',
    );
  }
  return json;
}

/** The first candidate (Switchyard asks for one), or null when there is none. */
export function firstCandidate(response: Json): Json | null {
  const candidates = response.candidates;
  if (!Array.isArray(candidates)) return null;
  const candidate: unknown = candidates.find(
    (c: unknown) => isObject(c) && (c.index === undefined || c.index === 0),
  );
  return isObject(candidate) ? candidate : null;
}

/** The parts of a candidate's content, objects only. */
export function candidateParts(candidate: Json | null): Json[] {
  const content = candidate?.content;
  if (!isObject(content) || !Array.isArray(content.parts)) return [];
  return content.parts.filter(isObject);
}

/**
 * Why the answer ended: the candidate's `finishReason`, or the prompt's `blockReason` (a prompt
 * Gemini refused has no candidate) prefixed `BLOCKED:`; undefined while it goes on.
 */
export function endReason(response: Json, candidate: Json | null): string | undefined {
  if (typeof candidate?.finishReason === 'string') return candidate.finishReason;
  const feedback = response.promptFeedback;
  if (isObject(feedback) && typeof feedback.blockReason === 'string') {
    return `BLOCKED:${feedback.blockReason}`;
  }
  return undefined;
}

/** How an answer ended, in the terms the other APIs share. */
export type EndKind = 'stop' | 'length' | 'filtered' | 'other';

/**
 * A finish reason (or `BLOCKED:` prompt feedback) → its kind: STOP is a finished answer,
 * MAX_TOKENS a cut one; safety, recitation, block lists, prohibited content, personal data,
 * language and blocked prompts are filters; the rest (MALFORMED_FUNCTION_CALL, OTHER, …) other.
 */
export function endKind(reason: string | undefined): EndKind {
  if (reason === undefined || reason === 'STOP' || reason === 'FINISH_REASON_UNSPECIFIED') {
    return 'stop';
  }
  if (reason === 'MAX_TOKENS') return 'length';
  if (
    reason.startsWith('BLOCKED:') ||
    /SAFETY|RECITATION|BLOCKLIST|PROHIBITED|SPII|LANGUAGE/.test(reason)
  ) {
    return 'filtered';
  }
  return 'other';
}

/**
 * Token counts as Gemini reports them. `prompt` includes `cached` (the cached-content tokens);
 * `candidates` excludes `thoughts`, which Gemini counts apart.
 */
export interface GeminiUsage {
  prompt: number;
  cached: number;
  candidates: number;
  thoughts: number;
  total: number | undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

export function emptyGeminiUsage(): GeminiUsage {
  return { prompt: 0, cached: 0, candidates: 0, thoughts: 0, total: undefined };
}

/**
 * Applies a `usageMetadata`: the counts present overwrite (stream chunks repeat cumulative
 * counts), those absent stay.
 */
export function applyGeminiUsage(usage: GeminiUsage, metadata: unknown): void {
  if (!isObject(metadata)) return;
  usage.prompt = count(metadata.promptTokenCount) ?? usage.prompt;
  usage.cached = count(metadata.cachedContentTokenCount) ?? usage.cached;
  usage.candidates = count(metadata.candidatesTokenCount) ?? usage.candidates;
  usage.thoughts = count(metadata.thoughtsTokenCount) ?? usage.thoughts;
  usage.total = count(metadata.totalTokenCount) ?? usage.total;
}

/** What the model wrote, thoughts included (as OpenAI's and Anthropic's output counts are). */
export function outputTokens(usage: GeminiUsage): number {
  return usage.candidates + usage.thoughts;
}

/** Plain-text upstream bodies up to this length are shown; longer ones are likely pages. */
const MAX_TEXT_ERROR_CHARS = 300;

/**
 * A Gemini error body (`{"error":{"code","message","status"}}`) → its message and status name
 * (`INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`, …). Short plain text is kept as the message; anything
 * else (HTML, huge bodies) becomes a generic one. Credentials are redacted in every case.
 */
export function geminiError(
  status: number,
  providerBody: Buffer | string,
): {
  message: string;
  status: string | undefined;
} {
  const text = typeof providerBody === 'string' ? providerBody : providerBody.toString('utf8');
  const json = parse(text);
  // Some Gemini front ends wrap the error in a one-element array.
  const body: unknown = Array.isArray(json) && json.length === 1 ? json[0] : json;
  let message: string | undefined;
  let name: string | undefined;
  if (isObject(body) && isObject(body.error)) {
    if (typeof body.error.message === 'string') message = body.error.message;
    if (typeof body.error.status === 'string') name = body.error.status;
  } else if (json === undefined) {
    const trimmed = text.trim();
    if (trimmed.length > 0 && trimmed.length <= MAX_TEXT_ERROR_CHARS && !trimmed.startsWith('<')) {
      message = trimmed;
    }
  }
  return {
    message: redactCredentials(message ?? `upstream error (HTTP ${status})`),
    status: name,
  };
}

/** The HTTP status Gemini sends a status name with, for errors that arrive inside a stream. */
export function statusOfGeminiStatus(name: string | undefined, code: unknown): number {
  if (typeof code === 'number' && Number.isInteger(code) && code >= 400 && code < 600) return code;
  switch (name) {
    case 'INVALID_ARGUMENT':
    case 'FAILED_PRECONDITION':
    case 'OUT_OF_RANGE':
      return 400;
    case 'UNAUTHENTICATED':
      return 401;
    case 'PERMISSION_DENIED':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'RESOURCE_EXHAUSTED':
      return 429;
    case 'UNAVAILABLE':
      return 503;
    case 'DEADLINE_EXCEEDED':
      return 504;
    case undefined:
    default:
      return 500;
  }
}

/**
 * A generic OpenAI-compatible server for the fake upstream, under `/compat/{profile}/v1/…`
 * (the account's base URL is `${fake.url}/compat/{profile}/v1`): Chat Completions as the
 * OpenAI routes render it, plus what such servers do differently, per profile
 * (`FakeUpstream.compatProfile`): reasoning text in `reasoning_content` (DeepSeek, the default)
 * or `reasoning` (OpenRouter), usage on the last chunk whether asked or not, an optional bearer
 * key, and 400s for `tools`, `stream_options`, images or an output cap it cannot take.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  chatCompletionChunks,
  chatCompletionPayload,
  sseData,
  type OpenAIRenderInput,
  type OpenAIRoute,
} from './fake-openai';

export interface FakeCompatProfile {
  /** The bearer key required; undefined: any or none (a local server). */
  key?: string;
  /** Where reasoning text goes; default `reasoning_content`. */
  reasoningField?: 'reasoning_content' | 'reasoning';
  /** Stream: put the usage on the finish chunk even without `include_usage` (DeepSeek does). */
  usageOnFinishChunk?: boolean;
  /** Answer 400 to requests with these. */
  refuseTools?: boolean;
  refuseStreamOptions?: boolean;
  refuseImages?: boolean;
  /** Answer 400 when `max_tokens` (or `max_completion_tokens`) is above this. */
  maxTokens?: number;
}

const COMPAT_PATH = /^\/compat\/([A-Za-z0-9_-]+)\/v1\/(chat\/completions|models)$/;

/** The compat route of a request, or undefined. */
export function compatRouteOf(method: string, path: string): OpenAIRoute | undefined {
  const match = COMPAT_PATH.exec(path);
  if (match === null) return undefined;
  if (match[2] === 'models' ? method !== 'GET' : method !== 'POST') return undefined;
  return {
    endpoint: match[2] === 'models' ? 'models' : 'chat_completions',
    surface: 'openai',
    compat: match[1],
  };
}

type Json = Record<string, unknown>;

function error(
  status: number,
  message: string,
  param: string | null = null,
): { status: number; body: unknown } {
  return {
    status,
    body: { error: { message, type: 'invalid_request_error', param, code: null } },
  };
}

/** What a limited server refuses before answering, or undefined. */
export function refuseCompatRequest(
  profile: FakeCompatProfile,
  headers: IncomingHttpHeaders,
  json: unknown,
): { status: number; body: unknown } | undefined {
  if (profile.key !== undefined && headers.authorization !== `Bearer ${profile.key}`) {
    return {
      status: 401,
      body: {
        error: {
          message: 'Authentication Fails (invalid key)',
          type: 'authentication_error',
          param: null,
          code: 'invalid_request_error',
        },
      },
    };
  }
  if (typeof json !== 'object' || json === null) return error(400, 'invalid JSON');
  const request = json as Json;
  if (profile.refuseTools === true && request.tools !== undefined) {
    return error(400, 'this server does not support tools', 'tools');
  }
  if (profile.refuseStreamOptions === true && request.stream_options !== undefined) {
    return error(400, 'unknown field `stream_options`', 'stream_options');
  }
  if (
    profile.refuseImages === true &&
    JSON.stringify(request.messages ?? []).includes('"image_url"')
  ) {
    return error(400, 'unknown variant `image_url`, expected `text`', 'messages');
  }
  const cap = request.max_tokens ?? request.max_completion_tokens;
  if (profile.maxTokens !== undefined && typeof cap === 'number' && cap > profile.maxTokens) {
    return error(
      400,
      `Invalid max_tokens value, the valid range of max_tokens is [1, ${profile.maxTokens}]`,
      'max_tokens',
    );
  }
  return undefined;
}

function reasoningOf(input: OpenAIRenderInput): string[] {
  return input.blocks.flatMap((block) => (block.kind === 'reasoning' ? block.parts : []));
}

/** A non-stream chat.completion with the reasoning text in the profile's field. */
export function compatPayload(input: OpenAIRenderInput, profile: FakeCompatProfile): Json {
  const payload = chatCompletionPayload(input);
  const reasoning = reasoningOf(input);
  if (reasoning.length > 0) {
    const choice = (payload.choices as Json[])[0];
    (choice.message as Json)[profile.reasoningField ?? 'reasoning_content'] = reasoning.join('');
  }
  return payload;
}

/** The chunk stream with reasoning deltas after the role chunk, and the profile's usage. */
export function compatChunks(input: OpenAIRenderInput, profile: FakeCompatProfile): string[] {
  const lines = chatCompletionChunks(input);
  const first = JSON.parse(lines[0].slice('data: '.length)) as Json;
  const reasoningLines = reasoningOf(input).map((part) =>
    sseData({
      ...first,
      choices: [
        {
          index: 0,
          delta: { [profile.reasoningField ?? 'reasoning_content']: part },
          logprobs: null,
          finish_reason: null,
        },
      ],
    }),
  );
  const out = [lines[0], ...reasoningLines, ...lines.slice(1)];
  const streamOptions = input.request.stream_options as { include_usage?: unknown } | undefined;
  if (profile.usageOnFinishChunk === true && streamOptions?.include_usage !== true) {
    // The finish chunk is the one before [DONE].
    const at = out.length - 2;
    const finish = JSON.parse(out[at].slice('data: '.length)) as Json;
    const full = JSON.parse(JSON.stringify(chatCompletionPayload(input))) as Json;
    out[at] = sseData({ ...finish, usage: full.usage });
  }
  return out;
}

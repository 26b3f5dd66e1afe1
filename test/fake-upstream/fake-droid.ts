/**
 * Factory's LLM API (the upstream of `droid` accounts) for the fake upstream, under `/api/llm`
 * (the account's base URL is `${fake.url}/api/llm`): Anthropic Messages at `/a/v1/messages`,
 * OpenAI Responses at `/o/v1/responses` and Chat Completions at `/o/v1/chat/completions`, each
 * answered by the fake's own route of that format (same scripted replies, same scenarios) once
 * the request carries what Factory requires: a known `Authorization: Bearer` key, the Droid
 * CLI's identity (`x-factory-client: cli`, a `factory-cli/…` User-Agent), an `x-session-id`, the
 * `x-api-provider` that fits the endpoint, and on the Anthropic endpoint `anthropic-version` and
 * the placeholder `x-api-key`. Faults are scripted per key with `forCredential` (429, 401, 402).
 */
import type { IncomingHttpHeaders } from 'node:http';

export type DroidEndpoint = 'messages' | 'responses' | 'chat_completions';

export interface DroidRoute {
  endpoint: DroidEndpoint;
  /** The path of the fake's own route that renders this endpoint's answers. */
  innerPath: string;
}

const DROID_PATHS: Readonly<Record<string, DroidRoute>> = {
  '/api/llm/a/v1/messages': { endpoint: 'messages', innerPath: '/v1/messages' },
  '/api/llm/o/v1/responses': { endpoint: 'responses', innerPath: '/v1/responses' },
  '/api/llm/o/v1/chat/completions': {
    endpoint: 'chat_completions',
    innerPath: '/v1/chat/completions',
  },
};

/** The Droid route of a request, or undefined. */
export function droidRouteOf(method: string, path: string): DroidRoute | undefined {
  return method === 'POST' ? DROID_PATHS[path] : undefined;
}

const PROVIDERS: Readonly<Record<DroidEndpoint, readonly string[]>> = {
  messages: ['anthropic'],
  responses: ['azure_openai', 'openai'],
  chat_completions: ['anthropic', 'azure_openai', 'openai', 'google', 'fireworks', 'baseten'],
};

function errorBody(
  endpoint: DroidEndpoint,
  status: number,
  type: string,
  message: string,
): unknown {
  return endpoint === 'messages'
    ? { type: 'error', error: { type, message } }
    : { error: { message, type, param: null, code: status === 401 ? 'invalid_api_key' : null } };
}

function bearerOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (typeof value !== 'string' || !value.startsWith('Bearer ')) return undefined;
  const token = value.slice('Bearer '.length).trim();
  return token === '' ? undefined : token;
}

/** Which keys Factory accepts, and what it checks before answering. */
export class FakeDroidAuth {
  private readonly keys = new Set<string>();

  /** Accept this key (`fk-…`); unknown keys get 401. */
  allow(...keys: string[]): this {
    for (const key of keys) this.keys.add(key);
    return this;
  }

  reset(): void {
    this.keys.clear();
  }

  /** The bearer key a request carries (the record's credential on Droid routes). */
  credentialOf(headers: IncomingHttpHeaders): string | undefined {
    return bearerOf(headers);
  }

  /** Factory's refusal of a request before any scenario applies, or undefined. */
  refuse(
    route: DroidRoute,
    headers: IncomingHttpHeaders,
  ): { status: number; body: unknown } | undefined {
    const { endpoint } = route;
    const key = bearerOf(headers);
    if (key === undefined || !this.keys.has(key)) {
      return {
        status: 401,
        body: errorBody(endpoint, 401, 'authentication_error', 'Invalid or missing API key'),
      };
    }
    const missing = (name: string, expected: string): { status: number; body: unknown } => ({
      status: 400,
      body: errorBody(endpoint, 400, 'invalid_request_error', `${name} must be ${expected}`),
    });
    if (headers['x-factory-client'] !== 'cli') return missing('x-factory-client', 'cli');
    if (!/^factory-cli\/\d/.test(headers['user-agent'] ?? ''))
      return missing('user-agent', 'factory-cli/<version>');
    const session = headers['x-session-id'];
    if (typeof session !== 'string' || session === '') return missing('x-session-id', 'set');
    const provider = headers['x-api-provider'];
    if (typeof provider !== 'string' || !PROVIDERS[endpoint].includes(provider))
      return missing('x-api-provider', PROVIDERS[endpoint].join(' or '));
    if (endpoint === 'messages') {
      if (headers['anthropic-version'] === undefined) return missing('anthropic-version', 'set');
      if (headers['x-api-key'] !== 'placeholder') return missing('x-api-key', 'placeholder');
    }
    return undefined;
  }
}

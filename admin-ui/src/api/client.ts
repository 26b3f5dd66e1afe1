import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

/** Types of the admin API, generated from docs/openapi.json (`npm run openapi`). */
export type Schemas = components['schemas'];
export type { paths };

const TOKEN_KEY = 'switchyard.token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** An admin API error: the `{ error: { code, message, details } }` body with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /**
   * Field-level validation messages keyed by field: `details.fields` (`[{ field, messages }]`)
   * when the server sends it, else the `; `-separated class-validator messages, each of which
   * starts with the property it is about.
   */
  fieldErrors(known: readonly string[] = []): Record<string, string> {
    const out: Record<string, string> = {};
    const fields = this.details.fields;
    if (Array.isArray(fields)) {
      for (const entry of fields as Array<{ field?: string; messages?: string[] }>) {
        if (entry.field) out[entry.field] = (entry.messages ?? []).join('; ');
      }
      return out;
    }
    if (this.code !== 'VALIDATION_FAILED') return out;
    for (const part of this.message.split('; ')) {
      const field = known.find(
        (name) => part === name || part.startsWith(`${name} `) || part.startsWith(`${name}.`),
      );
      if (field) out[field] = out[field] ? `${out[field]}; ${part}` : part;
    }
    return out;
  }
}

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called when a request with a session comes back 401 (expired or revoked session). */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401 && getToken()) {
      setToken(null);
      for (const listener of unauthorizedListeners) listener();
    }
    return response;
  },
};

// fetch is looked up on each call (not captured once), so tests can stub it.
export const api = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? '',
  fetch: (request: Request) => globalThis.fetch(request),
});
api.use(auth);

export function toApiError(response: Response, body: unknown): ApiError {
  const error = (
    body as
      { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined
  )?.error;
  return new ApiError(
    response.status,
    error?.code ?? `HTTP_${response.status}`,
    error?.message ?? `${response.status} ${response.statusText}`,
    error?.details ?? {},
  );
}

/**
 * Unwraps an openapi-fetch result: the data, or a rejection with an ApiError (so TanStack Query
 * sees a failed query or mutation).
 * Usage: `unwrap(await api.GET('/admin/api/accounts', { params }))`.
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): Promise<T> {
  if (result.response.ok) return Promise.resolve(result.data as T);
  return Promise.reject(toApiError(result.response, result.error));
}

/** Downloads a GET endpoint that answers a file (CSV exports) with the session attached. */
export async function download(path: string, filename: string): Promise<void> {
  const response = await fetch(new URL(path, location.origin), {
    headers: { authorization: `Bearer ${getToken() ?? ''}` },
  });
  if (!response.ok) throw toApiError(response, await response.json().catch(() => undefined));
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  URL.revokeObjectURL(url);
}

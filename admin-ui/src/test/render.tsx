import type { ReactElement, ReactNode } from 'react';
import { render } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter, Route, Routes } from 'react-router';
import { vi } from 'vitest';
import { setToken } from '@/api/client';
import { SessionProvider, type SessionUser } from '@/auth/session';
import { ToastProvider } from '@/components/ui/toast';
import { ThemeProvider } from '@/theme/theme';

/** Answers with a JSON body or a Response, or a promise of either. */
type Handler = (request: Request, url: URL) => unknown;

export interface MockApi {
  /** Every request the UI sent, in order: method, path with query, JSON body. */
  calls: Array<{ method: string; path: string; body: unknown }>;
}

/**
 * Stubs fetch with handlers keyed `"METHOD /admin/api/path"` (query string ignored for the match).
 * A handler returns a JSON body (sent with 200) or a Response. Unmatched requests get a 404 in
 * the admin API's error shape, so a missing handler shows up as an error in the test.
 */
export function mockApi(handlers: Record<string, Handler>): MockApi {
  const calls: MockApi['calls'] = [];
  vi.stubGlobal('fetch', async (input: Request | string, init?: RequestInit) => {
    const request =
      input instanceof Request ? input : new Request(new URL(input, location.origin), init);
    const url = new URL(request.url);
    const text = request.method === 'GET' ? '' : await request.clone().text();
    calls.push({
      method: request.method,
      path: url.pathname + url.search,
      body: text ? JSON.parse(text) : undefined,
    });
    const handler = handlers[`${request.method} ${url.pathname}`];
    if (!handler)
      return json(
        { error: { code: 'NOT_FOUND', message: `no mock for ${request.method} ${url.pathname}` } },
        404,
      );
    const result = await handler(request, url);
    return result instanceof Response ? result : json(result ?? {}, 200);
  });
  return { calls };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

export function apiError(
  status: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): Response {
  return json({ error: { code, message, details } }, status);
}

export const ADMIN: SessionUser = { id: 'u-admin', username: 'admin', role: 'admin' };

/**
 * Renders a page inside the providers the app gives it (query cache, theme, toasts, session,
 * router at `route`). With `user`, a session token is stored and /auth/me must be mocked to
 * answer that user (mockApi does it when given `withSession(user, handlers)`).
 */
export function renderPage(
  ui: ReactElement,
  { route = '/admin', path = '*' }: { route?: string; path?: string } = {},
) {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={queryClient}>
      <ThemeProvider>
        <ToastProvider>
          <MemoryRouter initialEntries={[route]}>
            <SessionProvider>
              <Routes>
                <Route path={path} element={children} />
              </Routes>
            </SessionProvider>
          </MemoryRouter>
        </ToastProvider>
      </ThemeProvider>
    </QueryClientProvider>
  );
  return { ...render(ui, { wrapper }), queryClient };
}

/** Handlers plus a signed-in session for `user` (token stored, /auth/me answered). */
export function withSession(
  user: SessionUser,
  handlers: Record<string, Handler>,
): Record<string, Handler> {
  setToken('test-session-token');
  return { 'GET /admin/api/auth/me': () => user, ...handlers };
}

import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, getToken, onUnauthorized, setToken, unwrap, type Schemas } from '@/api/client';

export type SessionUser = Schemas['SessionUserDto'];
export type Role = SessionUser['role'];

interface SessionState {
  /** undefined while the stored session is being checked; null when signed out. */
  user: SessionUser | null | undefined;
  expired: boolean;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

/**
 * The admin session: a bearer token from POST /admin/api/auth/login kept in sessionStorage (gone
 * with the tab), checked against /admin/api/auth/me on load. A 401 on any call signs out.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [user, setUser] = useState<SessionUser | null | undefined>(getToken() ? undefined : null);
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    if (!getToken()) return;
    let cancelled = false;
    api
      .GET('/admin/api/auth/me')
      .then(unwrap)
      .then((me) => !cancelled && setUser(me))
      .catch(() => !cancelled && setUser(null));
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(
    () =>
      onUnauthorized(() => {
        setExpired(true);
        setUser(null);
        queryClient.clear();
      }),
    [queryClient],
  );

  const login = useCallback(
    async (username: string, password: string) => {
      const result = await unwrap(
        await api.POST('/admin/api/auth/login', { body: { username, password } }),
      );
      setToken(result.token);
      queryClient.clear();
      setExpired(false);
      setUser(result.user);
    },
    [queryClient],
  );

  const logout = useCallback(async () => {
    await api.POST('/admin/api/auth/logout').catch(() => undefined);
    setToken(null);
    queryClient.clear();
    setUser(null);
  }, [queryClient]);

  return (
    <SessionContext.Provider value={{ user, expired, login, logout }}>
      {children}
    </SessionContext.Provider>
  );
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside SessionProvider');
  return state;
}

/** The signed-in user (inside the authenticated layout, never null). */
export function useUser(): SessionUser {
  const { user } = useSession();
  if (!user) throw new Error('useUser without a session');
  return user;
}

export const STAFF: Role[] = ['admin', 'operator', 'viewer'];
export const MANAGERS: Role[] = ['admin', 'operator'];

/** Whether the user's role may use a route that allows `roles` (mirrors the server's matrix). */
export function can(user: SessionUser | null | undefined, roles: readonly Role[]): boolean {
  return !!user && roles.includes(user.role);
}

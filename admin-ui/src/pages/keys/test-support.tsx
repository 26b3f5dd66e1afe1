import type { ReactNode } from 'react';
import { useSession } from '@/auth/session';

/**
 * Renders its children once the session is known, as the app shell does: pages that call
 * useUser() need the signed-in user (renderPage checks /auth/me asynchronously).
 */
export function SignedIn({ children }: { children: ReactNode }) {
  const { user } = useSession();
  return user ? children : null;
}

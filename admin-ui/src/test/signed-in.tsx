import type { ReactNode } from 'react';
import { useSession } from '@/auth/session';

/**
 * Renders its children once the session is loaded (as the app's router does), so a page that
 * calls `useUser()` can be rendered by `renderPage(<SignedIn><Page /></SignedIn>)`.
 */
export function SignedIn({ children }: { children: ReactNode }) {
  const { user } = useSession();
  return user ? <>{children}</> : null;
}

import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Navigate, Route, Routes, BrowserRouter } from 'react-router';
import { useTranslation } from 'react-i18next';
import { ApiError } from '@/api/client';
import { can, SessionProvider, useSession } from '@/auth/session';
import { AppShell } from '@/components/layout/app-shell';
import { Spinner } from '@/components/ui/misc';
import { ToastProvider } from '@/components/ui/toast';
import LoginPage from '@/pages/login';
import { homePath, PAGES } from '@/routes';
import { ThemeProvider } from '@/theme/theme';

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: false,
        // Client errors (403, 404, validation) do not get better by retrying.
        retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      },
    },
  });
}

function NotFound() {
  const { t } = useTranslation();
  return <p className="p-6 text-muted">{t('errors.notFound')}</p>;
}

function Routed() {
  const { user } = useSession();
  if (user === undefined) return <Spinner />;
  if (user === null) return <LoginPage />;
  return (
    <Routes>
      <Route path="/admin" element={<AppShell />}>
        <Route index element={<Navigate to={homePath(user.role)} replace />} />
        {PAGES.filter((page) => can(user, page.roles)).map((page) => (
          <Route key={page.path} path={`${page.path}/*`} element={<page.page />} />
        ))}
        <Route path="*" element={<NotFound />} />
      </Route>
      <Route path="*" element={<Navigate to="/admin" replace />} />
    </Routes>
  );
}

/** The whole console; `client` is injectable for tests. */
export function App({ queryClient = createQueryClient() }: { queryClient?: QueryClient }) {
  return (
    <QueryClientProvider client={queryClient}>
      <ThemeProvider>
        <ToastProvider>
          <BrowserRouter>
            <SessionProvider>
              <Routed />
            </SessionProvider>
          </BrowserRouter>
        </ToastProvider>
      </ThemeProvider>
    </QueryClientProvider>
  );
}

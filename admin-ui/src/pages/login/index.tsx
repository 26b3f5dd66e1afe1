import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '@/api/client';
import { useSession } from '@/auth/session';
import { Preferences } from '@/components/layout/app-shell';
import { Button } from '@/components/ui/button';
import { Field, Input } from '@/components/ui/form';

export default function LoginPage() {
  const { t } = useTranslation();
  const { login, expired } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      await login(username, password);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : t('errors.network'));
    } finally {
      setPending(false);
    }
  };

  return (
    <div className="flex min-h-full flex-col items-center justify-center p-4">
      <Preferences className="absolute top-3 right-3" />
      <main className="w-full max-w-sm rounded-lg border border-border bg-surface p-6 shadow-sm">
        <h1 className="text-xl font-semibold">{t('login.title')}</h1>
        <p className="mb-5 text-muted">{t('login.subtitle')}</p>
        {expired && (
          <p role="status" className="mb-3 rounded-md bg-warning/10 p-2 text-warning">
            {t('errors.sessionExpired')}
          </p>
        )}
        <form onSubmit={(event) => void submit(event)} className="flex flex-col gap-3" noValidate>
          <Field label={t('login.username')}>
            {(props) => (
              <Input
                {...props}
                name="username"
                autoComplete="username"
                required
                // Signing in is the page's only task; the expired-session notice is a live region.
                // eslint-disable-next-line jsx-a11y/no-autofocus
                autoFocus
                value={username}
                onChange={(e) => setUsername(e.target.value)}
              />
            )}
          </Field>
          <Field label={t('login.password')}>
            {(props) => (
              <Input
                {...props}
                name="password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
          {error && (
            <p role="alert" className="text-danger">
              {t('login.failed')}: {error}
            </p>
          )}
          <Button
            type="submit"
            variant="primary"
            loading={pending}
            disabled={!username || !password}
          >
            {pending ? t('login.submitting') : t('login.submit')}
          </Button>
        </form>
      </main>
    </div>
  );
}

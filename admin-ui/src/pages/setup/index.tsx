import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { Info } from 'lucide-react';
import { api, unwrap } from '@/api/client';
import { can, STAFF, useUser } from '@/auth/session';
import { Field, Input, Select } from '@/components/ui/form';
import { Card, ErrorState, PageHeader, Spinner } from '@/components/ui/misc';
import { ClientSnippets } from './client-snippets';
import { recalledSecret } from './secret-memory';

/**
 * /admin/setup: copy-ready client setup for a chosen key with this server's address. Staff pick
 * from every key, users from their own (over /admin/api/me/keys). The secret is known only right
 * after a key was created or rotated in this tab; otherwise the snippets carry a placeholder,
 * which the user may replace by pasting the secret (kept in the page, never sent).
 */
export default function SetupPage() {
  const { t } = useTranslation('setup');
  const user = useUser();
  const staff = can(user, STAFF);
  const [params, setParams] = useSearchParams();
  const [baseUrl, setBaseUrl] = useState(window.location.origin);
  const [pasted, setPasted] = useState('');

  const keys = useQuery({
    queryKey: [staff ? 'keys' : 'me', staff ? 'list' : 'keys', 'setup'],
    queryFn: async () => {
      const query = {
        page: 1,
        pageSize: 200,
        sortBy: 'createdAt' as const,
        sortOrder: 'desc' as const,
      };
      return staff
        ? unwrap(
            await api.GET('/admin/api/keys', {
              params: { query: { ...query, deleted: 'exclude' } },
            }),
          )
        : unwrap(await api.GET('/admin/api/me/keys', { params: { query } }));
    },
  });

  const items = keys.data?.items ?? [];
  const keyId = params.get('key') ?? items[0]?.id ?? '';
  const chosen = items.find((key) => key.id === keyId);
  const remembered = recalledSecret(chosen?.id);
  const secret = pasted.trim() || remembered;

  return (
    <>
      <PageHeader title={t('title')} description={t('description')} />
      <Card className="mb-4">
        {keys.error ? (
          <ErrorState error={keys.error} onRetry={() => void keys.refetch()} />
        ) : keys.isLoading ? (
          <Spinner />
        ) : (
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label={t('key')}>
              {(props) => (
                <Select
                  {...props}
                  data-testid="setup-key"
                  value={chosen?.id ?? ''}
                  onChange={(event) => {
                    setPasted('');
                    setParams({ key: event.target.value }, { replace: true });
                  }}
                >
                  {items.length === 0 && <option value="">{t('noKeys')}</option>}
                  {items.map((key) => (
                    <option key={key.id} value={key.id}>
                      {key.name} ({key.keyHint})
                    </option>
                  ))}
                </Select>
              )}
            </Field>
            <Field label={t('baseUrl')} hint={t('baseUrlHint')}>
              {(props) => (
                <Input
                  {...props}
                  type="url"
                  value={baseUrl}
                  onChange={(event) => setBaseUrl(event.target.value)}
                />
              )}
            </Field>
            {!remembered && (
              <Field label={t('pasteSecret')} hint={t('pasteSecretHint')} className="sm:col-span-2">
                {(props) => (
                  <Input
                    {...props}
                    type="password"
                    autoComplete="off"
                    spellCheck={false}
                    placeholder="sk-sy-…"
                    value={pasted}
                    onChange={(event) => setPasted(event.target.value)}
                  />
                )}
              </Field>
            )}
          </div>
        )}
      </Card>
      <p
        data-testid="setup-secret-state"
        className="mb-3 flex items-start gap-2 rounded-md border border-info/40 bg-info/10 p-3 text-info"
      >
        <Info className="mt-0.5 size-4 shrink-0" aria-hidden />
        <span>{secret ? t('secretKnown') : t('placeholderNotice')}</span>
      </p>
      <ClientSnippets baseUrl={baseUrl} secret={secret} />
      <p className="mt-4 text-[13px] text-muted">{t('docsHint')}</p>
    </>
  );
}

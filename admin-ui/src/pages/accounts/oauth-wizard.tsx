import { useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { ExternalLink } from 'lucide-react';
import { api, ApiError, unwrap } from '@/api/client';
import { Button } from '@/components/ui/button';
import { Field, Input, Textarea } from '@/components/ui/form';
import { LinkButton } from '@/components/ui/link-button';
import { Badge, Card, CopyButton, EmptyState, PageHeader } from '@/components/ui/misc';
import { formatDate } from '@/lib/format';
import { cn } from '@/lib/cn';
import { useAccount, useInvalidateAccounts, type Account } from './api';
import { accountFieldErrors } from './field-errors';

export type Provider = 'claude' | 'codex' | 'google';
export const PROVIDERS: Provider[] = ['claude', 'codex', 'google'];

interface Login {
  authorizeUrl: string;
  state: string;
  redirectUri: string;
  expiresAt: string;
}

/** What was pasted: a URL (or its query) goes as callbackUrl, anything else as the code. */
export function exchangeInput(pasted: string): { code: string } | { callbackUrl: string } {
  const text = pasted.trim();
  return /^https?:\/\//i.test(text) || /^\??([^#\s]*&)?code=/.test(text)
    ? { callbackUrl: text }
    : { code: text };
}

async function authorize(provider: Provider, setupToken: boolean): Promise<Login> {
  switch (provider) {
    case 'claude':
      return unwrap(
        await api.POST('/admin/api/oauth/claude/authorize', {
          body: setupToken ? { setupToken: true } : {},
        }),
      );
    case 'codex':
      return unwrap(await api.POST('/admin/api/oauth/codex/authorize'));
    case 'google':
      return unwrap(await api.POST('/admin/api/oauth/google/authorize'));
  }
}

interface Target {
  name?: string;
  proxy?: string;
  accountId?: string;
  projectId?: string;
}

async function exchange(
  provider: Provider,
  body: { state: string; code?: string; callbackUrl?: string } & Target,
): Promise<Account> {
  switch (provider) {
    case 'claude':
      return unwrap(await api.POST('/admin/api/oauth/claude/exchange', { body }));
    case 'codex':
      return unwrap(await api.POST('/admin/api/oauth/codex/exchange', { body }));
    case 'google':
      return unwrap(await api.POST('/admin/api/oauth/google/exchange', { body }));
  }
}

/** Errors about what was pasted belong at the paste box. */
const CODE_ERROR = /_(INVALID_CALLBACK|STATE_MISMATCH|DENIED|TOKEN_EXCHANGE_REFUSED)$/;

function targetOf(values: Target): Target {
  return Object.fromEntries(
    Object.entries(values as Record<string, string | undefined>)
      .map(([key, value]) => [key, value?.trim()])
      .filter(([, value]) => value),
  ) as Target;
}

/**
 * The sign-in of an OAuth account type (`/admin/accounts/oauth/claude|codex|google`, with
 * `?accountId=` to renew an existing account's login): 1. open the sign-in page, 2. paste the code
 * or the URL the browser landed on, which creates (or renews) the account, 3. its profile.
 */
export function OAuthWizard() {
  const { t } = useTranslation('accounts');
  const { provider: raw = '' } = useParams();
  const provider = PROVIDERS.find((candidate) => candidate === raw);
  if (!provider) {
    return (
      <>
        <PageHeader title={t('oauth.title')} />
        <EmptyState>{t('oauth.unknown', { provider: raw })}</EmptyState>
      </>
    );
  }
  return <Wizard key={provider} provider={provider} />;
}

function Wizard({ provider }: { provider: Provider }) {
  const { t } = useTranslation('accounts');
  const [params] = useSearchParams();
  const accountId = params.get('accountId') ?? undefined;
  const existing = useAccount(accountId ?? '', accountId !== undefined);
  const invalidate = useInvalidateAccounts();
  const [setupToken, setSetupToken] = useState(false);
  const [pasted, setPasted] = useState('');
  const [target, setTarget] = useState<Target>({});
  const [credsFile, setCredsFile] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});

  const start = useMutation({ mutationFn: () => authorize(provider, setupToken) });
  const finish = useMutation({
    mutationFn: (login: Login) =>
      exchange(provider, {
        state: login.state,
        ...exchangeInput(pasted),
        ...targetOf({ ...target, accountId }),
      }),
    onSuccess: () => void invalidate(),
  });
  const importFile = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/admin/api/oauth/google/import', {
          body: { credentials: credsFile, ...targetOf({ ...target, accountId }) },
        }),
      ),
    onSuccess: () => void invalidate(),
  });
  const login = start.data;
  const account = finish.data ?? importFile.data;
  const known = ['name', 'proxy', 'projectId', 'code', 'credentials'];

  const onError = (error: unknown) => {
    const mapped = accountFieldErrors(error, known);
    if (mapped[''] && error instanceof ApiError && CODE_ERROR.test(error.code)) {
      setErrors({ code: mapped[''] });
    } else setErrors(mapped);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!login) return;
    if (pasted.trim() === '') {
      setErrors({ code: t('oauth.pasteRequired') });
      return;
    }
    setErrors({});
    finish.mutate(login, { onError });
  };

  const title = accountId
    ? t('oauth.renewTitle', { name: existing.data?.name ?? accountId })
    : t(`oauth.titles.${provider}`);

  if (account) {
    return (
      <>
        <PageHeader title={title} />
        <Step number={3} title={t('oauth.step3')} active>
          <Profile account={account} />
          <div className="mt-4 flex flex-wrap gap-2">
            <LinkButton
              to={`/admin/accounts/${account.id}`}
              variant="primary"
              data-testid="oauth-open-account"
            >
              {t('oauth.openAccount')}
            </LinkButton>
            <LinkButton to={`/admin/accounts/${account.id}/edit`}>
              {t('oauth.editSettings')}
            </LinkButton>
            <Button
              onClick={() => {
                start.reset();
                finish.reset();
                importFile.reset();
                setPasted('');
                setCredsFile('');
              }}
            >
              {t('oauth.another')}
            </Button>
          </div>
        </Step>
      </>
    );
  }

  return (
    <>
      <PageHeader title={title} description={t(`oauth.intro.${provider}`)} />
      <div className="flex max-w-3xl flex-col gap-4">
        <Step number={1} title={t('oauth.step1')} active={!login}>
          {provider === 'claude' && (
            <fieldset className="mb-3 flex flex-col gap-1.5">
              <legend className="mb-1 font-medium">{t('oauth.variant')}</legend>
              <label className="inline-flex items-start gap-2">
                <input
                  type="radio"
                  name="variant"
                  className="mt-1 size-4 accent-primary"
                  checked={!setupToken}
                  onChange={() => setSetupToken(false)}
                />
                <span>
                  {t('oauth.variantLogin')}
                  <span className="block text-[13px] text-muted">
                    {t('oauth.variantLoginHint')}
                  </span>
                </span>
              </label>
              <label className="inline-flex items-start gap-2">
                <input
                  type="radio"
                  name="variant"
                  className="mt-1 size-4 accent-primary"
                  checked={setupToken}
                  onChange={() => setSetupToken(true)}
                />
                <span>
                  {t('oauth.variantSetupToken')}
                  <span className="block text-[13px] text-muted">
                    {t('oauth.variantSetupTokenHint')}
                  </span>
                </span>
              </label>
            </fieldset>
          )}
          <Button
            variant={login ? 'secondary' : 'primary'}
            loading={start.isPending}
            data-testid="oauth-authorize"
            onClick={() => {
              finish.reset();
              setErrors({});
              start.mutate();
            }}
          >
            {login ? t('oauth.newLink') : t('oauth.getLink')}
          </Button>
          {start.error && <ServerError error={start.error} />}
          {login && (
            <div className="mt-3 flex flex-col gap-2" data-testid="oauth-login">
              <p>{t(`oauth.open.${provider}`)}</p>
              <div className="flex flex-wrap items-center gap-2">
                <a
                  href={login.authorizeUrl}
                  target="_blank"
                  rel="noopener noreferrer"
                  data-testid="oauth-authorize-url"
                  className="inline-flex h-9 items-center gap-1.5 rounded-md bg-primary px-3.5 font-medium text-primary-fg hover:opacity-90"
                >
                  <ExternalLink className="size-4" aria-hidden />
                  {t('oauth.openLink')}
                </a>
                <CopyButton value={login.authorizeUrl} label={t('oauth.copyLink')} />
              </div>
              <code className="block max-h-20 overflow-auto rounded-md border border-border bg-surface-2 p-2 text-[12px] break-all">
                {login.authorizeUrl}
              </code>
              <p className="text-[13px] text-muted">
                {t('oauth.expires', { when: formatDate(login.expiresAt) })}
              </p>
            </div>
          )}
        </Step>

        <Step number={2} title={t('oauth.step2')} active={!!login}>
          {!login ? (
            <p className="text-muted">{t('oauth.step2Waiting')}</p>
          ) : (
            <form onSubmit={submit} noValidate className="flex flex-col gap-3">
              <Field
                label={t('oauth.paste')}
                hint={t(`oauth.pasteHint.${provider}`, { redirect: login.redirectUri })}
                error={errors.code}
                required
              >
                {(props) => (
                  <Textarea
                    {...props}
                    name="code"
                    data-testid="oauth-code"
                    className="min-h-16"
                    spellCheck={false}
                    value={pasted}
                    onChange={(event) => setPasted(event.target.value)}
                  />
                )}
              </Field>
              <TargetFields
                provider={provider}
                renewing={accountId !== undefined}
                target={target}
                setTarget={setTarget}
                errors={errors}
              />
              {errors[''] && <ServerError message={errors['']} />}
              <div>
                <Button
                  type="submit"
                  variant="primary"
                  loading={finish.isPending}
                  data-testid="oauth-exchange"
                >
                  {accountId ? t('oauth.finishRenew') : t('oauth.finish')}
                </Button>
              </div>
            </form>
          )}
        </Step>

        {provider === 'google' && (
          <Card title={t('oauth.importTitle')}>
            <form
              noValidate
              className="flex flex-col gap-3"
              onSubmit={(event) => {
                event.preventDefault();
                setErrors({});
                importFile.mutate(undefined, { onError });
              }}
            >
              <Field
                label={t('oauth.importLabel')}
                hint={t('oauth.importHint')}
                error={errors.credentials}
              >
                {(props) => (
                  <Textarea
                    {...props}
                    name="credentials"
                    spellCheck={false}
                    value={credsFile}
                    onChange={(event) => setCredsFile(event.target.value)}
                  />
                )}
              </Field>
              {!login && (
                <TargetFields
                  provider={provider}
                  renewing={accountId !== undefined}
                  target={target}
                  setTarget={setTarget}
                  errors={errors}
                />
              )}
              <div>
                <Button type="submit" loading={importFile.isPending} disabled={!credsFile.trim()}>
                  {t('oauth.import')}
                </Button>
              </div>
            </form>
          </Card>
        )}
        <p className="text-[13px] text-muted">
          <Link className="text-primary underline" to="/admin/accounts/new">
            {t('oauth.manual')}
          </Link>
        </p>
      </div>
    </>
  );
}

function TargetFields({
  provider,
  renewing,
  target,
  setTarget,
  errors,
}: {
  provider: Provider;
  renewing: boolean;
  target: Target;
  setTarget: (target: Target) => void;
  errors: Record<string, string>;
}) {
  const { t } = useTranslation('accounts');
  const field = (key: keyof Target, label: string, hint: string, placeholder?: string) => (
    <Field key={key} label={label} hint={hint} error={errors[key]}>
      {(props) => (
        <Input
          {...props}
          name={key}
          autoComplete="off"
          placeholder={placeholder}
          value={target[key] ?? ''}
          onChange={(event) => setTarget({ ...target, [key]: event.target.value })}
        />
      )}
    </Field>
  );
  return (
    <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
      {field('name', t('fields.name'), renewing ? t('oauth.renameHint') : t('oauth.nameHint'))}
      {!renewing &&
        field('proxy', t('fields.proxy'), t('oauth.proxyHint'), 'socks5://user:pass@host:1080')}
      {provider === 'google' && field('projectId', t('oauth.projectId'), t('oauth.projectIdHint'))}
    </div>
  );
}

function Step({
  number,
  title,
  active,
  children,
}: {
  number: number;
  title: string;
  active: boolean;
  children: ReactNode;
}) {
  return (
    <section
      aria-current={active ? 'step' : undefined}
      className={cn(
        'rounded-lg border bg-surface p-4',
        active ? 'border-primary/60' : 'border-border',
      )}
    >
      <h2 className="mb-3 flex items-center gap-2 text-[15px] font-semibold">
        <span
          aria-hidden
          className={cn(
            'inline-flex size-6 items-center justify-center rounded-full text-[13px]',
            active ? 'bg-primary text-primary-fg' : 'bg-surface-2 text-muted',
          )}
        >
          {number}
        </span>
        {title}
      </h2>
      {children}
    </section>
  );
}

function ServerError({ error, message }: { error?: unknown; message?: string }) {
  const text = message ?? (error instanceof ApiError ? error.message : String(error));
  return (
    <p
      role="alert"
      className="mt-2 rounded-md border border-danger/40 bg-danger/10 p-2 text-danger"
    >
      {text}
    </p>
  );
}

/** The login's profile as the account holds it: who signed in, the plan, the organisation. */
export function Profile({ account }: { account: Account }) {
  const { t } = useTranslation('accounts');
  const sub = account.subscription ?? {};
  const creds = account.credentials;
  const rows: Array<[string, ReactNode]> = [
    [t('fields.name'), account.name],
    [t('detail.email'), sub.email ?? '—'],
    [t('detail.plan'), sub.plan ? <Badge tone="info">{sub.plan}</Badge> : '—'],
    [t('detail.organizationName'), sub.organizationName ?? '—'],
  ];
  if (creds.projectId) rows.push([t('oauth.projectId'), creds.projectId]);
  if (creds.accountId) rows.push([t('detail.chatgptAccount'), creds.accountId]);
  if (creds.expiresAt !== undefined) {
    rows.push([t('detail.tokenExpires'), creds.expiresAt ? formatDate(creds.expiresAt) : '—']);
  }
  if (creds.hasRefreshToken !== undefined) {
    rows.push([t('detail.refreshable'), creds.hasRefreshToken ? t('detail.yes') : t('detail.no')]);
  }
  return (
    <dl data-testid="oauth-profile" className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5">
      {rows.map(([label, value]) => (
        <div key={label} className="contents">
          <dt className="text-muted">{label}</dt>
          <dd className="min-w-0 break-words">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

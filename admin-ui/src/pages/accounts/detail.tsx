import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ArrowLeft, LogIn } from 'lucide-react';
import { MANAGERS, can, useSession } from '@/auth/session';
import { LinkButton } from '@/components/ui/link-button';
import { Badge, Card, ErrorState, PageHeader, Spinner, UsageBar } from '@/components/ui/misc';
import { DataTable } from '@/components/ui/table';
import { formatDate, formatNumber, plainText } from '@/lib/format';
import { AccountActions, TestOutcome } from './actions';
import { WIZARD_OF_TYPE } from './account-form';
import {
  useAccount,
  useAccountTest,
  useAccountTypes,
  useGroups,
  useHealthHistory,
  type AccountDetail,
  type HealthEvent,
} from './api';
import { en } from './messages';
import { Profile } from './oauth-wizard';
import { HealthBadge, StateBadge } from './state';

/** One account (`/admin/accounts/:id`): health and why, usage windows, test, settings, history. */
export function AccountDetailPage() {
  const { t } = useTranslation('accounts');
  const { id = '' } = useParams();
  const { user } = useSession();
  const manager = can(user, MANAGERS);
  const account = useAccount(id);
  const types = useAccountTypes();
  const test = useAccountTest();

  const back = (
    <Link
      to="/admin/accounts"
      className="mb-2 inline-flex items-center gap-1 text-muted hover:text-fg"
    >
      <ArrowLeft className="size-4" aria-hidden />
      {t('title')}
    </Link>
  );
  if (account.error) {
    return (
      <>
        {back}
        <ErrorState error={account.error} onRetry={() => void account.refetch()} />
      </>
    );
  }
  if (!account.data) return <Spinner />;
  const data = account.data;
  const type = types.data?.find((candidate) => candidate.type === data.type);
  const wizard = WIZARD_OF_TYPE[data.type];

  return (
    <>
      {back}
      <PageHeader
        title={data.name}
        description={`${type?.label ?? data.type} · ${data.platform}`}
        actions={
          manager && (
            <>
              {wizard && (
                <LinkButton size="sm" to={`/admin/accounts/oauth/${wizard}?accountId=${data.id}`}>
                  <LogIn className="size-4" aria-hidden />
                  {t('detail.signInAgain')}
                </LinkButton>
              )}
              <AccountActions account={data} variant="header" onTest={() => test.mutate(data.id)} />
            </>
          )
        }
      />
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
        <Card title={t('detail.health')}>
          <StateBadge account={data} />
          {data.notRoutableBecause && (
            <p className="mt-2 text-[13px]" data-testid="account-not-routable">
              <span className="text-muted">{t('detail.notRoutable')}: </span>
              {data.notRoutableBecause}
            </p>
          )}
          <HealthStates account={data} />
        </Card>

        {(manager || test.data) && (
          <Card title={t('detail.test')}>
            <p className="mb-2 text-[13px] text-muted">
              {t('detail.testHint', { model: type?.testModel ?? '—' })}
            </p>
            {test.isIdle ? (
              <p className="text-muted">{t('detail.testIdle')}</p>
            ) : (
              <TestOutcome pending={test.isPending} result={test.data} error={test.error} />
            )}
          </Card>
        )}

        <Card title={t('detail.usageWindows')}>
          <UsageWindows account={data} />
        </Card>

        <Card title={t('detail.settings')}>
          <Settings account={data} />
        </Card>

        <Card title={t('detail.credentials')}>
          <Credentials account={data} />
        </Card>

        {(data.subscription || wizard) && (
          <Card title={t('detail.profile')}>
            <Profile account={data} />
          </Card>
        )}
      </div>
      <div className="mt-4">
        <HealthHistory id={data.id} />
      </div>
    </>
  );
}

function HealthStates({ account }: { account: AccountDetail }) {
  const { t } = useTranslation('accounts');
  if (account.healthStates.length === 0) return null;
  return (
    <ul className="mt-3 flex flex-col gap-2" data-testid="account-health-states">
      {account.healthStates.map((state, index) => (
        <li key={index} className="rounded-md border border-border p-2 text-[13px]">
          <div className="flex flex-wrap items-center gap-2">
            <HealthBadge state={state.state} />
            {state.scope && (
              <span className="text-muted">
                {state.scope === 'account'
                  ? t('detail.scopeAccount')
                  : t('detail.scopeFamily', { family: state.scope })}
              </span>
            )}
          </div>
          <p className="mt-1">{state.reason}</p>
          {state.until && (
            <p className="text-muted">{t('state.until', { when: formatDate(state.until) })}</p>
          )}
        </li>
      ))}
    </ul>
  );
}

function UsageWindows({ account }: { account: AccountDetail }) {
  const { t } = useTranslation('accounts');
  if (account.usageWindows.length === 0) {
    return <p className="text-muted">{t('detail.noUsageWindows')}</p>;
  }
  return (
    <ul className="flex flex-col gap-3" data-testid="account-usage-windows">
      {account.usageWindows.map((window) => {
        const label =
          window.name === '5h'
            ? t('detail.window5h')
            : window.name === 'weekly'
              ? t('detail.windowWeekly')
              : t('detail.windowOther', { name: window.name });
        return (
          <li key={window.name} className="flex flex-col gap-1">
            <div className="flex items-baseline justify-between gap-2">
              <span className="font-medium">{label}</span>
              <span className="tabular-nums">{formatNumber(window.usedPercent, 1)} %</span>
            </div>
            <UsageBar used={window.usedPercent} limit={100} label={label} />
            <span className="text-[12px] text-muted">
              {window.resetsAt
                ? t('detail.resetsAt', { when: formatDate(window.resetsAt) })
                : t('detail.resetUnknown')}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

function Rows({ rows }: { rows: Array<[string, ReactNode]> }) {
  return (
    <dl className="grid grid-cols-[minmax(7rem,auto)_1fr] gap-x-4 gap-y-1.5">
      {rows.map(([label, value]) => (
        <div key={label} className="contents">
          <dt className="text-muted">{label}</dt>
          <dd className="min-w-0 break-words">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Settings({ account }: { account: AccountDetail }) {
  const { t } = useTranslation('accounts');
  const { t: tc } = useTranslation();
  const groups = useGroups();
  const groupName = new Map((groups.data ?? []).map((group) => [group.id, group.name]));
  const models = account.models;
  return (
    <Rows
      rows={[
        [
          t('fields.baseUrl'),
          <span className="font-mono text-[13px]">
            {account.effectiveBaseUrl}
            {account.baseUrl === null && (
              <span className="text-muted"> ({t('detail.default')})</span>
            )}
          </span>,
        ],
        [t('fields.priority'), account.priority],
        [t('fields.weight'), account.weight],
        [
          t('fields.proxy'),
          account.proxy ? (
            <span className="font-mono text-[13px]">{account.proxy}</span>
          ) : (
            tc('state.none')
          ),
        ],
        [t('fields.concurrencyLimit'), account.concurrencyLimit ?? tc('state.unlimited')],
        [t('fields.enabled'), account.enabled ? tc('state.yes') : tc('state.no')],
        [t('fields.schedulable'), account.schedulable ? tc('state.yes') : tc('state.no')],
        [
          t('fields.groups'),
          account.groupIds.length === 0 ? (
            tc('state.none')
          ) : (
            <span className="flex flex-wrap gap-1">
              {account.groupIds.map((id) => (
                <Badge key={id}>{groupName.get(id) ?? id}</Badge>
              ))}
            </span>
          ),
        ],
        [
          t('fields.models'),
          models === null ? (
            t('form.models.all')
          ) : Array.isArray(models) ? (
            <span className="flex flex-wrap gap-1 font-mono text-[12px]">
              {models.map((name) => (
                <Badge key={name}>{name}</Badge>
              ))}
            </span>
          ) : (
            <ul className="font-mono text-[12px]" data-testid="account-model-mapping">
              {Object.entries(models).map(([from, to]) => (
                <li key={from}>
                  {from} → {to}
                </li>
              ))}
            </ul>
          ),
        ],
        [
          t('fields.lastUsedAt'),
          account.lastUsedAt ? formatDate(account.lastUsedAt) : tc('state.never'),
        ],
        [t('detail.created'), formatDate(account.createdAt)],
      ]}
    />
  );
}

type LabelledKey = keyof (typeof en)['credentialLabels'];

/** Whether a credentials summary field has a translated label (unknown ones show their name). */
function isLabelled(key: string): key is LabelledKey {
  return Object.hasOwn(en.credentialLabels, key);
}

/** Every hint and flag the server shows of the credentials (never a secret). */
function Credentials({ account }: { account: AccountDetail }) {
  const { t } = useTranslation('accounts');
  const { t: tc } = useTranslation();
  const summary = account.credentials as Record<string, unknown>;
  if (!account.credentials.readable) {
    return <p className="text-danger">{t('detail.unreadable')}</p>;
  }
  const rows = Object.entries(summary)
    .filter(([key, value]) => key !== 'type' && key !== 'readable' && value !== null)
    .map(([key, value]): [string, ReactNode] => [
      isLabelled(key) ? t(`credentialLabels.${key}`) : key,
      typeof value === 'boolean' ? (
        value ? (
          tc('state.yes')
        ) : (
          tc('state.no')
        )
      ) : typeof value === 'object' ? (
        <code className="text-[12px] break-all">{JSON.stringify(value)}</code>
      ) : (
        <span className="font-mono text-[13px]">{plainText(value)}</span>
      ),
    ]);
  return rows.length === 0 ? (
    <p className="text-muted">{tc('state.none')}</p>
  ) : (
    <Rows rows={rows} />
  );
}

function HealthHistory({ id }: { id: string }) {
  const { t } = useTranslation('accounts');
  const history = useHealthHistory(id);
  return (
    <Card title={t('detail.history')}>
      <DataTable<HealthEvent>
        caption={t('detail.history')}
        rows={history.data}
        loading={history.isLoading}
        error={history.error}
        onRetry={() => void history.refetch()}
        rowKey={(event) => `${event.at}-${event.state}-${event.scope ?? ''}`}
        empty={t('detail.noHistory')}
        columns={[
          {
            key: 'at',
            header: t('detail.when'),
            className: 'whitespace-nowrap',
            cell: (event) => formatDate(event.at),
          },
          {
            key: 'state',
            header: t('fields.state'),
            cell: (event) => <HealthBadge state={event.state} />,
          },
          {
            key: 'scope',
            header: t('detail.scope'),
            cell: (event) => event.scope ?? '—',
          },
          { key: 'reason', header: t('detail.reason'), cell: (event) => event.reason },
          {
            key: 'until',
            header: t('detail.untilColumn'),
            className: 'whitespace-nowrap',
            cell: (event) => (event.until ? formatDate(event.until) : '—'),
          },
        ]}
      />
    </Card>
  );
}

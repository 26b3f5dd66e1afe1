import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { ArrowDown, ArrowUp, ArrowUpDown } from 'lucide-react';
import { MANAGERS, can, useSession } from '@/auth/session';
import { Badge } from '@/components/ui/misc';
import { Field, Input, Select } from '@/components/ui/form';
import { DataTable, Pagination, type Column } from '@/components/ui/table';
import { AccountActions, EnabledToggle } from './actions';
import {
  useAccounts,
  useAccountTypes,
  useGroups,
  type Account,
  type AccountListQuery,
} from './api';
import { formatShortDate } from '@/lib/format';
import { StateBadge } from './state';

/** The state filter's choices and the list query each one sends. */
export const STATE_FILTERS = {
  active: { status: 'active' },
  cooling: { health: 'cooling' },
  rate_limited: { health: 'rate_limited' },
  auth_failed: { status: 'auth_failed' },
  blocked: { status: 'blocked' },
  enabled: { enabled: true },
  disabled: { enabled: false },
} as const satisfies Record<string, Partial<AccountListQuery>>;
type StateFilter = keyof typeof STATE_FILTERS;

type SortField = NonNullable<AccountListQuery['sortBy']>;
const SORTABLE: SortField[] = ['name', 'priority', 'createdAt', 'lastUsedAt'];

/** The filters live in the URL (`?type=…&state=…`), so a filtered list can be shared and reloaded. */
function useListQuery() {
  const [params, setParams] = useSearchParams();
  const state = params.get('state') as StateFilter | null;
  const sortBy = params.get('sortBy') as SortField | null;
  const query: AccountListQuery = {
    page: Number(params.get('page') ?? 1) || 1,
    pageSize: Number(params.get('pageSize') ?? 50) || 50,
    sortBy: sortBy && SORTABLE.includes(sortBy) ? sortBy : 'priority',
    sortOrder: params.get('sortOrder') === 'desc' ? 'desc' : 'asc',
    ...(params.get('type') ? { type: params.get('type') as AccountListQuery['type'] } : {}),
    ...(params.get('groupId') ? { groupId: params.get('groupId')! } : {}),
    ...(params.get('search') ? { search: params.get('search')! } : {}),
    ...(state && state in STATE_FILTERS ? STATE_FILTERS[state] : {}),
  };
  const set = useCallback(
    (changes: Record<string, string | number | null>, resetPage = true) =>
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [key, value] of Object.entries(changes)) {
            if (value === null || value === '') next.delete(key);
            else next.set(key, String(value));
          }
          if (resetPage) next.delete('page');
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
  return { params, query, set, state: state ?? '' };
}

export function AccountsList() {
  const { t } = useTranslation('accounts');
  const { t: tc } = useTranslation();
  const { user } = useSession();
  const manager = can(user, MANAGERS);
  const { params, query, set, state } = useListQuery();
  const accounts = useAccounts(query);
  const types = useAccountTypes();
  const groups = useGroups();
  const [search, setSearch] = useState(params.get('search') ?? '');

  // The search box writes to the URL once typing pauses.
  useEffect(() => {
    if (search === (params.get('search') ?? '')) return;
    const timer = setTimeout(() => set({ search: search.trim() || null }), 300);
    return () => clearTimeout(timer);
  }, [search, params, set]);

  const typeLabel = useMemo(
    () => new Map((types.data ?? []).map((type) => [type.type, type.label])),
    [types.data],
  );
  const groupName = useMemo(
    () => new Map((groups.data ?? []).map((group) => [group.id, group.name])),
    [groups.data],
  );

  const ariaSort = (field: SortField) =>
    query.sortBy !== field ? undefined : query.sortOrder === 'asc' ? 'ascending' : 'descending';
  const sortHeader = (field: SortField, label: string) => {
    const active = query.sortBy === field;
    const Icon = !active ? ArrowUpDown : query.sortOrder === 'asc' ? ArrowUp : ArrowDown;
    return (
      <button
        type="button"
        className="inline-flex items-center gap-1 font-medium hover:text-fg"
        aria-label={t('list.sortBy', { field: label })}
        onClick={() =>
          set({
            sortBy: field,
            sortOrder: active && query.sortOrder === 'asc' ? 'desc' : 'asc',
          })
        }
      >
        {label}
        <Icon className="size-3.5" aria-hidden />
      </button>
    );
  };

  const columns: Column<Account>[] = [
    {
      key: 'name',
      ariaSort: ariaSort('name'),
      header: sortHeader('name', t('list.nameAndGroups')),
      cell: (account) => (
        <div className="flex flex-col">
          <Link
            to={`/admin/accounts/${account.id}`}
            className="font-medium text-primary hover:underline"
            data-testid="account-link"
          >
            {account.name}
          </Link>
          {account.subscription?.email && (
            <span className="text-[12px] text-muted">{account.subscription.email}</span>
          )}
          {account.groupIds.length > 0 && (
            <div className="mt-1 flex flex-wrap gap-1" aria-label={t('fields.groups')}>
              {account.groupIds.map((id) => (
                <Badge key={id}>{groupName.get(id) ?? id}</Badge>
              ))}
            </div>
          )}
        </div>
      ),
    },
    {
      key: 'type',
      header: t('fields.type'),
      cell: (account) => (
        <div className="flex flex-col">
          <span
            className="font-mono text-[12.5px] whitespace-nowrap"
            title={typeLabel.get(account.type)}
          >
            {account.type}
          </span>
          {account.subscription?.plan && (
            <span className="text-[12px] text-muted">
              {t('detail.plan')}: {account.subscription.plan}
            </span>
          )}
        </div>
      ),
    },
    {
      key: 'state',
      header: t('fields.state'),
      cell: (account) => <StateBadge account={account} compact />,
    },
    {
      key: 'priority',
      ariaSort: ariaSort('priority'),
      header: sortHeader('priority', t('fields.priority')),
      cell: (account) => (
        <div className="flex flex-col whitespace-nowrap">
          <span>{account.priority}</span>
          <span className="text-[12px] text-muted">
            {t('list.weightShort', { weight: account.weight })}
          </span>
        </div>
      ),
    },
    {
      key: 'enabled',
      header: t('fields.enabled'),
      cell: (account) =>
        manager ? (
          <EnabledToggle account={account} />
        ) : account.enabled ? (
          <Badge tone="success">{tc('state.enabled')}</Badge>
        ) : (
          <Badge>{tc('state.disabled')}</Badge>
        ),
    },
    {
      key: 'lastUsedAt',
      ariaSort: ariaSort('lastUsedAt'),
      header: sortHeader('lastUsedAt', t('fields.lastUsedAt')),
      className: 'whitespace-nowrap',
      cell: (account) =>
        account.lastUsedAt ? formatShortDate(account.lastUsedAt) : tc('state.never'),
    },
    ...(manager
      ? [
          {
            key: 'actions',
            header: <span className="sr-only">{t('list.actions')}</span>,
            cell: (account: Account) => <AccountActions account={account} variant="row" />,
          },
        ]
      : []),
  ];

  return (
    <div className="flex flex-col gap-3">
      <form
        role="search"
        aria-label={t('list.filters')}
        className="grid grid-cols-1 gap-2 sm:grid-cols-2 lg:grid-cols-4"
        onSubmit={(event) => event.preventDefault()}
      >
        <Field label={tc('actions.search')}>
          {(props) => (
            <Input
              {...props}
              type="search"
              placeholder={t('list.searchPlaceholder')}
              value={search}
              onChange={(event) => setSearch(event.target.value)}
            />
          )}
        </Field>
        <Field label={t('fields.type')}>
          {(props) => (
            <Select
              {...props}
              data-testid="filter-type"
              value={query.type ?? ''}
              onChange={(event) => set({ type: event.target.value })}
            >
              <option value="">{tc('state.all')}</option>
              {(types.data ?? []).map((type) => (
                <option key={type.type} value={type.type}>
                  {type.label}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t('fields.group')}>
          {(props) => (
            <Select
              {...props}
              data-testid="filter-group"
              value={query.groupId ?? ''}
              onChange={(event) => set({ groupId: event.target.value })}
            >
              <option value="">{tc('state.all')}</option>
              {(groups.data ?? []).map((group) => (
                <option key={group.id} value={group.id}>
                  {group.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t('fields.state')}>
          {(props) => (
            <Select
              {...props}
              data-testid="filter-state"
              value={state}
              onChange={(event) => set({ state: event.target.value })}
            >
              <option value="">{tc('state.all')}</option>
              {(Object.keys(STATE_FILTERS) as StateFilter[]).map((key) => (
                <option key={key} value={key}>
                  {t(`list.stateFilter.${key}`)}
                </option>
              ))}
            </Select>
          )}
        </Field>
      </form>
      <DataTable
        caption={t('title')}
        columns={columns}
        rows={accounts.data?.items}
        rowKey={(account) => account.id}
        loading={accounts.isLoading}
        error={accounts.error}
        onRetry={() => void accounts.refetch()}
        empty={t('list.empty')}
      />
      {accounts.data && accounts.data.total > 0 && (
        <Pagination
          page={accounts.data.page}
          pageSize={accounts.data.pageSize}
          total={accounts.data.total}
          onPageChange={(page) => set({ page }, false)}
          onPageSizeChange={(pageSize) => set({ pageSize })}
        />
      )}
    </div>
  );
}

import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type paths, type Schemas } from '@/api/client';

export type Account = Schemas['AccountResponseDto'];
export type AccountDetail = Schemas['AccountDetailResponseDto'];
export type AccountType = Schemas['AccountTypeResponseDto'];
export type CredentialField = Schemas['CredentialFieldDto'];
export type AccountGroup = Schemas['AccountGroupResponseDto'];
export type HealthState = Schemas['HealthStateDto'];
export type HealthEvent = Schemas['HealthEventDto'];
export type TestResult = Schemas['AccountTestResponseDto'];
export type CreateAccountBody = Schemas['CreateAccountDto'];
export type UpdateAccountBody = Schemas['UpdateAccountDto'];
export type AccountListQuery = NonNullable<
  paths['/admin/api/accounts']['get']['parameters']['query']
>;
export type AccountTypeId = AccountType['type'];
export type Platform = AccountType['platform'];

/** Query keys of this page's data; mutations invalidate `accounts` and `account-groups`. */
export const keys = {
  types: ['account-types'] as const,
  accounts: ['accounts'] as const,
  list: (query: AccountListQuery) => ['accounts', 'list', query] as const,
  detail: (id: string) => ['accounts', 'detail', id] as const,
  history: (id: string) => ['accounts', 'history', id] as const,
  groups: ['account-groups'] as const,
};

/** Health and usage move on their own: lists and details refresh while they are shown. */
const LIVE_MS = 15_000;

export function useAccountTypes() {
  return useQuery({
    queryKey: keys.types,
    queryFn: async () => unwrap(await api.GET('/admin/api/account-types')),
    staleTime: Infinity,
    select: (data) => data.items,
  });
}

export function useAccounts(query: AccountListQuery) {
  return useQuery({
    queryKey: keys.list(query),
    queryFn: async () => unwrap(await api.GET('/admin/api/accounts', { params: { query } })),
    placeholderData: keepPreviousData,
    refetchInterval: LIVE_MS,
  });
}

export function useAccount(id: string, enabled = true) {
  return useQuery({
    queryKey: keys.detail(id),
    enabled,
    queryFn: async () =>
      unwrap(await api.GET('/admin/api/accounts/{id}', { params: { path: { id } } })),
    refetchInterval: LIVE_MS,
  });
}

export function useHealthHistory(id: string) {
  return useQuery({
    queryKey: keys.history(id),
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/accounts/{id}/health-history', {
          params: { path: { id }, query: { limit: 100 } },
        }),
      ),
    refetchInterval: LIVE_MS,
    select: (data) => data.items,
  });
}

/** Every group (the server caps a page at 200; more groups than that is not a relay's shape). */
export function useGroups() {
  return useQuery({
    queryKey: keys.groups,
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/account-groups', {
          params: { query: { page: 1, pageSize: 200, sortBy: 'name', sortOrder: 'asc' } },
        }),
      ),
    select: (data) => data.items,
  });
}

function useInvalidate() {
  const client = useQueryClient();
  return () =>
    Promise.all([
      client.invalidateQueries({ queryKey: keys.accounts }),
      client.invalidateQueries({ queryKey: keys.groups }),
    ]);
}

/** Enable, disable, reset health, delete: one mutation per action, each refreshing the lists. */
export function useAccountAction() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async ({
      id,
      action,
    }: {
      id: string;
      action: 'enable' | 'disable' | 'reset-health' | 'delete';
    }) => {
      const params = { params: { path: { id } } };
      switch (action) {
        case 'enable':
          return unwrap(await api.POST('/admin/api/accounts/{id}/enable', params));
        case 'disable':
          return unwrap(await api.POST('/admin/api/accounts/{id}/disable', params));
        case 'reset-health':
          return unwrap(await api.POST('/admin/api/accounts/{id}/reset-health', params));
        case 'delete':
          return unwrap(await api.DELETE('/admin/api/accounts/{id}', params));
      }
    },
    onSettled: invalidate,
  });
}

export function useAccountTest() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.POST('/admin/api/accounts/{id}/test', { params: { path: { id } } })),
    onSettled: invalidate,
  });
}

export function useSaveAccount() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: async (
      input: { id: string; body: UpdateAccountBody } | { id?: undefined; body: CreateAccountBody },
    ): Promise<Account> =>
      input.id === undefined
        ? unwrap(await api.POST('/admin/api/accounts', { body: input.body }))
        : unwrap(
            await api.PATCH('/admin/api/accounts/{id}', {
              params: { path: { id: input.id } },
              body: input.body,
            }),
          ),
    onSuccess: invalidate,
  });
}

export { useInvalidate as useInvalidateAccounts };

import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api, unwrap } from '@/api/client';

export const PLATFORMS = ['claude', 'openai', 'gemini', 'droid'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const SCENARIOS = ['background', 'think', 'long_context', 'web_search', 'image'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The API keys a rule may belong to, by id (names for the table, options for the forms). */
export function useKeyNames() {
  return useQuery({
    queryKey: ['routing', 'key-names'],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/keys', {
          params: {
            query: {
              page: 1,
              pageSize: 200,
              deleted: 'exclude',
              sortBy: 'name',
              sortOrder: 'asc',
            },
          },
        }),
      ),
    select: (data) => data.items.map((key) => ({ id: key.id, name: key.name, hint: key.keyHint })),
    staleTime: 60_000,
  });
}

/** The account groups a rule may send requests to. */
export function useGroups() {
  return useQuery({
    queryKey: ['routing', 'groups'],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/account-groups', {
          params: { query: { page: 1, pageSize: 200, sortBy: 'name', sortOrder: 'asc' } },
        }),
      ),
    select: (data) => data.items.map((g) => ({ id: g.id, name: g.name, platform: g.platform })),
    staleTime: 60_000,
  });
}

export function FormAlert({ children }: { children?: ReactNode }) {
  return children ? (
    <p role="alert" className="rounded-md border border-danger/40 bg-danger/10 p-2 text-danger">
      {children}
    </p>
  ) : null;
}

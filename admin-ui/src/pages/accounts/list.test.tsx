import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ADMIN, apiError, mockApi, renderPage, withSession } from '@/test/render';
import AccountsPage from '.';
import { account, GROUPS, page, TYPES } from './fixtures';

const cooling = account({
  id: 'a-2',
  name: 'console-cooling',
  priority: 10,
  weight: 3,
  routable: false,
  healthStates: [
    {
      state: 'cooling',
      scope: 'account',
      until: '2030-01-01T00:05:00.000Z',
      reason: 'overloaded (529)',
    },
  ],
});
const disabled = account({ id: 'a-3', name: 'console-off', enabled: false, groupIds: [] });

function handlers(list: (url: URL) => unknown = () => page([cooling, account(), disabled])) {
  return {
    'GET /admin/api/account-types': () => ({ items: TYPES }),
    'GET /admin/api/account-groups': () => ({ items: GROUPS, total: 1, page: 1, pageSize: 200 }),
    'GET /admin/api/accounts': (_request: Request, url: URL) => list(url),
  };
}

function renderList(route = '/admin/accounts') {
  return renderPage(<AccountsPage />, { route, path: '/admin/accounts/*' });
}

const listCalls = (calls: Array<{ method: string; path: string }>) =>
  calls.filter((call) => call.method === 'GET' && call.path.startsWith('/admin/api/accounts?'));

describe('accounts list', { timeout: 20_000 }, () => {
  it('shows each account with its type, state and reason, priority, weight and groups', async () => {
    mockApi(withSession(ADMIN, handlers()));
    renderList();
    const row = (await screen.findByRole('link', { name: 'console-cooling' })).closest('tr')!;
    const state = within(row).getByTestId('account-state');
    expect(state).toHaveAttribute('data-state', 'cooling');
    expect(state).toHaveTextContent('Cooling');
    expect(state).toHaveTextContent('overloaded (529)');
    expect(within(state).getByTestId('account-state-until')).toHaveTextContent(/until 1\/1\/30/);
    expect(row).toHaveTextContent('claude-console');
    expect(row).toHaveTextContent('10weight 3');
    expect(row).toHaveTextContent('team-a');

    const off = screen.getByRole('link', { name: 'console-off' }).closest('tr')!;
    expect(within(off).getByTestId('account-state')).toHaveAttribute('data-state', 'disabled');
    expect(within(off).getByRole('switch', { name: 'console-off enabled' })).not.toBeChecked();
    const healthy = screen.getByRole('link', { name: 'console-1' }).closest('tr')!;
    expect(within(healthy).getByTestId('account-state')).toHaveTextContent('Healthy');
    expect(within(healthy).getByRole('button', { name: 'Reset health' })).toBeDisabled();
    expect(screen.getByTestId('add-account')).toHaveAttribute('href', '/admin/accounts/new');
  });

  it('sends the filters, search and sort as the list query', async () => {
    const api = mockApi(withSession(ADMIN, handlers()));
    renderList();
    await screen.findByRole('link', { name: 'console-1' });
    expect(listCalls(api.calls)[0].path).toBe(
      '/admin/api/accounts?page=1&pageSize=50&sortBy=priority&sortOrder=asc',
    );

    await userEvent.selectOptions(screen.getByTestId('filter-type'), 'claude-console');
    await waitFor(() => expect(listCalls(api.calls).at(-1)!.path).toContain('type=claude-console'));
    await userEvent.selectOptions(screen.getByTestId('filter-state'), 'cooling');
    await waitFor(() => expect(listCalls(api.calls).at(-1)!.path).toContain('health=cooling'));
    await userEvent.selectOptions(screen.getByTestId('filter-state'), 'auth_failed');
    await waitFor(() => expect(listCalls(api.calls).at(-1)!.path).toContain('status=auth_failed'));
    await userEvent.selectOptions(screen.getByTestId('filter-group'), 'g-claude');
    await waitFor(() => expect(listCalls(api.calls).at(-1)!.path).toContain('groupId=g-claude'));
    await userEvent.type(screen.getByRole('searchbox'), 'cons');
    await waitFor(() => expect(listCalls(api.calls).at(-1)!.path).toContain('search=cons'));
    await userEvent.click(screen.getByRole('button', { name: 'Sort by Name, groups' }));
    await waitFor(() => expect(listCalls(api.calls).at(-1)!.path).toContain('sortBy=name'));
    const last = new URL(listCalls(api.calls).at(-1)!.path, 'http://x').searchParams;
    expect(Object.fromEntries(last)).toMatchObject({
      type: 'claude-console',
      status: 'auth_failed',
      groupId: 'g-claude',
      search: 'cons',
      sortBy: 'name',
      sortOrder: 'asc',
    });
    expect(last.has('health')).toBe(false);
  });

  it('disables an account and refreshes the list', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        ...handlers(),
        'POST /admin/api/accounts/a-1/disable': () => account({ enabled: false }),
      }),
    );
    renderList();
    const row = (await screen.findByRole('link', { name: 'console-1' })).closest('tr')!;
    const toggle = within(row).getByRole('switch', { name: 'console-1 enabled' });
    expect(toggle).toBeChecked();
    await userEvent.click(toggle);
    await waitFor(() =>
      expect(api.calls.some((call) => call.path === '/admin/api/accounts/a-1/disable')).toBe(true),
    );
    await waitFor(() => expect(listCalls(api.calls).length).toBeGreaterThan(1));
  });

  it('asks before deleting', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        ...handlers(),
        'DELETE /admin/api/accounts/a-1': () => new Response(null, { status: 204 }),
      }),
    );
    renderList();
    const row = (await screen.findByRole('link', { name: 'console-1' })).closest('tr')!;
    await userEvent.click(within(row).getByRole('button', { name: 'Delete' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('Delete console-1?');
    expect(api.calls.some((call) => call.method === 'DELETE')).toBe(false);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() =>
      expect(
        api.calls.some(
          (call) => call.method === 'DELETE' && call.path === '/admin/api/accounts/a-1',
        ),
      ).toBe(true),
    );
  });

  it('tests an account from its row and shows the result in words', async () => {
    mockApi(
      withSession(ADMIN, {
        ...handlers(),
        'POST /admin/api/accounts/a-1/test': () => ({
          ok: false,
          status: 529,
          latencyMs: 412,
          model: 'claude-3-5-haiku-latest',
          message: 'upstream answered 529: Overloaded',
        }),
      }),
    );
    renderList();
    const row = (await screen.findByRole('link', { name: 'console-1' })).closest('tr')!;
    await userEvent.click(within(row).getByTestId('account-test'));
    const result = await screen.findByTestId('account-test-result', {}, { timeout: 3000 });
    await waitFor(() => expect(result).toHaveAttribute('data-ok', 'false'));
    expect(screen.getByTestId('account-test-result')).toHaveTextContent(
      'upstream answered 529: Overloaded',
    );
    expect(screen.getByTestId('account-test-result')).toHaveTextContent('412 ms');
  });

  it('hides every change from a viewer', async () => {
    mockApi(withSession({ id: 'u-v', username: 'view', role: 'viewer' }, handlers()));
    renderList();
    await screen.findByRole('link', { name: 'console-1' });
    // The session is known once the read-only note shows.
    await screen.findByTestId('read-only-note');
    expect(screen.queryByTestId('add-account')).toBeNull();
    expect(screen.queryByTestId('account-test')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
  });

  it('shows an empty list and an error with their messages', async () => {
    let fail = false;
    mockApi(
      withSession(
        ADMIN,
        handlers(() => (fail ? apiError(500, 'INTERNAL', 'database unavailable') : page([]))),
      ),
    );
    const view = renderList();
    expect(await screen.findByText('No accounts match.')).toBeInTheDocument();
    fail = true;
    await view.queryClient.refetchQueries();
    expect(await screen.findByRole('alert')).toHaveTextContent('database unavailable');
  });
});

import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ADMIN, apiError, mockApi, renderPage, withSession } from '@/test/render';
import UsagePage from '.';
import { account, entry, KEYS } from './fixtures';

function handlers(overrides = {}) {
  return withSession(ADMIN, {
    'GET /admin/api/keys': () => KEYS,
    'GET /admin/api/accounts': () => ({
      items: [account()],
      total: 1,
      page: 1,
      pageSize: 200,
    }),
    'GET /admin/api/usage/requests': () => ({
      items: [
        entry(),
        entry({ id: 'req-2', outcome: 'error', status: 529, errorCode: 'UPSTREAM_OVERLOADED' }),
      ],
      total: 2,
      page: 1,
      pageSize: 50,
    }),
    ...overrides,
  });
}

const logCalls = (api: ReturnType<typeof mockApi>) =>
  api.calls.filter((c) => c.path.startsWith('/admin/api/usage/requests?'));

describe('usage and request log', () => {
  it('renders the rows with key and account names, tokens and cost', async () => {
    mockApi(handlers());
    renderPage(<UsagePage />, { route: '/admin/usage' });
    const log = await screen.findByTestId('request-log');
    const rows = await within(log).findAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toHaveTextContent('alice-laptop');
    expect(rows[1]).toHaveTextContent('console-main');
    expect(rows[1]).toHaveTextContent('claude-sonnet-4-5');
    expect(rows[1]).toHaveTextContent('1,200 / 300 / 4,100');
    expect(rows[1]).toHaveTextContent('$0.01');
    expect(rows[2]).toHaveTextContent('529 · Error');
  });

  it('sends the filters, and sorting, to the server', async () => {
    const api = mockApi(handlers());
    renderPage(<UsagePage />, { route: '/admin/usage' });
    await screen.findAllByText('alice-laptop');
    await userEvent.selectOptions(screen.getByTestId('filter-key'), 'key-1');
    await userEvent.selectOptions(screen.getByTestId('filter-platform'), 'openai');
    await userEvent.selectOptions(screen.getByTestId('filter-outcome'), 'error');
    await userEvent.type(screen.getByTestId('filter-model'), 'gpt-5');
    await userEvent.type(screen.getByTestId('filter-status'), '529');
    await userEvent.click(screen.getByTestId('filter-apply'));
    await waitFor(() => {
      const last = new URL(logCalls(api).at(-1)!.path, 'http://x').searchParams;
      expect(Object.fromEntries(last)).toMatchObject({
        keyId: 'key-1',
        platform: 'openai',
        outcome: 'error',
        model: 'gpt-5',
        status: '529',
        page: '1',
        sortBy: 'at',
        sortOrder: 'desc',
      });
    });
    await userEvent.click(screen.getByRole('button', { name: /Sort by Cost/ }));
    await waitFor(() => {
      const last = new URL(logCalls(api).at(-1)!.path, 'http://x').searchParams;
      expect(last.get('sortBy')).toBe('costMicros');
      expect(last.get('keyId')).toBe('key-1');
    });
  });

  it('asks for the last 7 days when that range is chosen', async () => {
    const api = mockApi(handlers());
    renderPage(<UsagePage />, { route: '/admin/usage' });
    await screen.findAllByText('alice-laptop');
    await userEvent.selectOptions(screen.getByTestId('filter-range'), 'd7');
    await userEvent.click(screen.getByTestId('filter-apply'));
    await waitFor(() => {
      const last = new URL(logCalls(api).at(-1)!.path, 'http://x').searchParams;
      expect(Number(last.get('to')) - Number(last.get('from'))).toBe(7 * 86_400_000);
    });
  });

  it('says so when nothing matches', async () => {
    mockApi(
      handlers({
        'GET /admin/api/usage/requests': () => ({ items: [], total: 0, page: 1, pageSize: 50 }),
      }),
    );
    renderPage(<UsagePage />, { route: '/admin/usage' });
    expect(
      await screen.findByText('No requests in this range match the filters.'),
    ).toBeInTheDocument();
  });

  it("shows the server's error with a retry", async () => {
    mockApi(
      handlers({
        'GET /admin/api/usage/requests': () =>
          apiError(400, 'INVALID_RANGE', '`from` must be before `to`'),
      }),
    );
    renderPage(<UsagePage />, { route: '/admin/usage' });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('`from` must be before `to`');
    expect(within(alert).getByRole('button', { name: 'Retry' })).toBeInTheDocument();
  });

  it("opens a request's detail from its row, read from the server", async () => {
    const api = mockApi(
      handlers({
        'GET /admin/api/usage/requests/req-2': () =>
          entry({
            id: 'req-2',
            outcome: 'error',
            status: 529,
            errorCode: 'UPSTREAM_OVERLOADED',
            attempts: 2,
          }),
      }),
    );
    renderPage(<UsagePage />, { route: '/admin/usage' });
    const log = await screen.findByTestId('request-log');
    const rows = await within(log).findAllByRole('row');
    await userEvent.click(within(rows[2]).getByRole('button'));
    const detail = await screen.findByTestId('request-detail');
    expect(detail).toHaveTextContent('UPSTREAM_OVERLOADED');
    expect(detail).toHaveTextContent('2 attempts: failed over');
    expect(within(detail).getByRole('link', { name: 'console-main' })).toHaveAttribute(
      'href',
      '/admin/accounts/acct-1',
    );
    expect(screen.getByTestId('request-detail-tokens')).toHaveTextContent('5,600');
    expect(api.calls.some((c) => c.path === '/admin/api/usage/requests/req-2')).toBe(true);
  });

  it('says a request is gone when the server does not have it', async () => {
    mockApi(
      handlers({
        'GET /admin/api/usage/requests/req-9': () =>
          apiError(404, 'REQUEST_NOT_FOUND', 'no request'),
      }),
    );
    renderPage(<UsagePage />, { route: '/admin/usage/requests/req-9' });
    expect(
      await screen.findByText('This request is not in the log (it may have been pruned).'),
    ).toBeInTheDocument();
  });
});

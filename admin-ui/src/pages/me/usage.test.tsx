import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { mockApi, renderPage, withSession } from '@/test/render';
import { entry, totals } from '@/pages/usage/fixtures';
import MyUsagePage from './usage';

const USER = { id: 'u-1', username: 'alice', role: 'user' as const };

function handlers(overrides = {}) {
  return withSession(USER, {
    'GET /admin/api/me/keys': () => ({
      items: [{ id: 'key-1', name: 'alice-laptop' }],
      total: 1,
      page: 1,
      pageSize: 200,
    }),
    'GET /admin/api/me/usage/summary': () => ({
      from: '2025-06-01T00:00:00.000Z',
      to: '2025-06-08T00:00:00.000Z',
      ...totals({ requests: 42, errors: 2, costMicros: 3_250_000, totalTokens: 90_000 }),
    }),
    'GET /admin/api/me/usage/timeseries': () => ({
      bucket: 'hour',
      dim: 'key',
      dimId: '*',
      from: '2025-06-01T00:00:00.000Z',
      to: '2025-06-08T00:00:00.000Z',
      points: [],
    }),
    'GET /admin/api/me/usage/requests': () => ({
      items: [entry({ accountId: null })],
      total: 1,
      page: 1,
      pageSize: 20,
    }),
    ...overrides,
  });
}

describe('my usage', () => {
  it('shows my totals and my requests, without the upstream account', async () => {
    mockApi(handlers());
    renderPage(<MyUsagePage />, { route: '/admin/me/usage' });
    await waitFor(() => expect(screen.getByTestId('my-requests')).toHaveTextContent('42'));
    expect(screen.getByTestId('my-cost')).toHaveTextContent('$3.25');
    const log = screen.getByTestId('my-request-log');
    const rows = await within(log).findAllByRole('row');
    expect(rows[1]).toHaveTextContent('alice-laptop');
    expect(within(log).queryByText('Account')).toBeNull();
    expect(screen.getByText('No traffic in this range.')).toBeInTheDocument();
  });

  it('narrows every view to one of my keys', async () => {
    const api = mockApi(handlers());
    renderPage(<MyUsagePage />, { route: '/admin/me/usage' });
    await screen.findByRole('option', { name: 'alice-laptop' });
    await userEvent.selectOptions(screen.getByTestId('my-usage-key'), 'key-1');
    await waitFor(() => {
      for (const route of ['summary', 'timeseries', 'requests']) {
        expect(
          api.calls.some(
            (c) =>
              c.path.startsWith(`/admin/api/me/usage/${route}?`) && c.path.includes('keyId=key-1'),
          ),
        ).toBe(true);
      }
    });
  });

  it("opens a request's detail from the row data", async () => {
    mockApi(handlers());
    renderPage(<MyUsagePage />, { route: '/admin/me/usage' });
    const log = await screen.findByTestId('my-request-log');
    const rows = await within(log).findAllByRole('row');
    await userEvent.click(within(rows[1]).getByRole('button'));
    const detail = await screen.findByTestId('request-detail');
    expect(detail).toHaveTextContent('claude-sonnet-4-5');
    expect(screen.getByTestId('request-detail-cost')).toHaveTextContent('$0.01');
  });
});

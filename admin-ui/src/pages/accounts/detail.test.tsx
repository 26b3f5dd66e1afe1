import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ADMIN, mockApi, renderPage, withSession } from '@/test/render';
import AccountsPage from '.';
import { detail, GROUPS, TYPES } from './fixtures';

const COOLING = detail({
  routable: false,
  notRoutableBecause: 'cooling down until 2030-01-01T00:05:00.000Z: overloaded (529)',
  models: { 'claude-x': 'claude-y' },
  healthStates: [
    {
      state: 'cooling',
      scope: 'account',
      until: '2030-01-01T00:05:00.000Z',
      reason: 'overloaded (529)',
    },
    {
      state: 'rate_limited',
      scope: 'opus',
      until: '2030-01-01T01:00:00.000Z',
      reason: 'rate limited for opus models',
    },
  ],
  usageWindows: [
    { name: '5h', usedPercent: 42.5, resetsAt: '2030-01-01T05:00:00.000Z', windowMinutes: 300 },
    { name: 'weekly', usedPercent: 91, resetsAt: null, windowMinutes: 10080 },
  ],
});

const HISTORY = [
  {
    at: '2030-01-01T00:00:00.000Z',
    state: 'cooling',
    scope: 'account',
    until: '2030-01-01T00:05:00.000Z',
    reason: 'overloaded (529)',
  },
  {
    at: '2029-12-31T00:00:00.000Z',
    state: 'ok',
    scope: null,
    until: null,
    reason: 'reset by admin',
  },
];

function handlers(extra: Record<string, () => unknown> = {}) {
  return withSession(ADMIN, {
    'GET /admin/api/account-types': () => ({ items: TYPES }),
    'GET /admin/api/account-groups': () => ({ items: GROUPS, total: 1, page: 1, pageSize: 200 }),
    'GET /admin/api/accounts/a-1': () => COOLING,
    'GET /admin/api/accounts/a-1/health-history': () => ({ items: HISTORY }),
    ...extra,
  });
}

function renderDetail() {
  return renderPage(<AccountsPage />, { route: '/admin/accounts/a-1', path: '/admin/accounts/*' });
}

describe('account detail', { timeout: 20_000 }, () => {
  it('shows the state with its reason and end, each health state, windows and history', async () => {
    mockApi(handlers());
    renderDetail();
    const state = await screen.findByTestId('account-state');
    expect(state).toHaveAttribute('data-state', 'cooling');
    expect(state).toHaveTextContent('overloaded (529)');
    expect(within(state).getByTestId('account-state-until')).toHaveTextContent('2030');
    const states = screen.getByTestId('account-health-states');
    expect(states).toHaveTextContent('whole account');
    expect(states).toHaveTextContent('opus models');
    expect(states).toHaveTextContent('rate limited for opus models');

    const windows = screen.getByTestId('account-usage-windows');
    expect(within(windows).getByRole('meter', { name: '5-hour window' })).toHaveAttribute(
      'aria-valuenow',
      '42.5',
    );
    expect(windows).toHaveTextContent('reset time not reported');
    expect(screen.getByTestId('account-model-mapping')).toHaveTextContent('claude-x → claude-y');
    expect(await screen.findByText('team-a')).toBeInTheDocument();

    const history = await screen.findByRole('table', { name: 'Health history' });
    const rows = within(history).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toHaveTextContent('overloaded (529)');
    expect(rows[2]).toHaveTextContent('reset by admin');
  });

  it('tests the account and resets its health', async () => {
    const api = mockApi(
      handlers({
        'POST /admin/api/accounts/a-1/test': () => ({
          ok: true,
          status: 200,
          latencyMs: 1830,
          model: 'claude-3-5-haiku-latest',
          message: 'ok',
        }),
        'POST /admin/api/accounts/a-1/reset-health': () => ({ ...COOLING, healthStates: [] }),
      }),
    );
    renderDetail();
    await userEvent.click(await screen.findByTestId('account-test'));
    const result = await screen.findByTestId('account-test-result');
    await waitFor(() => expect(result).toHaveAttribute('data-ok', 'true'));
    expect(result).toHaveTextContent('The upstream answered.');
    expect(result).toHaveTextContent('1.8 s');
    expect(result).toHaveTextContent('claude-3-5-haiku-latest');

    await userEvent.click(screen.getByTestId('account-reset-health'));
    await waitFor(() =>
      expect(api.calls.some((call) => call.path === '/admin/api/accounts/a-1/reset-health')).toBe(
        true,
      ),
    );
  });
});

import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ADMIN, apiError, mockApi, renderPage, withSession } from '@/test/render';
import { account, KEYS, totals } from '@/pages/usage/fixtures';
import DashboardPage from '.';

const PERFORMANCE = {
  from: '2025-06-01T00:00:00.000Z',
  to: '2025-06-02T00:00:00.000Z',
  requests: 200,
  outcomes: { ok: 190, error: 6, truncated: 1, aborted: 3 },
  errors: 10,
  errorRate: 0.05,
  failovers: 4,
  failoverRate: 0.02,
  ttfbMs: { samples: 190, p50: 640, p95: 2100, p99: 4800 },
  latencyMs: { samples: 200, p50: 5200, p95: 31000, p99: 58000 },
};

const COOLING = account({
  id: 'acct-2',
  name: 'console-cool',
  routable: false,
  notRoutableBecause: 'cooling down until …',
});
const AUTH_FAILED = account({
  id: 'acct-3',
  name: 'oauth-dead',
  status: 'auth_failed',
  statusReason: 'refresh token revoked',
  routable: false,
  notRoutableBecause: 'authentication failed: refresh token revoked',
});

function handlers(overrides = {}) {
  return withSession(ADMIN, {
    'GET /admin/api/keys': () => KEYS,
    'GET /admin/api/usage/summary': () => ({
      from: PERFORMANCE.from,
      to: PERFORMANCE.to,
      ...totals({
        requests: 200,
        errors: 10,
        inputTokens: 120_000,
        outputTokens: 30_000,
        cacheReadTokens: 400_000,
        totalTokens: 550_000,
        costMicros: 12_500_000,
      }),
    }),
    'GET /admin/api/usage/performance': () => PERFORMANCE,
    'GET /admin/api/usage/live': () => ({
      at: '2025-06-02T00:00:00.000Z',
      instance: 'host-a',
      inFlight: 7,
      streams: 5,
    }),
    'GET /admin/api/usage/timeseries': (_: Request, url: URL) => ({
      bucket: 'hour',
      dim: url.searchParams.get('dim') ?? 'all',
      dimId: url.searchParams.get('dimId') ?? '*',
      from: PERFORMANCE.from,
      to: PERFORMANCE.to,
      points: [
        { start: '2025-06-01T00:00:00.000Z', ...totals({ requests: 3 }) },
        { start: '2025-06-01T01:00:00.000Z', ...totals({ requests: 5 }) },
      ],
    }),
    'GET /admin/api/usage/breakdown': () => ({
      dim: 'model',
      from: PERFORMANCE.from,
      to: PERFORMANCE.to,
      items: [{ id: 'claude-sonnet-4-5', ...totals({ requests: 150, costMicros: 9_000_000 }) }],
    }),
    'GET /admin/api/accounts': () => ({
      items: [account(), COOLING, AUTH_FAILED],
      total: 3,
      page: 1,
      pageSize: 200,
    }),
    'GET /admin/api/accounts/acct-2': () => ({
      ...COOLING,
      healthStates: [
        {
          state: 'cooling',
          scope: 'account',
          until: '2025-06-02T00:05:00.000Z',
          reason: 'upstream 529 overloaded',
        },
      ],
      recentHealthEvents: [],
    }),
    ...overrides,
  });
}

describe('dashboard', () => {
  it('shows the totals, rates, percentiles and what is in flight now', async () => {
    mockApi(handlers());
    renderPage(<DashboardPage />, { route: '/admin/dashboard' });
    await waitFor(() => expect(screen.getByTestId('dash-requests')).toHaveTextContent('200'));
    expect(screen.getByTestId('dash-cost')).toHaveTextContent('$12.50');
    expect(screen.getByTestId('dash-tokens')).toHaveTextContent('550k');
    await waitFor(() => expect(screen.getByTestId('dash-error-rate')).toHaveTextContent('5%'));
    expect(screen.getByTestId('dash-failover-rate')).toHaveTextContent('2%');
    expect(screen.getByTestId('dash-ttfb-p50')).toHaveTextContent('640 ms');
    expect(screen.getByTestId('dash-ttfb-p99')).toHaveTextContent('4.8 s');
    expect(screen.getByTestId('dash-tokens-cache-read')).toHaveTextContent('400k');
    await waitFor(() => expect(screen.getByTestId('dash-inflight')).toHaveTextContent('7'));
    expect(screen.getByTestId('dash-streams')).toHaveTextContent('5 streaming');
  });

  it('counts accounts by state and lists those that need action with reason and until', async () => {
    mockApi(handlers());
    renderPage(<DashboardPage />, { route: '/admin/dashboard' });
    const list = await screen.findByTestId('health-need-action');
    await waitFor(() => expect(list).toHaveTextContent('upstream 529 overloaded'));
    expect(list).toHaveTextContent('refresh token revoked');
    expect(within(list).getByRole('link', { name: 'console-cool' })).toHaveAttribute(
      'href',
      '/admin/accounts/acct-2',
    );
    expect(list).toHaveTextContent(/until .*2025/);
    expect(screen.getByTestId('health-count-ok')).toHaveTextContent('Routable: 1');
    expect(screen.getByTestId('health-count-cooling')).toHaveTextContent('Cooling: 1');
    expect(screen.getByTestId('health-count-auth_failed')).toHaveTextContent('Auth failed: 1');
  });

  it('asks for a series per top group when grouped, and day buckets over 30 days', async () => {
    const api = mockApi(handlers());
    renderPage(<DashboardPage />, { route: '/admin/dashboard' });
    await screen.findByTestId('dash-requests');
    await userEvent.selectOptions(screen.getByTestId('group-by'), 'model');
    await waitFor(() =>
      expect(
        api.calls.some(
          (c) =>
            c.path.startsWith('/admin/api/usage/timeseries?') &&
            c.path.includes('dim=model') &&
            c.path.includes('dimId=claude-sonnet-4-5'),
        ),
      ).toBe(true),
    );
    expect(await screen.findByRole('table', { name: 'Usage by Model' })).toHaveTextContent('$9.00');
    await userEvent.selectOptions(screen.getByTestId('range'), 'd30');
    await waitFor(() =>
      expect(
        api.calls.some(
          (c) => c.path.startsWith('/admin/api/usage/timeseries?') && c.path.includes('bucket=day'),
        ),
      ).toBe(true),
    );
  });

  it("shows the server's error when the summary fails", async () => {
    mockApi(
      handlers({
        'GET /admin/api/usage/summary': () => apiError(403, 'FORBIDDEN', 'forbidden'),
      }),
    );
    renderPage(<DashboardPage />, { route: '/admin/dashboard' });
    expect(await screen.findByText('Your role may not do this.')).toBeInTheDocument();
  });
});

import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import KeysPage from '@/pages/keys';
import { ADMIN, apiError, json, mockApi, renderPage, withSession } from '@/test/render';
import type { ApiKey } from './key-form-model';
import { SignedIn } from '@/test/signed-in';

const ROUTE = { path: '/admin/keys/*' };

function key(overrides: Partial<ApiKey> = {}): ApiKey {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    name: 'laptop',
    description: null,
    tags: [],
    owner: null,
    userId: null,
    keyHint: 'sk-sy-…a1b2',
    enabled: true,
    status: 'active',
    expiresAt: null,
    expiresAfterDays: null,
    effectiveExpiresAt: null,
    firstUsedAt: null,
    lastUsedAt: null,
    permissions: ['claude', 'openai', 'gemini', 'droid'],
    modelPolicy: null,
    allowedClients: null,
    bindings: {},
    limits: {},
    priceMultiplier: 1,
    reservationPolicy: 'strict',
    createdAt: '2025-06-01T00:00:00.000Z',
    updatedAt: '2025-06-01T00:00:00.000Z',
    deletedAt: null,
    ...overrides,
  };
}

const SECRET = 'sk-sy-0123456789abcdefghijABCDEFGHIJ0123456789';

function listOf(items: ApiKey[]) {
  return () => ({ items, total: items.length, page: 1, pageSize: 20 });
}

async function fill(label: string | RegExp, value: string) {
  const input = await screen.findByLabelText(label);
  await userEvent.clear(input);
  await userEvent.type(input, value);
}

describe('API keys: create form', () => {
  it('sends every limit and budget as the API expects (costs in micro-dollars)', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'POST /admin/api/keys': () => json({ ...key({ name: 'team-a' }), secret: SECRET }, 201),
        'GET /admin/api/keys': listOf([]),
      }),
    );
    renderPage(
      <SignedIn>
        <KeysPage />
      </SignedIn>,
      { route: '/admin/keys/new', ...ROUTE },
    );
    await fill('Name *', 'team-a');
    await fill('Tags', 'ci, team-a');
    await fill('Owner', 'alice');
    await fill(/Window length/, '60');
    await fill('Requests per window', '100');
    await fill('Tokens per window', '500000');
    await fill('Cost per window (USD)', '2.5');
    await fill('Requests in flight at once', '4');
    await fill('Daily budget (USD)', '10');
    await fill('Total budget (USD)', '100');
    await fill('Weekly budget (USD)', '50');
    await userEvent.selectOptions(screen.getByLabelText('Week starts on'), 'Sunday');
    await fill('Week starts at hour (UTC)', '8');
    await userEvent.selectOptions(screen.getByLabelText('Models'), 'allow');
    await userEvent.type(screen.getByLabelText('Model patterns'), 'claude-*{enter}gpt-5');
    await userEvent.click(screen.getByLabelText('Gemini'));
    await userEvent.selectOptions(screen.getByLabelText('Expiry'), 'afterDays');
    await fill('Days after its first use', '30');
    await fill('Price multiplier', '1.5');
    await userEvent.selectOptions(
      screen.getByLabelText('Reservation against cost budgets'),
      'estimate',
    );
    await userEvent.click(screen.getByRole('button', { name: 'Create' }));

    await waitFor(() => expect(api.calls.some((c) => c.method === 'POST')).toBe(true));
    const post = api.calls.find((c) => c.method === 'POST');
    expect(post).toMatchObject({ path: '/admin/api/keys' });
    expect(post?.body).toEqual({
      name: 'team-a',
      tags: ['ci', 'team-a'],
      owner: 'alice',
      enabled: true,
      expiresAfterDays: 30,
      permissions: ['claude', 'openai', 'droid'],
      modelPolicy: { mode: 'allow', patterns: ['claude-*', 'gpt-5'] },
      limits: {
        windowMinutes: 60,
        windowRequests: 100,
        windowTokens: 500000,
        windowCostMicros: 2_500_000,
        concurrency: 4,
        dailyCostMicros: 10_000_000,
        weeklyCostMicros: 50_000_000,
        weeklyResetDay: 0,
        weeklyResetHour: 8,
        totalCostMicros: 100_000_000,
      },
      priceMultiplier: 1.5,
      reservationPolicy: 'estimate',
    });
    // Many fields typed key by key: slow on a loaded machine, not waiting on any clock.
  }, 30_000);

  it("shows the server's validation message at its field", async () => {
    mockApi(
      withSession(ADMIN, {
        'POST /admin/api/keys': () =>
          apiError(400, 'VALIDATION_FAILED', 'limits.concurrency must not be less than 1'),
      }),
    );
    renderPage(
      <SignedIn>
        <KeysPage />
      </SignedIn>,
      { route: '/admin/keys/new', ...ROUTE },
    );
    await fill('Name *', 'x');
    await fill('Requests in flight at once', '0');
    await userEvent.click(screen.getByRole('button', { name: 'Create' }));
    const input = screen.getByLabelText('Requests in flight at once');
    await waitFor(() => expect(input).toHaveAttribute('aria-invalid', 'true'));
    expect(input).toHaveAccessibleDescription('limits.concurrency must not be less than 1');
  });

  it('puts a key policy error (window limit without a window) at the field it names', async () => {
    mockApi(
      withSession(ADMIN, {
        'POST /admin/api/keys': () =>
          apiError(400, 'INVALID_KEY_POLICY', 'limits.windowRequests needs limits.windowMinutes'),
      }),
    );
    renderPage(
      <SignedIn>
        <KeysPage />
      </SignedIn>,
      { route: '/admin/keys/new', ...ROUTE },
    );
    await fill('Name *', 'x');
    await fill('Requests per window', '5');
    await userEvent.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(screen.getByLabelText('Requests per window')).toHaveAccessibleDescription(
        'limits.windowRequests needs limits.windowMinutes',
      ),
    );
  });

  it('shows the secret once, in a dialog whose Copy button copies it, with client snippets', async () => {
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, 'writeText');
    mockApi(
      withSession(ADMIN, {
        'POST /admin/api/keys': () => json({ ...key({ name: 'ci' }), secret: SECRET }, 201),
        'GET /admin/api/keys': listOf([key({ name: 'ci' })]),
        'GET /admin/api/keys/budgets': () => ({ items: [] }),
      }),
    );
    renderPage(
      <SignedIn>
        <KeysPage />
      </SignedIn>,
      { route: '/admin/keys/new', ...ROUTE },
    );
    await user.type(await screen.findByLabelText('Name *'), 'ci');
    await user.click(screen.getByRole('button', { name: 'Create' }));

    const dialog = await screen.findByRole('dialog', { name: 'Key ci created' });
    expect(within(dialog).getByTestId('key-secret')).toHaveTextContent(SECRET);
    await user.click(within(dialog).getByRole('button', { name: 'Copy' }));
    expect(writeText).toHaveBeenCalledWith(SECRET);
    // The snippets carry this server's address and the secret.
    const snippets = within(dialog).getByTestId('client-snippets');
    expect(snippets).toHaveTextContent(`ANTHROPIC_BASE_URL=${location.origin}`);
    expect(snippets).toHaveTextContent(`ANTHROPIC_API_KEY=${SECRET}`);

    await user.click(within(dialog).getByRole('button', { name: 'Done' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    // Gone for good: the list never shows it.
    expect(await screen.findByRole('cell', { name: /ci/ })).toBeInTheDocument();
    expect(document.body).not.toHaveTextContent(SECRET);
  });
});

describe('API keys: list', () => {
  const limited = key({
    id: '22222222-2222-4222-8222-222222222222',
    name: 'budgeted',
    limits: { dailyCostMicros: 10_000_000, windowMinutes: 60, windowRequests: 100 },
  });
  const plain = key({ id: '33333333-3333-4333-8333-333333333333', name: 'plain' });

  it('shows usage bars against each key’s limits and budgets', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/keys': listOf([limited, plain]),
        'GET /admin/api/keys/budgets': () => ({
          items: [
            {
              id: limited.id,
              budgets: {
                window: { windowMinutes: 60, resetAtMs: null, requests: { limit: 100, used: 85 } },
                daily: { limitMicros: 10_000_000, spentMicros: 2_500_000, resetAtMs: null },
              },
            },
            { id: plain.id, budgets: {} },
          ],
        }),
      }),
    );
    renderPage(
      <SignedIn>
        <KeysPage />
      </SignedIn>,
      { route: '/admin/keys', ...ROUTE },
    );
    const daily = await screen.findByRole('meter', { name: /Today: \$2\.50 \/ \$10\.00/ });
    expect(daily).toHaveAttribute('aria-valuenow', '2500000');
    expect(daily).toHaveAttribute('aria-valuemax', '10000000');
    expect(screen.getByRole('meter', { name: /Requests: 85 \/ 100 per 60 min/ })).toBeVisible();
    const plainRow = screen.getByRole('row', { name: /plain/ });
    expect(within(plainRow).getByText('No limits')).toBeVisible();
    const budgetsCall = api.calls.find((c) => c.path.startsWith('/admin/api/keys/budgets'));
    expect(new URL(budgetsCall!.path, location.origin).searchParams.getAll('ids')).toEqual([
      limited.id,
      plain.id,
    ]);
  });

  it('sends the selected keys to the batch route', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/keys': listOf([limited, plain]),
        'GET /admin/api/keys/budgets': () => ({ items: [] }),
        'POST /admin/api/keys/batch-action': () => ({
          items: [{ ...limited, status: 'disabled' }],
          failed: [],
        }),
      }),
    );
    renderPage(
      <SignedIn>
        <KeysPage />
      </SignedIn>,
      { route: '/admin/keys', ...ROUTE },
    );
    const row = await screen.findByRole('row', { name: /budgeted/ });
    await userEvent.click(within(row).getByRole('checkbox', { name: 'Select row' }));
    const toolbar = screen.getByRole('toolbar', { name: '1 selected' });
    await userEvent.click(within(toolbar).getByRole('button', { name: 'Disable' }));
    await waitFor(() =>
      expect(api.calls.find((c) => c.path === '/admin/api/keys/batch-action')?.body).toEqual({
        action: 'disable',
        ids: [limited.id],
      }),
    );

    // Select all, then delete after confirming.
    await userEvent.click(await screen.findByRole('checkbox', { name: 'Select all' }));
    await userEvent.click(
      within(screen.getByRole('toolbar', { name: '2 selected' })).getByRole('button', {
        name: 'Delete',
      }),
    );
    await userEvent.click(
      within(await screen.findByRole('dialog')).getByRole('button', { name: 'Delete' }),
    );
    await waitFor(() =>
      expect(
        api.calls.filter((c) => c.path === '/admin/api/keys/batch-action').at(-1)?.body,
      ).toEqual({ action: 'delete', ids: [limited.id, plain.id] }),
    );
  });

  it('shows a viewer the keys without any change controls', async () => {
    mockApi(
      withSession(
        { id: 'u-v', username: 'val', role: 'viewer' },
        {
          'GET /admin/api/keys': listOf([plain]),
          'GET /admin/api/keys/budgets': () => ({ items: [] }),
        },
      ),
    );
    renderPage(
      <SignedIn>
        <KeysPage />
      </SignedIn>,
      { route: '/admin/keys', ...ROUTE },
    );
    await screen.findByRole('row', { name: /plain/ });
    expect(screen.queryByRole('link', { name: 'Create key' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Rotate' })).toBeNull();
    expect(screen.queryByRole('checkbox')).toBeNull();
  });

  it('shows the empty state and the error state', async () => {
    mockApi(
      withSession(ADMIN, {
        'GET /admin/api/keys': () => apiError(500, 'INTERNAL_ERROR', 'internal error'),
      }),
    );
    renderPage(
      <SignedIn>
        <KeysPage />
      </SignedIn>,
      { route: '/admin/keys', ...ROUTE },
    );
    expect(await screen.findByRole('alert')).toHaveTextContent('internal error');
  });
});

import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import MyKeysPage from '@/pages/me/keys';
import { SignedIn } from '@/test/signed-in';
import { apiError, json, mockApi, renderPage, withSession } from '@/test/render';

const USER = { id: 'u-sam', username: 'sam', role: 'user' as const };
const ROUTE = { path: '/admin/me/keys/*' };
const CAPS = {
  maxKeys: 3,
  limits: { dailyCostMicros: 1_000_000, concurrency: 2 },
  models: ['claude-*'],
  platforms: ['claude'],
};
const OWN = {
  id: '44444444-4444-4444-8444-444444444444',
  name: 'sam-laptop',
  description: null,
  tags: [],
  owner: 'sam',
  userId: 'u-sam',
  keyHint: 'sk-sy-…c3d4',
  enabled: true,
  status: 'active',
  expiresAt: null,
  expiresAfterDays: null,
  effectiveExpiresAt: null,
  firstUsedAt: null,
  lastUsedAt: null,
  permissions: ['claude'],
  modelPolicy: { mode: 'allow', patterns: ['claude-*'] },
  allowedClients: null,
  bindings: {},
  limits: { dailyCostMicros: 1_000_000, concurrency: 2 },
  priceMultiplier: 1,
  reservationPolicy: 'strict',
  createdAt: '2025-06-01T00:00:00.000Z',
  updatedAt: '2025-06-01T00:00:00.000Z',
  deletedAt: null,
};

describe('my keys', () => {
  it('lists only the /me keys and shows the caps', async () => {
    const api = mockApi(
      withSession(USER, {
        'GET /admin/api/me/caps': () => CAPS,
        'GET /admin/api/me/keys': () => ({ items: [OWN], total: 1, page: 1, pageSize: 50 }),
      }),
    );
    renderPage(
      <SignedIn>
        <MyKeysPage />
      </SignedIn>,
      { route: '/admin/me/keys', ...ROUTE },
    );
    expect(await screen.findByRole('cell', { name: /sam-laptop/ })).toBeVisible();
    const caps = await screen.findByTestId('my-caps');
    expect(caps).toHaveTextContent('1 of 3 keys');
    expect(caps).toHaveTextContent('claude-*');
    expect(caps).toHaveTextContent('$1.00 a day');
    expect(caps).toHaveTextContent('2 in flight');
    // A user's page never asks the admin routes.
    expect(api.calls.every((c) => !c.path.startsWith('/admin/api/keys'))).toBe(true);
  });

  it("shows the server's cap refusal in words, at the field and above the buttons", async () => {
    const api = mockApi(
      withSession(USER, {
        'GET /admin/api/me/caps': () => CAPS,
        'POST /admin/api/me/keys': () =>
          apiError(
            422,
            'USER_CAP_EXCEEDED',
            'the key exceeds the caps set for this user: limits.dailyCostMicros: 5000000 is above the cap 1000000',
            {
              violations: [
                { cap: 'limits.dailyCostMicros', limit: 1_000_000, requested: 5_000_000 },
                { cap: 'maxKeys', limit: 3, requested: 4 },
              ],
            },
          ),
      }),
    );
    renderPage(
      <SignedIn>
        <MyKeysPage />
      </SignedIn>,
      { route: '/admin/me/keys/new', ...ROUTE },
    );
    await userEvent.type(await screen.findByLabelText('Name *'), 'big');
    // The caps are shown beside the limits.
    expect(screen.getByLabelText('Daily budget (USD)')).toHaveAccessibleDescription(
      'Per UTC day. Cap: $1.00',
    );
    await userEvent.type(screen.getByLabelText('Daily budget (USD)'), '5');
    await userEvent.click(screen.getByRole('button', { name: 'Create' }));

    const error = await screen.findByTestId('cap-error');
    expect(error).toHaveTextContent('The key is outside your caps:');
    expect(
      within(error)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual([
      'Daily budget (USD): $5.00 asked, your cap is $1.00.',
      'You may hold at most 3 keys; this one would make 4.',
    ]);
    expect(screen.getByLabelText('Daily budget (USD)')).toHaveAttribute('aria-invalid', 'true');
    const post = api.calls.find((c) => c.method === 'POST');
    expect(post?.path).toBe('/admin/api/me/keys');
    expect(post?.body).toEqual({
      name: 'big',
      enabled: true,
      permissions: ['claude'],
      limits: { dailyCostMicros: 5_000_000 },
    });
  });

  it('shows the secret once after creating a key', async () => {
    mockApi(
      withSession(USER, {
        'GET /admin/api/me/caps': () => CAPS,
        'GET /admin/api/me/keys': () => ({ items: [OWN], total: 1, page: 1, pageSize: 50 }),
        'POST /admin/api/me/keys': () =>
          json({ ...OWN, secret: 'sk-sy-mine0123456789012345678901234567890123' }, 201),
      }),
    );
    renderPage(
      <SignedIn>
        <MyKeysPage />
      </SignedIn>,
      { route: '/admin/me/keys/new', ...ROUTE },
    );
    await userEvent.type(await screen.findByLabelText('Name *'), 'sam-laptop');
    await userEvent.click(screen.getByRole('button', { name: 'Create' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByTestId('key-secret')).toHaveTextContent(
      'sk-sy-mine0123456789012345678901234567890123',
    );
    await userEvent.click(within(dialog).getByRole('button', { name: 'Done' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });
});

import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ADMIN, apiError, mockApi, renderPage, withSession } from '@/test/render';
import { SignedIn } from '@/test/signed-in';
import UsersPage, { type User } from './index';

// Forms typed key by key, and first renders, take a while when the suites run in parallel on a
// busy machine: wait longer for events (never for the clock).

const VIEWER = { id: 'u-viewer', username: 'vera', role: 'viewer' as const };

function user(overrides: Partial<User> = {}): User {
  return {
    id: '5f0c0000-0000-4000-8000-000000000001',
    username: 'sam',
    role: 'user',
    disabled: false,
    authSource: 'local',
    caps: { maxKeys: 5, limits: {}, models: null, platforms: null },
    createdAt: '2025-06-01T00:00:00.000Z',
    updatedAt: '2025-06-01T00:00:00.000Z',
    lastLoginAt: null,
    ...overrides,
  };
}

const page = (items: User[]) => ({ items, total: items.length, page: 1, pageSize: 20 });

function show() {
  return renderPage(
    <SignedIn>
      <UsersPage />
    </SignedIn>,
  );
}

describe('users page', () => {
  it('lists users with their role, sign-in source and last login', async () => {
    mockApi(
      withSession(ADMIN, {
        'GET /admin/api/users': () =>
          page([
            user(),
            user({
              id: '5f0c0000-0000-4000-8000-000000000002',
              username: 'dana',
              role: 'operator',
              authSource: 'ldap',
              disabled: true,
              lastLoginAt: '2025-06-02T10:00:00.000Z',
            }),
          ]),
      }),
    );
    show();
    const row = (await screen.findByText('dana')).closest('tr')!;
    expect(within(row).getByText('LDAP')).toBeInTheDocument();
    expect(within(row).getByText('Operator')).toBeInTheDocument();
    expect(within(row).getByText('Disabled')).toBeInTheDocument();
    expect(within(row).queryByText('Never')).toBeNull();
    const sam = screen.getByText('sam').closest('tr')!;
    expect(within(sam).getByText('Local')).toBeInTheDocument();
    expect(within(sam).getByText('Never')).toBeInTheDocument();
  });

  it('sends the search, role and status filters in the query', async () => {
    const api = mockApi(withSession(ADMIN, { 'GET /admin/api/users': () => page([user()]) }));
    show();
    await screen.findByText('sam');
    await userEvent.type(screen.getByLabelText('Search users'), 'da{Enter}');
    await userEvent.selectOptions(screen.getByLabelText('Role'), 'operator');
    await userEvent.selectOptions(screen.getByLabelText('Status'), 'disabled');
    await waitFor(() => {
      const last = api.calls.filter((c) => c.path.startsWith('/admin/api/users')).at(-1)!;
      const query = new URL(last.path, 'http://x').searchParams;
      expect(query.get('search')).toBe('da');
      expect(query.get('role')).toBe('operator');
      expect(query.get('disabled')).toBe('true');
      expect(query.get('page')).toBe('1');
    });
  });

  it('shows the empty and the error state', async () => {
    mockApi(withSession(ADMIN, { 'GET /admin/api/users': () => page([]) }));
    const { unmount } = show();
    expect(await screen.findByText('No users match.')).toBeInTheDocument();
    unmount();
    mockApi(
      withSession(ADMIN, {
        'GET /admin/api/users': () => apiError(500, 'INTERNAL_ERROR', 'internal error'),
      }),
    );
    show();
    expect(await screen.findByRole('alert')).toHaveTextContent('internal error');
  });

  it('creates a user with caps and shows the generated password once', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/users': () => page([]),
        'POST /admin/api/users': () => ({
          ...user({ username: 'ana' }),
          generatedPassword: 'Gen3rated-Pw',
        }),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'New user' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText(/^Username/), 'ana');
    await userEvent.selectOptions(within(dialog).getByLabelText('Role'), 'operator');
    const maxKeys = within(dialog).getByLabelText('Keys at most');
    await userEvent.clear(maxKeys);
    await userEvent.type(maxKeys, '3');
    await userEvent.type(within(dialog).getByLabelText('Daily cost (USD)'), '2.5');
    await userEvent.type(within(dialog).getByLabelText('Models allowed'), 'claude-*, gpt-4o');
    await userEvent.click(within(dialog).getByLabelText('claude'));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(await screen.findByTestId('generated-password')).toHaveTextContent('Gen3rated-Pw');
    expect(api.calls.find((c) => c.method === 'POST')!.body).toEqual({
      username: 'ana',
      role: 'operator',
      caps: {
        maxKeys: 3,
        limits: { dailyCostMicros: 2_500_000 },
        models: ['claude-*', 'gpt-4o'],
        platforms: ['claude'],
      },
    });
  });

  it("shows the server's validation messages at their fields", async () => {
    mockApi(
      withSession(ADMIN, {
        'GET /admin/api/users': () => page([]),
        'POST /admin/api/users': () =>
          apiError(
            400,
            'VALIDATION_FAILED',
            'username must be 1-64 of letters, digits and ._@- (starting with a letter or digit); caps.limits.windowMinutes must not be greater than 10080',
          ),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'New user' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText(/^Username/), '-bad');
    await userEvent.type(within(dialog).getByLabelText(/^Window \(minutes\)/), '99999');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(within(dialog).getByLabelText(/^Username/)).toHaveAccessibleDescription(
        /username must be 1-64/,
      ),
    );
    expect(within(dialog).getByLabelText(/^Window \(minutes\)/)).toHaveAccessibleDescription(
      'caps.limits.windowMinutes must not be greater than 10080',
    );
  });

  it('puts a taken username at the username field', async () => {
    mockApi(
      withSession(ADMIN, {
        'GET /admin/api/users': () => page([]),
        'POST /admin/api/users': () =>
          apiError(409, 'USERNAME_TAKEN', 'a user named "sam" already exists'),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'New user' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText(/^Username/), 'sam');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(within(dialog).getByLabelText(/^Username/)).toHaveAccessibleDescription(
        'a user named "sam" already exists',
      ),
    );
  });

  it('edits role, disabled and caps, removing a cleared ceiling with null', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/users': () =>
          page([
            user({
              caps: {
                maxKeys: 5,
                limits: { concurrency: 2 } as never,
                models: null,
                platforms: null,
              },
            }),
          ]),
        'PATCH /admin/api/users/5f0c0000-0000-4000-8000-000000000001': () => user(),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'Edit sam' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.selectOptions(within(dialog).getByLabelText('Role'), 'viewer');
    await userEvent.click(within(dialog).getByLabelText(/^Disabled/));
    await userEvent.clear(within(dialog).getByLabelText('Concurrent requests'));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.calls.some((c) => c.method === 'PATCH')).toBe(true));
    const body = api.calls.find((c) => c.method === 'PATCH')!.body as {
      role: string;
      disabled: boolean;
      caps: { maxKeys: number; limits: { concurrency: number | null } };
    };
    expect(body.role).toBe('viewer');
    expect(body.disabled).toBe(true);
    expect(body.caps.limits.concurrency).toBeNull();
    expect(body.caps.maxKeys).toBe(5);
  });

  it('resets a password and shows the generated one with a copy button', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/users': () => page([user()]),
        'POST /admin/api/users/5f0c0000-0000-4000-8000-000000000001/reset-password': () => ({
          ...user(),
          generatedPassword: 'n3w-Secret',
        }),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'Reset the password of sam' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Reset password' }));
    expect(await screen.findByTestId('generated-password')).toHaveTextContent('n3w-Secret');
    expect(screen.getByRole('button', { name: 'Copy password' })).toBeInTheDocument();
    expect(api.calls.find((c) => c.path.endsWith('/reset-password'))!.body).toEqual({});
  });

  it('deletes a user after confirming', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/users': () => page([user()]),
        'DELETE /admin/api/users/5f0c0000-0000-4000-8000-000000000001': () =>
          new Response(null, { status: 204 }),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'Delete sam' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('Delete sam?');
    expect(api.calls.some((c) => c.method === 'DELETE')).toBe(false);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(api.calls.some((c) => c.method === 'DELETE')).toBe(true));
  });

  it('gives a viewer no change buttons', async () => {
    mockApi(withSession(VIEWER, { 'GET /admin/api/users': () => page([user()]) }));
    show();
    await screen.findByText('sam');
    expect(screen.queryByRole('button', { name: 'New user' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit sam' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete sam' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Reset the password of sam' })).toBeNull();
  });
});

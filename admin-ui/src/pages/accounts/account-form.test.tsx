import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ADMIN, apiError, mockApi, renderPage, withSession } from '@/test/render';
import AccountsPage from '.';
import { account, detail, GROUPS, TYPES } from './fixtures';

const base = {
  'GET /admin/api/account-types': () => ({ items: TYPES }),
  'GET /admin/api/account-groups': () => ({ items: GROUPS, total: 1, page: 1, pageSize: 200 }),
};

function renderAt(route: string) {
  return renderPage(<AccountsPage />, { route, path: '/admin/accounts/*' });
}

/** The error shown under a field: the element its input's aria-describedby names. */
function errorOf(input: HTMLElement): string | null {
  const ids = input.getAttribute('aria-describedby')?.split(' ') ?? [];
  const error = ids.map((id) => document.getElementById(id)).find((el) => el?.role === 'alert');
  return error?.textContent ?? null;
}

describe('account form', { timeout: 20_000 }, () => {
  it('builds the fields from the chosen type and posts what was entered', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        ...base,
        'POST /admin/api/accounts': () => account({ id: 'a-new', name: 'fake-console' }),
        'GET /admin/api/accounts/a-new': () => detail({ id: 'a-new', name: 'fake-console' }),
        'GET /admin/api/accounts/a-new/health-history': () => ({ items: [] }),
      }),
    );
    renderAt('/admin/accounts/new');
    const chooser = await screen.findByTestId('account-type-select');
    await userEvent.selectOptions(chooser, 'claude-console');

    // claude-console's fields: a secret key and an enum; no map field of the other type.
    const key = screen.getByLabelText(/^apiKey/);
    expect(key).toHaveAttribute('type', 'password');
    expect(screen.getByLabelText(/^authScheme/).tagName).toBe('SELECT');
    expect(screen.queryByRole('group', { name: 'deployments' })).toBeNull();

    await userEvent.type(screen.getByLabelText(/^Name/), 'fake-console');
    await userEvent.type(key, 'sk-ant-api03-secret');
    await userEvent.selectOptions(screen.getByLabelText(/^authScheme/), 'bearer');
    await userEvent.type(screen.getByLabelText(/^Base URL/), 'http://127.0.0.1:9999');
    await userEvent.clear(screen.getByLabelText(/^Priority/));
    await userEvent.type(screen.getByLabelText(/^Priority/), '10');
    await userEvent.click(screen.getByLabelText('team-a'));
    await userEvent.click(screen.getByLabelText('Map model names'));
    await userEvent.type(screen.getByLabelText('Model mapping 1: Requested model'), 'claude-x');
    await userEvent.type(screen.getByLabelText('Model mapping 1: Upstream model'), 'claude-y');
    await userEvent.click(screen.getByTestId('account-save'));

    await waitFor(() =>
      expect(api.calls.find((call) => call.method === 'POST')?.body).toEqual({
        name: 'fake-console',
        type: 'claude-console',
        credentials: { apiKey: 'sk-ant-api03-secret', authScheme: 'bearer' },
        baseUrl: 'http://127.0.0.1:9999',
        priority: 10,
        weight: 1,
        enabled: true,
        schedulable: true,
        groupIds: ['g-claude'],
        models: { 'claude-x': 'claude-y' },
      }),
    );
    // Lands on the new account's page.
    expect(await screen.findByRole('heading', { name: 'fake-console' })).toBeInTheDocument();
  });

  it('offers the other type its own fields (a map) and needs its base URL', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        ...base,
        'POST /admin/api/accounts': () =>
          apiError(
            400,
            'INVALID_BASE_URL',
            'azure-openai accounts have no default upstream: baseUrl is required',
          ),
      }),
    );
    renderAt('/admin/accounts/new?type=azure-openai');
    await userEvent.type(await screen.findByLabelText(/^Name/), 'azure');
    await userEvent.type(screen.getByLabelText('deployments 1: Name'), 'gpt-4o');
    await userEvent.type(screen.getByLabelText('deployments 1: Maps to'), 'prod-4o');
    await userEvent.click(screen.getByTestId('account-save'));

    await waitFor(() =>
      expect(errorOf(screen.getByLabelText(/^Base URL/))).toBe(
        'azure-openai accounts have no default upstream: baseUrl is required',
      ),
    );
    expect(api.calls.find((call) => call.method === 'POST')?.body).toMatchObject({
      type: 'azure-openai',
      credentials: { deployments: { 'gpt-4o': 'prod-4o' } },
    });
  });

  it("shows the server's validation messages at their fields", async () => {
    mockApi(
      withSession(ADMIN, {
        ...base,
        'POST /admin/api/accounts': () =>
          apiError(
            400,
            'INVALID_CREDENTIALS_SHAPE',
            'credentials.apiKey must not contain whitespace or control characters',
          ),
      }),
    );
    renderAt('/admin/accounts/new?type=claude-console');
    await userEvent.type(await screen.findByLabelText(/^Name/), 'x');
    await userEvent.type(screen.getByLabelText(/^apiKey/), 'has space');
    await userEvent.click(screen.getByTestId('account-save'));
    await waitFor(() =>
      expect(errorOf(screen.getByLabelText(/^apiKey/))).toBe(
        'credentials.apiKey must not contain whitespace or control characters',
      ),
    );
  });

  it('maps class-validator messages and details.fields to fields', async () => {
    let answer = 0;
    mockApi(
      withSession(ADMIN, {
        ...base,
        'POST /admin/api/accounts': () =>
          answer++ === 0
            ? apiError(400, 'VALIDATION_FAILED', 'priority must not be greater than 1000')
            : apiError(400, 'VALIDATION_FAILED', 'invalid', {
                fields: [{ field: 'weight', messages: ['weight must not be less than 1'] }],
              }),
      }),
    );
    renderAt('/admin/accounts/new?type=claude-console');
    await userEvent.type(await screen.findByLabelText(/^Name/), 'x');
    await userEvent.click(screen.getByTestId('account-save'));
    await waitFor(() =>
      expect(errorOf(screen.getByLabelText(/^Priority/))).toBe(
        'priority must not be greater than 1000',
      ),
    );
    await userEvent.click(screen.getByTestId('account-save'));
    await waitFor(() =>
      expect(errorOf(screen.getByLabelText(/^Weight/))).toBe('weight must not be less than 1'),
    );
  });

  it('sends only what changed on edit and leaves blank secrets out', async () => {
    const stored = detail({ proxy: 'socks5://user:****@proxy:1080' });
    const api = mockApi(
      withSession(ADMIN, {
        ...base,
        'GET /admin/api/accounts/a-1': () => stored,
        'GET /admin/api/accounts/a-1/health-history': () => ({ items: [] }),
        'PATCH /admin/api/accounts/a-1': () => ({ ...stored, name: 'renamed' }),
      }),
    );
    renderAt('/admin/accounts/a-1/edit');
    const name = await screen.findByLabelText(/^Name/);
    expect(screen.getByLabelText(/^apiKey/)).toHaveValue('');
    expect(screen.getByText('Stored: sk-ant-…abcd')).toBeInTheDocument();
    await userEvent.clear(name);
    await userEvent.type(name, 'renamed');
    await userEvent.click(screen.getByTestId('account-save'));
    await waitFor(() =>
      expect(api.calls.find((call) => call.method === 'PATCH')?.body).toEqual({ name: 'renamed' }),
    );
  });

  it('sends the credentials with a new secret when one is typed on edit', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        ...base,
        'GET /admin/api/accounts/a-1': () => detail(),
        'GET /admin/api/accounts/a-1/health-history': () => ({ items: [] }),
        'PATCH /admin/api/accounts/a-1': () => detail(),
      }),
    );
    renderAt('/admin/accounts/a-1/edit');
    await userEvent.type(await screen.findByLabelText(/^apiKey/), 'sk-ant-api03-new');
    await userEvent.click(screen.getByTestId('account-save'));
    await waitFor(() =>
      expect(api.calls.find((call) => call.method === 'PATCH')?.body).toEqual({
        credentials: { apiKey: 'sk-ant-api03-new', authScheme: 'x-api-key' },
      }),
    );
  });

  it('points OAuth types to their sign-in wizard', async () => {
    mockApi(
      withSession(ADMIN, {
        ...base,
        'GET /admin/api/account-types': () => ({
          items: [...TYPES, { ...TYPES[0], type: 'claude-oauth', label: 'Claude subscription' }],
        }),
      }),
    );
    renderAt('/admin/accounts/new?type=claude-oauth');
    const link = await screen.findByRole('link', { name: /Sign in with Claude/ });
    expect(link).toHaveAttribute('href', '/admin/accounts/oauth/claude');
    expect(
      within(screen.getByTestId('account-type-select')).getByRole('option', { selected: true }),
    ).toHaveTextContent('Claude subscription');
  });
});

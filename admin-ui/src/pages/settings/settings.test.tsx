import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ADMIN, apiError, mockApi, renderPage, withSession } from '@/test/render';
import { SignedIn } from '@/test/signed-in';
import SettingsPage from './index';
import type { Setting } from './runtime';

// Forms typed key by key, and first renders, take a while when the suites run in parallel on a
// busy machine: wait longer for events (never for the clock).

const VIEWER = { id: 'u-viewer', username: 'vera', role: 'viewer' as const };

const attempts = (overrides: Partial<Setting> = {}): Setting => ({
  key: 'relayMaxAttempts',
  type: 'integer',
  value: 3,
  default: 3,
  source: 'env',
  envVariable: 'RELAY_MAX_ATTEMPTS',
  description: 'Accounts tried per request.',
  bounds: { min: 1, max: 10 },
  unit: 'accounts',
  updatedAt: null,
  ...overrides,
});
const sticky = (overrides: Partial<Setting> = {}): Setting => ({
  key: 'stickyContentHash',
  type: 'boolean',
  value: false,
  default: false,
  source: 'env',
  envVariable: 'STICKY_CONTENT_HASH',
  description: 'Derive a conversation id.',
  bounds: null,
  unit: null,
  updatedAt: null,
  ...overrides,
});
const limits = (): Setting => ({
  key: 'apiKeyDefaultLimits',
  type: 'key-limits',
  value: {},
  default: {},
  source: 'env',
  envVariable: 'API_KEY_DEFAULT_LIMITS',
  description: 'Limits every new key starts with.',
  bounds: null,
  unit: null,
  updatedAt: null,
});

function show() {
  return renderPage(
    <SignedIn>
      <SettingsPage />
    </SignedIn>,
  );
}

function row(label: string): HTMLElement {
  return screen.getByRole('form', { name: new RegExp(label) });
}

describe('settings page', () => {
  it('shows each setting with its value, default and source', async () => {
    mockApi(
      withSession(ADMIN, {
        'GET /admin/api/settings': () => ({
          items: [
            attempts({ value: 5, source: 'database', updatedAt: '2025-07-01T12:00:00.000Z' }),
            sticky(),
          ],
        }),
      }),
    );
    show();
    const form = await screen.findByRole('form', { name: /Attempts per request/ });
    expect(form).toHaveTextContent('Changed');
    expect(form).toHaveTextContent('Current: 5 accounts');
    expect(form).toHaveTextContent('Default: 3 accounts (from RELAY_MAX_ATTEMPTS)');
    expect(within(form).getByRole('spinbutton')).toHaveValue(5);
    expect(within(form).getByRole('button', { name: 'Reset to default' })).toBeInTheDocument();
    expect(row('Conversation id from content')).toHaveTextContent('Default');
    expect(
      within(row('Conversation id from content')).queryByRole('button', {
        name: 'Reset to default',
      }),
    ).toBeNull();
  });

  it('saves one setting with its typed value', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/settings': () => ({ items: [attempts(), sticky()] }),
        'PUT /admin/api/settings': () => ({
          changes: [],
          items: [attempts({ value: 5, source: 'database' }), sticky()],
        }),
      }),
    );
    show();
    const form = await screen.findByRole('form', { name: /Attempts per request/ });
    const input = within(form).getByRole('spinbutton');
    await userEvent.clear(input);
    await userEvent.type(input, '5');
    await userEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.calls.some((c) => c.method === 'PUT')).toBe(true));
    expect(api.calls.find((c) => c.method === 'PUT')!.body).toEqual({
      values: { relayMaxAttempts: 5 },
    });
    await waitFor(() =>
      expect(row('Attempts per request')).toHaveTextContent('Current: 5 accounts'),
    );

    await userEvent.click(within(row('Conversation id from content')).getByRole('checkbox'));
    await userEvent.click(
      within(row('Conversation id from content')).getByRole('button', { name: 'Save' }),
    );
    await waitFor(() =>
      expect(api.calls.filter((c) => c.method === 'PUT').at(-1)!.body).toEqual({
        values: { stickyContentHash: true },
      }),
    );
  });

  it("shows the server's refusal at the setting", async () => {
    mockApi(
      withSession(ADMIN, {
        'GET /admin/api/settings': () => ({ items: [attempts()] }),
        'PUT /admin/api/settings': () =>
          apiError(
            400,
            'SETTINGS_INVALID',
            'settings not changed: relayMaxAttempts must be a whole number from 1 to 10',
            { errors: { relayMaxAttempts: 'must be a whole number from 1 to 10' } },
          ),
      }),
    );
    show();
    const form = await screen.findByRole('form', { name: /Attempts per request/ });
    const input = within(form).getByRole('spinbutton');
    await userEvent.clear(input);
    await userEvent.type(input, '50');
    await userEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(input).toHaveAccessibleDescription('must be a whole number from 1 to 10'),
    );
    expect(input).toHaveAttribute('aria-invalid', 'true');
  });

  it('refuses JSON that does not parse before sending key limits', async () => {
    const api = mockApi(
      withSession(ADMIN, { 'GET /admin/api/settings': () => ({ items: [limits()] }) }),
    );
    show();
    const form = await screen.findByRole('form', { name: /Default limits of new keys/ });
    const area = within(form).getByRole('textbox');
    await userEvent.clear(area);
    await userEvent.type(area, '{{"concurrency": ');
    await userEvent.click(within(form).getByRole('button', { name: 'Save' }));
    expect(await within(form).findByRole('alert')).toHaveTextContent('Not valid JSON');
    expect(api.calls.some((c) => c.method === 'PUT')).toBe(false);
  });

  it('resets a changed setting to its default', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/settings': () => ({
          items: [
            attempts({ value: 7, source: 'database', updatedAt: '2025-07-01T12:00:00.000Z' }),
          ],
        }),
        'DELETE /admin/api/settings/relayMaxAttempts': () => ({
          changes: [],
          items: [attempts()],
        }),
      }),
    );
    show();
    const form = await screen.findByRole('form', { name: /Attempts per request/ });
    await userEvent.click(within(form).getByRole('button', { name: 'Reset to default' }));
    await waitFor(() => expect(api.calls.some((c) => c.method === 'DELETE')).toBe(true));
    const after = await screen.findByRole('form', { name: /Attempts per request/ });
    await waitFor(() => expect(within(after).getByRole('spinbutton')).toHaveValue(3));
    expect(within(after).queryByRole('button', { name: 'Reset to default' })).toBeNull();
    expect(after).toHaveTextContent('Current: 3 accounts');
  });

  it('gives a viewer the values without save or reset buttons', async () => {
    mockApi(
      withSession(VIEWER, {
        'GET /admin/api/settings': () => ({
          items: [attempts({ value: 7, source: 'database' }), sticky()],
        }),
      }),
    );
    show();
    const form = await screen.findByRole('form', { name: /Attempts per request/ });
    expect(within(form).getByRole('spinbutton')).toHaveAttribute('readonly');
    expect(screen.queryByRole('button', { name: 'Save' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Reset to default' })).toBeNull();
    expect(within(row('Conversation id from content')).getByRole('checkbox')).toBeDisabled();
  });

  it('shows an error state when the settings cannot be read', async () => {
    mockApi(
      withSession(ADMIN, {
        'GET /admin/api/settings': () => apiError(403, 'FORBIDDEN', 'forbidden'),
      }),
    );
    show();
    expect(await screen.findByRole('alert')).toHaveTextContent('Your role may not do this.');
  });
});

describe('pricing tab', () => {
  const prices = {
    pricingFile: null,
    defaultPrice: { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 },
    items: [
      {
        model: 'claude-sonnet-4-5',
        source: 'bundled',
        price: { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 },
      },
      {
        model: 'gpt-4o',
        source: 'override',
        price: { input: 2, output: 8, cacheWrite5m: 2, cacheWrite1h: 2, cacheRead: 1 },
      },
    ],
    total: 2,
    page: 1,
    pageSize: 50,
  };

  it('lists prices, filters by source, and overrides a model', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/settings': () => ({ items: [] }),
        'GET /admin/api/pricing/models': () => prices,
        'PUT /admin/api/pricing/overrides/claude-sonnet-4-5': () => ({}),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('tab', { name: 'Pricing' }));
    const sonnet = (await screen.findByText('claude-sonnet-4-5')).closest('tr')!;
    expect(sonnet).toHaveTextContent('$3');
    expect(sonnet).toHaveTextContent('$15');

    await userEvent.selectOptions(screen.getByLabelText('Source'), 'override');
    await waitFor(() => {
      const last = api.calls.filter((c) => c.path.startsWith('/admin/api/pricing/models')).at(-1)!;
      expect(new URL(last.path, 'http://x').searchParams.get('source')).toBe('override');
    });

    await userEvent.click(
      screen.getByRole('button', { name: 'Override the prices of claude-sonnet-4-5' }),
    );
    const dialog = await screen.findByRole('dialog');
    const output = within(dialog).getByLabelText('Output');
    await userEvent.clear(output);
    await userEvent.type(output, '12.5');
    await userEvent.clear(within(dialog).getByLabelText('Cache read'));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.calls.some((c) => c.method === 'PUT')).toBe(true));
    expect(api.calls.find((c) => c.method === 'PUT')!.body).toEqual({
      input: 3,
      output: 12.5,
      cacheWrite5m: 3.75,
      cacheWrite1h: 6,
    });
  });

  it("shows the server's refusal in the override form and removes an override", async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/settings': () => ({ items: [] }),
        'GET /admin/api/pricing/models': () => prices,
        'PUT /admin/api/pricing/overrides/my-model': () =>
          apiError(400, 'VALIDATION_FAILED', 'output must not be less than 0'),
        'DELETE /admin/api/pricing/overrides/gpt-4o': () => new Response(null, { status: 204 }),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('tab', { name: 'Pricing' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Override a model' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText(/^Model/), 'my-model');
    await userEvent.type(within(dialog).getByLabelText('Output'), '-1');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(within(dialog).getByLabelText('Output')).toHaveAccessibleDescription(
        'output must not be less than 0',
      ),
    );
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));

    await userEvent.click(screen.getByRole('button', { name: 'Remove the override of gpt-4o' }));
    const confirm = await screen.findByRole('dialog');
    await userEvent.click(within(confirm).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(api.calls.some((c) => c.method === 'DELETE')).toBe(true));
  });

  it('gives a viewer no override buttons', async () => {
    mockApi(
      withSession(VIEWER, {
        'GET /admin/api/settings': () => ({ items: [] }),
        'GET /admin/api/pricing/models': () => prices,
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('tab', { name: 'Pricing' }));
    await screen.findByText('gpt-4o');
    expect(screen.queryByRole('button', { name: 'Override a model' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Remove the override/ })).toBeNull();
  });
});

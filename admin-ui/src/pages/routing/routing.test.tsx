import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ADMIN, apiError, mockApi, renderPage, withSession } from '@/test/render';
import { SignedIn } from '@/test/signed-in';
import RoutingPage from './index';
import type { Rule } from './rules';
import type { ModelRoute } from './routes';

// Forms typed key by key, and first renders, take a while when the suites run in parallel on a
// busy machine: wait longer for events (never for the clock).

const VIEWER = { id: 'u-viewer', username: 'vera', role: 'viewer' as const };
const OPERATOR = { id: 'u-op', username: 'otto', role: 'operator' as const };
const KEY_ID = '11111111-1111-4111-8111-111111111111';
const GROUP_ID = '22222222-2222-4222-8222-222222222222';

function rule(overrides: Partial<Rule> = {}): Rule {
  return {
    id: 'r1',
    name: 'background',
    apiKeyId: null,
    priority: 20,
    scenario: 'background',
    modelPattern: null,
    longContextThreshold: null,
    targetModel: 'claude-3-5-haiku-latest',
    targetGroupId: null,
    enabled: true,
    note: null,
    createdAt: '2025-07-01T12:00:00.000Z',
    updatedAt: '2025-07-01T12:00:00.000Z',
    ...overrides,
  };
}

function route(overrides: Partial<ModelRoute> = {}): ModelRoute {
  return {
    id: 'm1',
    pattern: 'claude-*',
    platform: 'claude',
    targetModel: null,
    position: 10,
    enabled: true,
    note: 'built-in default',
    createdAt: '2025-07-01T12:00:00.000Z',
    updatedAt: '2025-07-01T12:00:00.000Z',
    ...overrides,
  };
}

const list = <T,>(items: T[]) => ({ items, total: items.length, page: 1, pageSize: 50 });

const lookups = {
  'GET /admin/api/keys': () => list([{ id: KEY_ID, name: 'ci-bot', keyHint: 'sk-sy-…a1b2' }]),
  'GET /admin/api/account-groups': () =>
    list([{ id: GROUP_ID, name: 'overflow', platform: 'claude' }]),
};

function show() {
  return renderPage(
    <SignedIn>
      <RoutingPage />
    </SignedIn>,
  );
}

function lastQuery(calls: Array<{ path: string }>, prefix: string): URLSearchParams {
  const last = calls.filter((c) => c.path.startsWith(`${prefix}?`)).at(-1)!;
  return new URL(last.path, 'http://x').searchParams;
}

describe('routing rules', () => {
  it('lists rules with their scope, condition and target, and filters them', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        ...lookups,
        'GET /admin/api/routing-rules': () =>
          list([
            rule({
              id: 'r2',
              name: 'opus overflow',
              apiKeyId: KEY_ID,
              scenario: null,
              modelPattern: 'claude-opus-*',
              targetModel: 'claude-opus-4-1',
              targetGroupId: GROUP_ID,
              priority: 10,
            }),
            rule(),
          ]),
      }),
    );
    show();
    const overflow = (await screen.findByText('opus overflow')).closest('tr')!;
    await waitFor(() => expect(overflow).toHaveTextContent('Key ci-bot'));
    expect(overflow).toHaveTextContent('claude-opus-*');
    expect(overflow).toHaveTextContent('group overflow');
    const background = screen.getByText('background', { selector: 'span' }).closest('tr')!;
    expect(background).toHaveTextContent('Every key');
    expect(within(background).getByText('Background')).toBeInTheDocument();

    await userEvent.selectOptions(screen.getByLabelText('Scenario'), 'think');
    await userEvent.selectOptions(screen.getByLabelText('State'), 'false');
    await userEvent.type(screen.getByLabelText('Search rules'), 'opus{Enter}');
    await waitFor(() =>
      expect(lastQuery(api.calls, '/admin/api/routing-rules').get('search')).toBe('opus'),
    );
    const query = lastQuery(api.calls, '/admin/api/routing-rules');
    expect(query.get('scenario')).toBe('think');
    expect(query.get('enabled')).toBe('false');
    expect(query.get('sortBy')).toBe('evaluation');
  });

  it('shows the empty state', async () => {
    mockApi(withSession(ADMIN, { ...lookups, 'GET /admin/api/routing-rules': () => list([]) }));
    show();
    expect(await screen.findByText(/No routing rules/)).toBeInTheDocument();
  });

  it('creates a long-context rule for one key with what the form says', async () => {
    const api = mockApi(
      withSession(OPERATOR, {
        ...lookups,
        'GET /admin/api/routing-rules': () => list([]),
        'POST /admin/api/routing-rules': () => rule(),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'New rule' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText(/^Name/), 'longContext');
    await waitFor(() =>
      expect(within(dialog).getByRole('option', { name: 'ci-bot' })).toBeInTheDocument(),
    );
    await userEvent.selectOptions(within(dialog).getByLabelText('Applies to'), KEY_ID);
    await userEvent.selectOptions(within(dialog).getByLabelText('Scenario'), 'long_context');
    await userEvent.type(within(dialog).getByLabelText(/^Long-context threshold/), '60000');
    await userEvent.type(within(dialog).getByLabelText(/^Target model/), 'claude-sonnet-4-5');
    await userEvent.selectOptions(within(dialog).getByLabelText('Account group'), GROUP_ID);
    await userEvent.type(within(dialog).getByLabelText('Priority'), '10');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(api.calls.some((c) => c.method === 'POST')).toBe(true));
    expect(api.calls.find((c) => c.method === 'POST')!.body).toEqual({
      name: 'longContext',
      apiKeyId: KEY_ID,
      scenario: 'long_context',
      longContextThreshold: 60000,
      targetModel: 'claude-sonnet-4-5',
      targetGroupId: GROUP_ID,
      priority: 10,
      enabled: true,
    });
  });

  it("shows the server's messages at their fields and the rest above the form", async () => {
    mockApi(
      withSession(ADMIN, {
        ...lookups,
        'GET /admin/api/routing-rules': () => list([]),
        'POST /admin/api/routing-rules': () =>
          apiError(
            400,
            'VALIDATION_FAILED',
            'targetModel must be one model name (no whitespace, control characters, * or ,); a rule needs a scenario, a modelPattern, or both',
          ),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'New rule' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText(/^Name/), 'x');
    await userEvent.type(within(dialog).getByLabelText(/^Target model/), 'a b');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(within(dialog).getByLabelText(/^Target model/)).toHaveAccessibleDescription(
        /targetModel must be one model name/,
      ),
    );
    expect(within(dialog).getAllByRole('alert')[0]).toHaveTextContent(
      'a rule needs a scenario, a modelPattern, or both',
    );
  });

  it('edits a rule, clearing its pattern with null', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        ...lookups,
        'GET /admin/api/routing-rules': () =>
          list([rule({ modelPattern: 'claude-*', note: 'old' })]),
        'PATCH /admin/api/routing-rules/r1': () => rule(),
      }),
    );
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'Edit rule background' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByLabelText('Applies to')).toBeDisabled();
    await userEvent.clear(within(dialog).getByLabelText(/^Model pattern/));
    await userEvent.click(within(dialog).getByLabelText('Enabled'));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.calls.some((c) => c.method === 'PATCH')).toBe(true));
    expect(api.calls.find((c) => c.method === 'PATCH')!.body).toMatchObject({
      modelPattern: null,
      enabled: false,
      note: 'old',
      priority: 20,
    });
  });

  it('resolves a sample request and says which rule it takes', async () => {
    const api = mockApi(
      withSession(VIEWER, {
        ...lookups,
        'GET /admin/api/routing-rules': () => list([rule()]),
        'POST /admin/api/routing-rules/resolve': () => ({
          decision: {
            model: 'claude-opus-4-1',
            platform: null,
            groupId: GROUP_ID,
            ruleId: 'r9',
            ruleName: 'think',
            override: false,
          },
          error: null,
          estimatedInputTokens: 12,
        }),
      }),
    );
    show();
    await screen.findByText('claude-3-5-haiku-latest');
    await userEvent.clear(screen.getByLabelText('Requested model'));
    await userEvent.type(screen.getByLabelText('Requested model'), 'claude-sonnet-4-5');
    await userEvent.selectOptions(screen.getByLabelText('As the key'), KEY_ID);
    await userEvent.type(
      screen.getByLabelText(/^Sample request body/),
      '{{"thinking":{{"type":"enabled"}}',
    );
    await userEvent.click(screen.getByRole('button', { name: 'Resolve' }));
    const result = await screen.findByTestId('rule-resolution');
    expect(result).toHaveTextContent('Rule think picks claude-opus-4-1');
    expect(result).toHaveTextContent('account group overflow');
    expect(api.calls.find((c) => c.path.endsWith('/resolve'))!.body).toEqual({
      model: 'claude-sonnet-4-5',
      format: 'anthropic-messages',
      apiKeyId: KEY_ID,
      body: { thinking: { type: 'enabled' } },
    });
  });

  it('gives a viewer no change buttons', async () => {
    mockApi(
      withSession(VIEWER, { ...lookups, 'GET /admin/api/routing-rules': () => list([rule()]) }),
    );
    show();
    await screen.findByText('claude-3-5-haiku-latest');
    expect(screen.queryByRole('button', { name: 'New rule' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Edit rule/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /Delete rule/ })).toBeNull();
  });
});

describe('model routes', () => {
  async function openRoutes() {
    show();
    await userEvent.click(await screen.findByRole('tab', { name: 'Model routes' }));
  }

  it('lists routes, filters by platform, and resolves a model name', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        ...lookups,
        'GET /admin/api/routing-rules': () => list([]),
        'GET /admin/api/model-routes': () =>
          list([
            route({
              id: 'm0',
              pattern: 'gpt-4o',
              targetModel: 'claude-sonnet-4-5',
              position: 90,
              note: null,
            }),
            route(),
          ]),
        'GET /admin/api/model-routes/resolve': (_request, url) => ({
          model: url.searchParams.get('model'),
          route: { platform: 'claude', model: 'claude-sonnet-4-5', routeId: 'm0' },
        }),
      }),
    );
    await openRoutes();
    const alias = (await screen.findByText('gpt-4o', { selector: 'code' })).closest('tr')!;
    expect(alias).toHaveTextContent('claude-sonnet-4-5');
    const wildcard = screen.getByText('claude-*').closest('tr')!;
    expect(wildcard).toHaveTextContent('as requested');

    await userEvent.selectOptions(screen.getByLabelText('Platform'), 'openai');
    await waitFor(() =>
      expect(lastQuery(api.calls, '/admin/api/model-routes').get('platform')).toBe('openai'),
    );

    await userEvent.clear(screen.getByLabelText('Model name'));
    await userEvent.type(screen.getByLabelText('Model name'), 'GPT-4o');
    await userEvent.click(screen.getByRole('button', { name: 'Resolve' }));
    expect(await screen.findByTestId('route-resolution')).toHaveTextContent(
      'GPT-4o goes to claude as claude-sonnet-4-5',
    );
  });

  it('puts a taken pattern at the pattern field', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        ...lookups,
        'GET /admin/api/routing-rules': () => list([]),
        'GET /admin/api/model-routes': () => list([route()]),
        'POST /admin/api/model-routes': () =>
          apiError(
            409,
            'ROUTE_PATTERN_TAKEN',
            'a model route for "claude-*" exists already; edit that one',
            {
              pattern: 'claude-*',
              routeId: 'm1',
            },
          ),
      }),
    );
    await openRoutes();
    await userEvent.click(await screen.findByRole('button', { name: 'New route' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText(/^Pattern/), 'claude-*');
    await userEvent.selectOptions(within(dialog).getByLabelText('Platform'), 'droid');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(within(dialog).getByLabelText(/^Pattern/)).toHaveAccessibleDescription(
        /exists already/,
      ),
    );
    expect(api.calls.find((c) => c.method === 'POST')!.body).toEqual({
      pattern: 'claude-*',
      platform: 'droid',
      enabled: true,
    });
  });

  it('deletes a route after confirming', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        ...lookups,
        'GET /admin/api/routing-rules': () => list([]),
        'GET /admin/api/model-routes': () => list([route()]),
        'DELETE /admin/api/model-routes/m1': () => new Response(null, { status: 204 }),
      }),
    );
    await openRoutes();
    await userEvent.click(await screen.findByRole('button', { name: 'Delete route claude-*' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(api.calls.some((c) => c.method === 'DELETE')).toBe(true));
  });

  it('shows an error state when the routes cannot be read', async () => {
    mockApi(
      withSession(ADMIN, {
        ...lookups,
        'GET /admin/api/routing-rules': () => list([]),
        'GET /admin/api/model-routes': () => apiError(500, 'INTERNAL_ERROR', 'internal error'),
      }),
    );
    await openRoutes();
    expect(await screen.findByRole('alert')).toHaveTextContent('internal error');
  });
});

import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ADMIN, apiError, mockApi, renderPage, withSession, type MockApi } from '@/test/render';
import { SignedIn } from '@/test/signed-in';
import NotificationsPage from './index';
import type { Delivery, Target } from './kinds';

const VIEWER = { id: 'u-viewer', username: 'vera', role: 'viewer' as const };

function target(overrides: Partial<Target> = {}): Target {
  return {
    id: 't-1',
    name: 'ops-hook',
    kind: 'webhook',
    enabled: true,
    events: null,
    config: { url: 'https://hooks.example.com/switchyard' },
    secretsSet: ['secret'],
    hasSecret: true,
    secretsReadable: true,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function delivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    id: 'd-1',
    eventId: 'e-1',
    targetId: 't-1',
    eventType: 'account.auth_failed',
    title: 'Account "team" failed authentication',
    status: 'failed',
    attempts: 3,
    nextAttemptAt: null,
    lastStatus: 500,
    lastError: 'receiver answered 500',
    lastDurationMs: 42,
    deliveredAt: null,
    createdAt: '2026-01-02T00:00:00.000Z',
    updatedAt: '2026-01-02T00:05:00.000Z',
    ...overrides,
  };
}

const EVENT_TYPES = {
  items: [
    {
      type: 'account.auth_failed',
      severity: 'critical',
      description: 'An account turned auth_failed.',
    },
    { type: 'key.budget_warning', severity: 'warning', description: 'A key reached 80 %.' },
  ],
};

const deliveryPage = (items: Delivery[]) => ({ items, total: items.length, page: 1, pageSize: 50 });

function handlers(targets: Target[], deliveries: Delivery[] = []) {
  return {
    'GET /admin/api/notifications/targets': () => ({ items: targets }),
    'GET /admin/api/notifications/event-types': () => EVENT_TYPES,
    'GET /admin/api/notifications/deliveries': () => deliveryPage(deliveries),
  };
}

function show(route = '/admin/notifications') {
  return renderPage(
    <SignedIn>
      <NotificationsPage />
    </SignedIn>,
    { route },
  );
}

function lastBody(api: MockApi, method: string, path: string): unknown {
  return api.calls.filter((call) => call.method === method && call.path === path).at(-1)?.body;
}

async function openCreate() {
  await userEvent.click(await screen.findByRole('button', { name: 'New target' }));
  return screen.findByRole('dialog');
}

describe('notifications page', () => {
  describe('targets', () => {
    it('lists targets with kind, enabled switch, events and last delivery', async () => {
      mockApi(
        withSession(
          ADMIN,
          handlers(
            [
              target(),
              target({
                id: 't-2',
                name: 'team-chat',
                kind: 'slack',
                enabled: false,
                events: ['account.auth_failed', 'key.budget_warning'],
                config: {},
                secretsSet: ['webhookUrl'],
              }),
            ],
            [delivery({ status: 'delivered' })],
          ),
        ),
      );
      show();
      const hook = (await screen.findByText('ops-hook')).closest('tr')!;
      expect(within(hook).getByText('Webhook')).toBeInTheDocument();
      expect(within(hook).getByText('Every event')).toBeInTheDocument();
      expect(await within(hook).findByText('Delivered')).toBeInTheDocument();
      expect(within(hook).getByRole('switch', { name: 'Enabled: ops-hook' })).toBeChecked();
      const chat = screen.getByText('team-chat').closest('tr')!;
      expect(within(chat).getByText('Slack')).toBeInTheDocument();
      expect(within(chat).getByText('2 events')).toBeInTheDocument();
      expect(within(chat).getByText('None yet')).toBeInTheDocument();
      expect(within(chat).getByRole('switch')).not.toBeChecked();
    });

    it('flips the enabled flag with a PATCH', async () => {
      const api = mockApi(
        withSession(ADMIN, {
          ...handlers([target()]),
          'PATCH /admin/api/notifications/targets/t-1': () => target({ enabled: false }),
        }),
      );
      show();
      await userEvent.click(await screen.findByRole('switch', { name: 'Enabled: ops-hook' }));
      await waitFor(() =>
        expect(lastBody(api, 'PATCH', '/admin/api/notifications/targets/t-1')).toEqual({
          enabled: false,
        }),
      );
    });

    it('creates a webhook target for chosen events', async () => {
      const api = mockApi(
        withSession(ADMIN, {
          ...handlers([]),
          'POST /admin/api/notifications/targets': () => target(),
        }),
      );
      show();
      const dialog = await openCreate();
      await userEvent.type(within(dialog).getByLabelText(/^Name/), 'ops-hook');
      await userEvent.type(
        within(dialog).getByLabelText(/^URL/),
        'https://hooks.example.com/switchyard',
      );
      await userEvent.type(within(dialog).getByLabelText(/^Signing secret/), 's'.repeat(20));
      await userEvent.click(within(dialog).getByLabelText('Only the types chosen below'));
      await userEvent.click(await within(dialog).findByLabelText(/account\.auth_failed/));
      expect(within(dialog).getByText('An account turned auth_failed.')).toBeInTheDocument();
      await userEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
      await waitFor(() =>
        expect(lastBody(api, 'POST', '/admin/api/notifications/targets')).toEqual({
          name: 'ops-hook',
          kind: 'webhook',
          enabled: true,
          events: ['account.auth_failed'],
          config: { url: 'https://hooks.example.com/switchyard', secret: 's'.repeat(20) },
        }),
      );
    });

    it.each([
      [
        'email',
        [
          ['SMTP host', 'smtp.example.com'],
          ['Port', '465'],
          ['Username', 'relay'],
          ['Password', 'smtp-password'],
          ['From', 'switchyard@example.com'],
          ['To', 'ops@example.com, oncall@example.com'],
        ],
        ['TLS from the first byte (usually port 465)', 'STARTTLS (usually port 587)'],
        {
          host: 'smtp.example.com',
          port: 465,
          secure: true,
          starttls: false,
          username: 'relay',
          password: 'smtp-password',
          from: 'switchyard@example.com',
          to: ['ops@example.com', 'oncall@example.com'],
        },
      ],
      [
        'slack',
        [['Webhook URL', 'https://hooks.slack.com/services/T/B/x']],
        [],
        {
          webhookUrl: 'https://hooks.slack.com/services/T/B/x',
        },
      ],
      [
        'discord',
        [['Webhook URL', 'https://discord.com/api/webhooks/1/x']],
        [],
        {
          webhookUrl: 'https://discord.com/api/webhooks/1/x',
        },
      ],
      [
        'telegram',
        [
          ['Bot token', '123456789:AAAAAAAAAAAAAAAAAAAAAAAA'],
          ['Chat id', '-100123'],
        ],
        [],
        { botToken: '123456789:AAAAAAAAAAAAAAAAAAAAAAAA', chatId: '-100123' },
      ],
      [
        'feishu',
        [
          ['Webhook URL', 'https://open.feishu.cn/open-apis/bot/v2/hook/x'],
          ['Signing secret', 'sign-me'],
        ],
        [],
        { webhookUrl: 'https://open.feishu.cn/open-apis/bot/v2/hook/x', secret: 'sign-me' },
      ],
      [
        'dingtalk',
        [['Webhook URL', 'https://oapi.dingtalk.com/robot/send?access_token=x']],
        [],
        {
          webhookUrl: 'https://oapi.dingtalk.com/robot/send?access_token=x',
        },
      ],
      [
        'wecom',
        [['Webhook URL', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x']],
        [],
        {
          webhookUrl: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x',
        },
      ],
      [
        'bark',
        [
          ['Device key', 'bark-device-key'],
          ['Group', 'Ops'],
        ],
        [],
        { deviceKey: 'bark-device-key', group: 'Ops' },
      ],
    ] as const)(
      'sends the %s settings in the create body',
      async (kind, typed, clicked, config) => {
        const api = mockApi(
          withSession(ADMIN, {
            ...handlers([]),
            'POST /admin/api/notifications/targets': () => target({ kind }),
          }),
        );
        show();
        const dialog = await openCreate();
        await userEvent.type(within(dialog).getByLabelText(/^Name/), `my-${kind}`);
        await userEvent.selectOptions(within(dialog).getByLabelText('Kind'), kind);
        for (const [label, text] of typed) {
          const input = within(dialog).getByLabelText(new RegExp(`^${label}`));
          await userEvent.clear(input);
          await userEvent.type(input, text);
        }
        for (const label of clicked) await userEvent.click(within(dialog).getByLabelText(label));
        await userEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
        await waitFor(() =>
          expect(lastBody(api, 'POST', '/admin/api/notifications/targets')).toEqual({
            name: `my-${kind}`,
            kind,
            enabled: true,
            events: null,
            config,
          }),
        );
      },
      15_000,
    );

    it('leaves a stored secret out on edit and sends only what changed', async () => {
      const api = mockApi(
        withSession(ADMIN, {
          ...handlers([target()]),
          'PATCH /admin/api/notifications/targets/t-1': () => target(),
        }),
      );
      show();
      await userEvent.click(await screen.findByRole('button', { name: 'Edit ops-hook' }));
      const dialog = await screen.findByRole('dialog');
      const secret = within(dialog).getByLabelText(/^Signing secret/);
      expect(secret).toHaveValue('');
      expect(secret).toHaveAttribute('placeholder', 'Stored — leave blank to keep');
      expect(within(dialog).getByLabelText('Kind')).toBeDisabled();
      const url = within(dialog).getByLabelText(/^URL/);
      await userEvent.clear(url);
      await userEvent.type(url, 'https://hooks.example.com/v2');
      await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
      await waitFor(() =>
        expect(lastBody(api, 'PATCH', '/admin/api/notifications/targets/t-1')).toEqual({
          config: { url: 'https://hooks.example.com/v2' },
        }),
      );
    });

    it('sends a typed secret on edit, and null for a removed optional one', async () => {
      const stored = target({
        id: 't-3',
        name: 'lark',
        kind: 'feishu',
        config: {},
        secretsSet: ['webhookUrl', 'secret'],
      });
      const api = mockApi(
        withSession(ADMIN, {
          ...handlers([stored]),
          'PATCH /admin/api/notifications/targets/t-3': () => stored,
        }),
      );
      show();
      await userEvent.click(await screen.findByRole('button', { name: 'Edit lark' }));
      const dialog = await screen.findByRole('dialog');
      await userEvent.type(
        within(dialog).getByLabelText(/^Webhook URL/),
        'https://open.feishu.cn/open-apis/bot/v2/hook/new',
      );
      await userEvent.click(within(dialog).getByLabelText('Remove the stored value'));
      await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
      await waitFor(() =>
        expect(lastBody(api, 'PATCH', '/admin/api/notifications/targets/t-3')).toEqual({
          config: { webhookUrl: 'https://open.feishu.cn/open-apis/bot/v2/hook/new', secret: null },
        }),
      );
    });

    it("shows the server's config errors at their fields", async () => {
      mockApi(
        withSession(ADMIN, {
          ...handlers([]),
          'POST /admin/api/notifications/targets': () =>
            apiError(
              400,
              'INVALID_TARGET_CONFIG',
              'invalid webhook configuration: url must be an http(s) URL; secret must be a string of at least 16 characters',
              {
                errors: [
                  'url must be an http(s) URL',
                  'secret must be a string of at least 16 characters',
                ],
              },
            ),
        }),
      );
      show();
      const dialog = await openCreate();
      await userEvent.type(within(dialog).getByLabelText(/^Name/), 'bad');
      await userEvent.type(within(dialog).getByLabelText(/^URL/), 'ftp://x');
      await userEvent.type(within(dialog).getByLabelText(/^Signing secret/), 'short');
      await userEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
      const url = within(dialog).getByLabelText(/^URL/);
      await waitFor(() => expect(url).toHaveAttribute('aria-invalid', 'true'));
      expect(url).toHaveAccessibleDescription('url must be an http(s) URL');
      expect(within(dialog).getByLabelText(/^Signing secret/)).toHaveAccessibleDescription(
        'secret must be a string of at least 16 characters',
      );
    });

    it('shows a taken name at the name field', async () => {
      mockApi(
        withSession(ADMIN, {
          ...handlers([]),
          'POST /admin/api/notifications/targets': () =>
            apiError(409, 'TARGET_NAME_TAKEN', 'a notification target named ops exists'),
        }),
      );
      show();
      const dialog = await openCreate();
      await userEvent.type(within(dialog).getByLabelText(/^Name/), 'ops');
      await userEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
      await waitFor(() =>
        expect(within(dialog).getByLabelText(/^Name/)).toHaveAccessibleDescription(
          'a notification target named ops exists',
        ),
      );
    });

    it('shows the test result in the row', async () => {
      const api = mockApi(
        withSession(ADMIN, {
          ...handlers([target()]),
          'POST /admin/api/notifications/targets/t-1/test': () => ({
            ok: false,
            status: 401,
            error: 'receiver answered 401',
            durationMs: 87,
            deliveryId: 'd-9',
          }),
        }),
      );
      show();
      await userEvent.click(await screen.findByRole('button', { name: 'Send test to ops-hook' }));
      const result = await screen.findByTestId('test-result');
      expect(result).toHaveTextContent('Test failed');
      expect(result).toHaveTextContent('HTTP 401');
      expect(result).toHaveTextContent('87 ms');
      expect(result).toHaveTextContent('receiver answered 401');
      expect(
        api.calls.some((call) => call.path === '/admin/api/notifications/targets/t-1/test'),
      ).toBe(true);
    });

    it('deletes a target after confirming', async () => {
      const api = mockApi(
        withSession(ADMIN, {
          ...handlers([target()]),
          'DELETE /admin/api/notifications/targets/t-1': () => new Response(null, { status: 204 }),
        }),
      );
      show();
      await userEvent.click(await screen.findByRole('button', { name: 'Delete ops-hook' }));
      const confirm = await screen.findByRole('dialog');
      expect(confirm).toHaveTextContent('Delete ops-hook?');
      await userEvent.click(within(confirm).getByRole('button', { name: 'Delete' }));
      await waitFor(() =>
        expect(
          api.calls.some(
            (call) =>
              call.method === 'DELETE' && call.path === '/admin/api/notifications/targets/t-1',
          ),
        ).toBe(true),
      );
    });
  });

  describe('delivery log', () => {
    it('reads its filters from the address and puts changes into the query', async () => {
      const api = mockApi(withSession(ADMIN, handlers([target()], [delivery()])));
      show('/admin/notifications?tab=deliveries&status=failed&target=t-1');
      await screen.findByText('Account "team" failed authentication');
      const deliveryQuery = () =>
        new URL(
          api.calls
            .filter(
              (call) =>
                call.path.startsWith('/admin/api/notifications/deliveries?') &&
                !call.path.includes('pageSize=100'),
            )
            .at(-1)!.path,
          'http://x',
        ).searchParams;
      expect(deliveryQuery().get('status')).toBe('failed');
      expect(deliveryQuery().get('targetId')).toBe('t-1');
      await userEvent.selectOptions(screen.getByLabelText('Event type'), 'key.budget_warning');
      await waitFor(() => expect(deliveryQuery().get('eventType')).toBe('key.budget_warning'));
      expect(deliveryQuery().get('status')).toBe('failed');
      expect(deliveryQuery().get('page')).toBe('1');
      await userEvent.selectOptions(screen.getByLabelText('Status'), '');
      await waitFor(() => expect(deliveryQuery().get('status')).toBeNull());
    });

    it('shows a delivery in detail and retries a failed one', async () => {
      const api = mockApi(
        withSession(ADMIN, {
          ...handlers([target()], [delivery()]),
          'POST /admin/api/notifications/deliveries/d-1/retry': () =>
            delivery({ status: 'pending', nextAttemptAt: '2026-01-02T00:06:00.000Z' }),
        }),
      );
      show('/admin/notifications?tab=deliveries');
      await userEvent.click(
        await screen.findByRole('button', { name: 'Details of the delivery: account.auth_failed' }),
      );
      const dialog = await screen.findByRole('dialog');
      const detail = within(dialog).getByTestId('delivery-detail');
      expect(detail).toHaveTextContent('ops-hook');
      expect(detail).toHaveTextContent('receiver answered 500');
      expect(detail).toHaveTextContent('3');
      await userEvent.click(within(dialog).getByRole('button', { name: 'Retry delivery d-1' }));
      await waitFor(() =>
        expect(
          api.calls.some((call) => call.path === '/admin/api/notifications/deliveries/d-1/retry'),
        ).toBe(true),
      );
      await waitFor(() => expect(within(dialog).getByText('Pending')).toBeInTheDocument());
    });
  });

  describe('as a viewer', () => {
    it('shows targets and the log with no write controls', async () => {
      mockApi(withSession(VIEWER, handlers([target()], [delivery()])));
      const { unmount } = show();
      await screen.findByText('ops-hook');
      expect(screen.getByTestId('read-only-note')).toBeInTheDocument();
      expect(screen.queryByRole('button', { name: 'New target' })).toBeNull();
      expect(screen.queryByRole('switch')).toBeNull();
      expect(screen.queryByRole('button', { name: /Send test/ })).toBeNull();
      expect(screen.queryByRole('button', { name: /^Edit/ })).toBeNull();
      expect(screen.queryByRole('button', { name: /^Delete/ })).toBeNull();
      unmount();
      show('/admin/notifications?tab=deliveries');
      await screen.findByText('Account "team" failed authentication');
      expect(screen.queryByRole('button', { name: /Retry delivery/ })).toBeNull();
    });
  });
});

import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { FakeUpstream } from '../fake-upstream/fake-upstream';
import { startServerProcess, type ServerProcess } from '../support/app-process';
import {
  describeWithChromium,
  launchChromium,
  openSession,
  screenshot,
  type BrowserSession,
} from '../support/browser';

/**
 * The admin UI as an operator uses it, end to end in real Chromium against the built server and a
 * fake Anthropic upstream: sign in; add a `claude-console` account through the per-type form and
 * test it; create a key and copy its secret from the dialog (the clipboard); send a request with
 * that secret through the relay with @anthropic-ai/sdk; see it on the dashboard and in the request
 * log with its tokens and cost; make the upstream overloaded and see the account cooling with its
 * reason; switch to Chinese and to dark mode; sign in as a `user` and see only their own keys.
 * The steps share one server and build on each other, so they run in order in one test each.
 */

const PASSWORD = 'admin-ui-flow-password';
const USER_PASSWORD = 'admin-ui-flow-user-password';
const MODEL = 'claude-sonnet-4-5';
const UPSTREAM_KEY = 'sk-ant-api03-flow-upstream-key';
/** Generous bounds for waits on a busy 2-core machine; each wait ends on the event itself. */
const WAIT = { timeout: 30_000 };

describeWithChromium('admin UI: an operator’s day in Chromium', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-admin-flow-'));
  let server: ServerProcess;
  let browser: Browser;
  let upstream: FakeUpstream;
  let admin: BrowserSession;
  let accountId = '';
  let secret = '';

  beforeAll(async () => {
    [server, browser, upstream] = await Promise.all([
      startServerProcess({
        DATA_DIR: dataDir,
        ADMIN_PASSWORD: PASSWORD,
        PRINT_BANNER: 'false',
        // One attempt: the overloaded answer reaches the account's health at once.
        RELAY_MAX_ATTEMPTS: '1',
      }),
      launchChromium(),
      FakeUpstream.start(),
    ]);
    admin = await openSession(browser, {
      baseURL: server.url,
      extra: { permissions: ['clipboard-read', 'clipboard-write'] },
    });
  }, 60_000);

  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await server?.stop();
    await upstream?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function signIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto('/admin');
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  function client(key: string): Anthropic {
    return new Anthropic({ apiKey: key, baseURL: server.url, maxRetries: 0 });
  }

  it('signs in, adds a claude-console account on the fake upstream and tests it', async () => {
    const { page } = admin;
    await signIn(page, 'admin', PASSWORD);
    await page.waitForURL('**/admin/dashboard', WAIT);

    await page.getByRole('navigation', { name: 'Main navigation' }).getByText('Accounts').click();
    await page.getByTestId('add-account').click();
    await page.getByTestId('account-type-select').selectOption('claude-console');
    await page.locator('input[name="name"]').fill('console-main');
    await page.locator('input[name="baseUrl"]').fill(upstream.url);
    await page.locator('input[name="credentials.apiKey"]').fill(UPSTREAM_KEY);
    await page.getByTestId('account-save').click();
    await page.waitForURL(
      (url) => /^\/admin\/accounts\/[^/]+$/.test(url.pathname) && !url.pathname.endsWith('/new'),
      WAIT,
    );
    accountId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    expect(accountId).not.toBe('');

    await page.getByTestId('account-test').first().click();
    const result = page.getByTestId('account-test-result');
    await expect(
      result
        .and(page.locator('[data-ok="true"]'))
        .waitFor(WAIT)
        .then(() => true),
    ).resolves.toBe(true);
    // The test reached the upstream with the key typed into the form.
    expect(upstream.requests.some((request) => request.headers['x-api-key'] === UPSTREAM_KEY)).toBe(
      true,
    );
    await screenshot(page, 'flow-account-tested');
    admin.expectNoProblems();
  });

  it('creates a key, copies its secret from the dialog and relays a request with the SDK', async () => {
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Main navigation' }).getByText('API keys').click();
    await page
      .getByRole('link', { name: 'Create key' })
      .or(page.getByRole('button', { name: 'Create key' }))
      .first()
      .click();
    await page.locator('input[name="name"]').fill('flow-laptop');
    await page.getByRole('button', { name: 'Create', exact: true }).click();

    const shown = page.getByTestId('key-secret');
    await shown.waitFor(WAIT);
    await page.getByTestId('copy-secret').click();
    // A string expression: it runs in the page (this project's types have no DOM).
    secret = String(await page.evaluate('navigator.clipboard.readText()'));
    expect(secret).toMatch(/^sk-sy-/);
    expect((await shown.textContent())?.trim()).toBe(secret);
    await screenshot(page, 'flow-key-secret');

    const message = await client(secret).messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hello through the admin UI flow' }],
    });
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    admin.expectNoProblems();
  });

  it('shows the request on the dashboard and in the request log with tokens and cost', async () => {
    const { page } = admin;
    await page.keyboard.press('Escape');
    // The usage recorder writes behind the request (in batches): wait until the API has the row.
    const token = await login('admin', PASSWORD);
    await until(async () => {
      const list = await call(token, 'GET', '/admin/api/usage/requests');
      return (list.body as { total: number }).total >= 1;
    });
    await page.goto('/admin/dashboard');
    const requests = page.getByTestId('dash-requests');
    await requests.filter({ hasText: /^\s*1\s*$/ }).waitFor(WAIT);
    expect((await requests.textContent())?.trim()).toBe('1');
    expect(await page.getByTestId('dash-tokens').textContent()).not.toMatch(/^\s*(0|—)\s*$/);
    expect(await page.getByTestId('dash-cost').textContent()).toMatch(/\$0\.0*[1-9]/);
    await screenshot(page, 'flow-dashboard');

    await page.goto('/admin/usage');
    const log = page.getByTestId('request-log');
    const row = log.getByRole('row').filter({ hasText: MODEL }).first();
    await row.waitFor(WAIT);
    await row.click();
    const detail = page.getByTestId('request-detail');
    await detail.waitFor(WAIT);
    expect(await page.getByTestId('request-detail-cost').textContent()).toMatch(/\$0\.0*[1-9]/);
    const tokens = await page.getByTestId('request-detail-tokens').allTextContents();
    expect(tokens.some((text) => /[1-9]/.test(text))).toBe(true);
    await screenshot(page, 'flow-request-detail');
    admin.expectNoProblems();
  });

  it('shows the account cooling with its reason after the upstream is overloaded', async () => {
    const { page } = admin;
    upstream.setDefault({ status: 529, errorMessage: 'Overloaded' });
    await expect(
      client(secret).messages.create({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'this one meets an overloaded upstream' }],
      }),
    ).rejects.toMatchObject({ status: expect.any(Number) as number });
    upstream.setDefault(undefined);

    await page.goto(`/admin/accounts/${encodeURIComponent(accountId)}`);
    const state = page.getByTestId('account-state').first();
    await state.waitFor(WAIT);
    expect(await state.getAttribute('data-state')).toMatch(/cooling|overloaded|rate_limited/);
    const reason = await page.getByTestId('account-state-reason').first().textContent();
    expect(reason ?? '').toMatch(/overload|529/i);
    await screenshot(page, 'flow-account-cooling');
    admin.expectNoProblems();
  });

  it('switches to Chinese and to dark mode', async () => {
    const { page } = admin;
    await page.getByTestId('language').selectOption('zh');
    await page.getByRole('navigation', { name: '主导航' }).getByText('仪表盘').waitFor(WAIT);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh');
    // system → light → dark
    for (let i = 0; i < 3 && !(await isDark(page)); i += 1) {
      await page.getByTestId('theme').click();
    }
    expect(await isDark(page)).toBe(true);
    await page.goto('/admin/accounts');
    await page.getByTestId('account-link').first().waitFor(WAIT);
    expect(await isDark(page)).toBe(true);
    await screenshot(page, 'flow-accounts-zh-dark');
    await page.getByTestId('language').selectOption('en');
    admin.expectNoProblems();
  });

  it('signs a user in who sees only their own keys', async () => {
    const token = await login('admin', PASSWORD);
    const user = await call(token, 'POST', '/admin/api/users', {
      username: 'dana',
      role: 'user',
      password: USER_PASSWORD,
    });
    expect(user.status).toBe(201);
    const own = await call(await login('dana', USER_PASSWORD), 'POST', '/admin/api/me/keys', {
      name: 'dana-own-key',
    });
    expect(own.status).toBe(201);

    const session = await openSession(browser, { baseURL: server.url });
    try {
      const { page } = session;
      await signIn(page, 'dana', USER_PASSWORD);
      await page.waitForURL('**/admin/me/keys', WAIT);
      const table = page.getByRole('table', { name: 'My API keys' });
      await table.getByText('dana-own-key').waitFor(WAIT);
      expect(await table.getByText('flow-laptop').count()).toBe(0);
      const nav = await page
        .getByRole('navigation', { name: 'Main navigation' })
        .getByRole('link')
        .allTextContents();
      expect(nav).not.toContain('API keys');
      expect(nav).not.toContain('Accounts');
      // The staff pages are not routes for a user at all.
      await page.goto('/admin/keys');
      await page.getByText('Page not found.').waitFor(WAIT);
      await screenshot(page, 'flow-user-my-keys');
      session.expectNoProblems();
    } finally {
      await session.close();
    }
  });

  async function login(username: string, password: string): Promise<string> {
    const response = await fetch(`${server.url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    return ((await response.json()) as { token: string }).token;
  }

  async function call(
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }
});

async function isDark(page: Page): Promise<boolean> {
  const classes = (await page.locator('html').getAttribute('class')) ?? '';
  return classes.split(/\s+/).includes('dark');
}

/** Polls `check` until it holds: bounded by a count of tries, 100 ms apart (about 30 s). */
async function until(check: () => Promise<boolean>, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the condition did not hold in time');
}

import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { FakeUpstream, type FakeScenario } from '../fake-upstream/fake-upstream';
import { startServerProcess, waitFor, type ServerProcess } from '../support/app-process';
import {
  describeWithChromium,
  launchChromium,
  openSession,
  screenshot,
  screenshotDir,
  type BrowserSession,
  type SessionOptions,
} from '../support/browser';

/**
 * The admin UI in real Chromium against the built server (dist/main.js serving admin-ui/dist),
 * seeded first through the admin API and the relay (a fake upstream behind three claude-console
 * accounts, one of them rate limited; keys with limits and budgets; a `user` with their own key;
 * requests through @anthropic-ai/sdk), so every page has figures to show. Every page of the
 * navigation is screenshot at 1280x800 and 390x844, light and dark, with the dialogs that matter,
 * and checked with axe-core (no serious or critical violation, colour contrast included). Also:
 * signing in, languages, themes, the phone drawer, the keyboard, and the JavaScript budget of the
 * first load. Screenshots go to a temp directory; `npm run screenshots` copies the ones the docs
 * show to docs/screenshots (SCREENSHOT_DIR).
 */

const SUITE = 'admin UI in Chromium';
const PASSWORD = 'admin-ui-browser-password';
const USER_PASSWORD = 'sam-browser-password';
/** Compressed JavaScript of the first load after signing in (the issue's budget). */
const JS_BUDGET_BYTES = 300 * 1024;
const PHONE = { width: 390, height: 844 };

/** The screenshots `npm run screenshots` writes to docs/screenshots (the README shows them). */
const DOCS_SHOTS = new Set([
  'dashboard-light',
  'dashboard-dark',
  'accounts-light',
  'accounts-dark',
  'account-detail-light',
  'account-detail-dark',
  'key-secret-light',
  'key-secret-dark',
  'usage-light',
  'usage-dark',
  'request-detail-light',
  'setup-light',
  'dashboard-zh-light',
  'accounts-zh-dark',
  'dashboard-phone-light',
  'keys-phone-dark',
]);

interface Seeded {
  primaryAccountId: string;
  limitedAccountId: string;
  requestId: string;
  laptopKeyId: string;
  requests: number;
}

interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Every axe run of the suite: page, theme, and what it found (printed at the end). */
const axeLog: Array<{ where: string; findings: AxeFinding[] }> = [];

describeWithChromium(SUITE, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-admin-ui-'));
  let server: ServerProcess;
  let browser: Browser;
  let upstream: FakeUpstream;
  let adminToken: string;
  let userToken: string;
  let seeded: Seeded;
  const sessions: BrowserSession[] = [];

  async function login(username: string, password: string): Promise<string> {
    const response = await fetch(`${server.url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  }

  async function api<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${server.url}/admin/api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Accounts, keys, a user and a day's worth of requests (sequential, bounded: 14 calls). */
  async function seed(): Promise<Seeded> {
    const admin = <T>(method: string, path: string, body?: unknown) =>
      api<T>(adminToken, method, path, body);
    const group = await admin<{ id: string }>('POST', '/account-groups', {
      name: 'team-pool',
      platform: 'claude',
      description: 'Shared pool for the platform team',
    });
    const account = (name: string, apiKey: string, extra: Record<string, unknown> = {}) =>
      admin<{ id: string }>('POST', '/accounts', {
        name,
        type: 'claude-console',
        baseUrl: upstream.url,
        credentials: { apiKey },
        ...extra,
      });
    // The rate-limited one is preferred (lower priority), so the first request meets its 429
    // and fails over: the account cools down for the retry-after the upstream sent.
    upstream.forCredential('sk-ant-api03-limited-0003', { status: 429, retryAfterSeconds: 1800 });
    const limited = await account('console-eu', 'sk-ant-api03-limited-0003', { priority: 10 });
    const primary = await account('console-primary', 'sk-ant-api03-primary-0001', {
      priority: 20,
      weight: 3,
      concurrencyLimit: 8,
      groupIds: [group.id],
    });
    await account('console-backup', 'sk-ant-api03-backup-0002', {
      priority: 30,
      groupIds: [group.id],
    });
    await account('console-archive', 'sk-ant-api03-archive-0004', { enabled: false });

    const key = (body: Record<string, unknown>) =>
      admin<{ id: string; secret: string }>('POST', '/keys', body);
    const laptop = await key({
      name: 'laptop',
      owner: 'alice',
      tags: ['engineering'],
      limits: { dailyCostMicros: 5_000_000, concurrency: 4 },
    });
    const ci = await key({
      name: 'ci-runner',
      owner: 'platform',
      tags: ['ci', 'automation'],
      limits: {
        windowMinutes: 60,
        windowRequests: 500,
        weeklyCostMicros: 25_000_000,
        totalCostMicros: 200_000_000,
      },
    });
    await key({
      name: 'staging',
      description: 'Staging environment',
      expiresAfterDays: 30,
      limits: { dailyCostMicros: 1_000_000 },
    });
    await key({ name: 'old-prototype', enabled: false });
    await admin('POST', '/me/keys', { name: 'admin-console' });

    await admin('POST', '/users', {
      username: 'sam',
      role: 'user',
      password: USER_PASSWORD,
      caps: { maxKeys: 3, limits: { dailyCostMicros: 2_000_000 } },
    });
    await admin('POST', '/users', {
      username: 'olivia',
      role: 'operator',
      password: 'x'.repeat(12),
    });
    // Notification targets: a webhook to the fake upstream (which answers its path with an
    // error, so the test delivery is a failed one with a Retry button) and a disabled email.
    const hook = await admin<{ id: string }>('POST', '/notifications/targets', {
      name: 'ops-webhook',
      kind: 'webhook',
      events: ['account.auth_failed', 'account.blocked', 'key.budget_exhausted'],
      config: { url: `${upstream.url}/hooks/switchyard`, secret: 'whsec-admin-ui-browser-0001' },
    });
    await admin('POST', '/notifications/targets', {
      name: 'oncall-mail',
      kind: 'email',
      enabled: false,
      config: {
        host: 'smtp.example.com',
        port: 587,
        secure: false,
        starttls: true,
        from: 'switchyard@example.com',
        to: ['oncall@example.com'],
      },
    });
    await admin('POST', `/notifications/targets/${hook.id}/test`);
    userToken = await login('sam', USER_PASSWORD);
    const own = await api<{ id: string; secret: string }>(userToken, 'POST', '/me/keys', {
      name: 'sam-laptop',
    });

    const usage = (
      inputTokens: number,
      outputTokens: number,
      cacheReadTokens = 0,
      cacheCreation5mTokens = 0,
    ): FakeScenario => ({
      reply: { usage: { inputTokens, outputTokens, cacheReadTokens, cacheCreation5mTokens } },
    });
    const calls: Array<{
      secret: string;
      model: string;
      scenario: FakeScenario;
      stream?: boolean;
    }> = [
      {
        secret: laptop.secret,
        model: 'claude-sonnet-4-6',
        scenario: usage(1800, 420, 12000, 2400),
      },
      { secret: laptop.secret, model: 'claude-sonnet-4-6', scenario: usage(2400, 910, 14000) },
      { secret: laptop.secret, model: 'claude-opus-4-7', scenario: usage(3100, 1250, 9000, 1200) },
      {
        secret: laptop.secret,
        model: 'claude-sonnet-4-6',
        scenario: usage(900, 300, 16000),
        stream: true,
      },
      { secret: ci.secret, model: 'claude-haiku-4-5-20251001', scenario: usage(5200, 640) },
      { secret: ci.secret, model: 'claude-haiku-4-5-20251001', scenario: usage(4800, 520) },
      { secret: ci.secret, model: 'claude-sonnet-4-6', scenario: usage(7000, 1800, 20000) },
      {
        secret: ci.secret,
        model: 'claude-sonnet-4-6',
        scenario: { status: 400, errorMessage: 'messages: text content blocks must be non-empty' },
      },
      { secret: ci.secret, model: 'claude-haiku-4-5-20251001', scenario: usage(3900, 410) },
      { secret: own.secret, model: 'claude-sonnet-4-6', scenario: usage(1500, 380, 6000) },
      { secret: own.secret, model: 'claude-haiku-4-5-20251001', scenario: usage(800, 120) },
    ];
    let sent = 0;
    for (const call of calls) {
      upstream.enqueue(call.scenario);
      const client = new Anthropic({
        apiKey: call.secret,
        baseURL: server.url,
        maxRetries: 0,
        timeout: 20_000,
      });
      const body = {
        model: call.model,
        max_tokens: 2048,
        messages: [{ role: 'user' as const, content: 'Summarise the release notes.' }],
      };
      sent += 1;
      if (call.stream) await client.messages.stream(body).finalMessage();
      else
        await client.messages.create(body).catch((error: unknown) => {
          if (!(error instanceof Anthropic.BadRequestError)) throw error;
        });
    }
    // Every request is in the log (the server flushes usage every 100 ms here).
    const log = await waitFor(
      () =>
        api<{ items: Array<{ id: string; status: number }>; total: number }>(
          adminToken,
          'GET',
          '/usage/requests?pageSize=50',
        ),
      (page) => page.total >= sent,
      15_000,
      100,
    );
    const ok = log.items.find((item) => item.status === 200);
    return {
      primaryAccountId: primary.id,
      limitedAccountId: limited.id,
      requestId: (ok ?? log.items[0]).id,
      laptopKeyId: laptop.id,
      requests: sent,
    };
  }

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    [server, browser] = await Promise.all([
      startServerProcess({
        DATA_DIR: dataDir,
        ADMIN_PASSWORD: PASSWORD,
        LOG_LEVEL: 'info',
        USAGE_FLUSH_INTERVAL_MS: '100',
      }),
      launchChromium(),
    ]);
    adminToken = await login('admin', PASSWORD);
    seeded = await seed();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await upstream?.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (axeLog.length > 0) {
      writeFileSync(join(screenshotDir(), 'axe.json'), JSON.stringify(axeLog, null, 2));
      const byImpact = new Map<string, number>();
      for (const run of axeLog)
        for (const finding of run.findings)
          byImpact.set(String(finding.impact), (byImpact.get(String(finding.impact)) ?? 0) + 1);
      const rules = new Set(axeLog.flatMap((run) => run.findings.map((finding) => finding.id)));
      process.stdout.write(
        `${SUITE}: axe-core on ${axeLog.length} page views: ` +
          `${[...byImpact].map(([impact, n]) => `${n} ${impact}`).join(', ') || 'no violations'}` +
          `${rules.size > 0 ? ` (rules: ${[...rules].join(', ')})` : ''}\n`,
      );
    }
  });

  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.close()));
  });

  async function open(options: SessionOptions = {}): Promise<BrowserSession> {
    const session = await openSession(browser, {
      baseURL: server.url,
      ...options,
      // axe-core is injected as an inline script.
      extra: { bypassCSP: true, ...options.extra },
    });
    sessions.push(session);
    countRequests(session.page);
    return session;
  }

  async function signIn(page: Page, password = PASSWORD): Promise<void> {
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** Opens /admin and signs in as admin through the form; resolves on the dashboard. */
  async function openSignedIn(options: SessionOptions = {}): Promise<BrowserSession> {
    const session = await open(options);
    await session.page.goto('/admin');
    await signIn(session.page);
    await session.page.waitForURL('**/admin/dashboard');
    return session;
  }

  /** A session that starts signed in (the token in sessionStorage, as after signing in). */
  async function openWithToken(
    options: SessionOptions = {},
    token = adminToken,
  ): Promise<BrowserSession> {
    const session = await open(options);
    await session.context.addInitScript({
      content: `sessionStorage.setItem('switchyard.token', ${JSON.stringify(token)});`,
    });
    return session;
  }

  /** Whether the dark theme is on (the `dark` class on <html>, as the theme tokens read it). */
  async function isDark(page: Page): Promise<boolean> {
    const classes = (await page.locator('html').getAttribute('class')) ?? '';
    return classes.split(/\s+/).includes('dark');
  }

  /** The side navigation's links (the desktop one; the drawer's is the same list). */
  function mainNav(page: Page) {
    return page.getByRole('navigation', { name: 'Main navigation' });
  }

  /** Client-side navigation (no reload), as a link in the app would do it. */
  async function go(page: Page, path: string): Promise<void> {
    if (!page.url().includes('/admin/') || page.url().endsWith('/admin')) {
      await page.goto(path);
    } else {
      await page.evaluate(
        `window.history.pushState({}, '', ${JSON.stringify(path)});
        window.dispatchEvent(new PopStateEvent('popstate'));`,
      );
    }
    await settled(page);
  }

  /** Requests each page has in flight (counted from the test's side). */
  const inFlight = new WeakMap<Page, number>();

  function countRequests(page: Page): void {
    inFlight.set(page, 0);
    const done = (): void => void inFlight.set(page, Math.max(0, (inFlight.get(page) ?? 1) - 1));
    page.on('request', () => inFlight.set(page, (inFlight.get(page) ?? 0) + 1));
    page.on('requestfinished', done);
    page.on('requestfailed', done);
  }

  async function untilNoRequests(page: Page): Promise<void> {
    await waitFor(
      async () => inFlight.get(page) ?? 0,
      (n) => n === 0,
      10_000,
      25,
    );
  }

  /**
   * The page has its heading, no spinner in the page or a dialog, its fonts, and no request in
   * flight, twice in a row (a query that starts after the first check is caught by the second).
   */
  async function settled(page: Page): Promise<void> {
    await page.locator('main h1').first().waitFor();
    const quiet = `document.querySelector('main .animate-spin, [role="dialog"] .animate-spin') === null &&
      document.fonts.status === 'loaded'`;
    for (let round = 0; round < 2; round += 1) {
      await page.waitForFunction(quiet, undefined, { timeout: 10_000 });
      await untilNoRequests(page);
      await page.evaluate(
        'new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 50)))',
      );
    }
    await page.waitForFunction(quiet, undefined, { timeout: 10_000 });
  }

  /** axe-core on the page as it is; returns the serious and critical findings. */
  async function axe(page: Page, where: string): Promise<AxeFinding[]> {
    if (!(await page.evaluate<boolean>(`'axe' in window`))) {
      await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
    }
    // Every rule axe runs by default (WCAG 2.x A/AA and best practices), colour contrast included.
    const findings = await page.evaluate<AxeFinding[]>(`
      window.axe.run(document, { resultTypes: ['violations'] }).then(({ violations }) =>
        violations.map((violation) => ({
          id: violation.id,
          impact: violation.impact,
          help: violation.help,
          targets: violation.nodes.slice(0, 4).map((node) => node.target.join(' ')),
        })),
      )`);
    axeLog.push({ where, findings });
    return findings.filter(
      (finding) => finding.impact === 'serious' || finding.impact === 'critical',
    );
  }

  /** The pages of the admin's navigation, as `/admin/...` paths with a screenshot name. */
  const NAV_PAGES: Array<{ path: string; name: string }> = [
    { path: '/admin/dashboard', name: 'dashboard' },
    { path: '/admin/accounts', name: 'accounts' },
    { path: '/admin/keys', name: 'keys' },
    { path: '/admin/usage', name: 'usage' },
    { path: '/admin/routing', name: 'routing' },
    { path: '/admin/users', name: 'users' },
    { path: '/admin/audit', name: 'audit' },
    { path: '/admin/settings', name: 'settings' },
    { path: '/admin/notifications', name: 'notifications' },
    { path: '/admin/me/keys', name: 'me-keys' },
    { path: '/admin/me/usage', name: 'me-usage' },
    { path: '/admin/setup', name: 'setup' },
  ];

  async function shot(page: Page, name: string): Promise<string> {
    return screenshot(page, name, { docs: DOCS_SHOTS.has(name) });
  }

  it('should render the login page without console errors', async () => {
    const { page, expectNoProblems } = await open();
    const response = await page.goto('/admin');
    expect(response?.status()).toBe(200);
    await expect(
      page.getByRole('heading', { name: 'Sign in to Switchyard' }).isVisible(),
    ).resolves.toBe(true);
    await expect(page.getByLabel('Username').isVisible()).resolves.toBe(true);
    await page.waitForLoadState('networkidle');
    await shot(page, 'login-light');
    expect(await axe(page, 'login light')).toEqual([]);
    expectNoProblems();
  });

  it('should say so when the password is wrong', async () => {
    const { page, expectNoProblems } = await open();
    await page.goto('/admin');
    await signIn(page, 'not-the-password');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Sign-in failed/);
    expect(page.url()).toMatch(/\/admin$/);
    // Chromium logs the refused login (a 401 the page expects) as a console error.
    expectNoProblems([/status of 401/]);
  });

  it('should land on the dashboard with the navigation after signing in', async () => {
    const { page, expectNoProblems } = await openSignedIn();
    await expect(mainNav(page).isVisible()).resolves.toBe(true);
    const labels = await mainNav(page).getByRole('link').allTextContents();
    expect(labels).toEqual(
      expect.arrayContaining(['Dashboard', 'Accounts', 'API keys', 'Users', 'Settings']),
    );
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('admin');
    const hrefs = await mainNav(page)
      .getByRole('link')
      .evaluateAll((links) => links.map((link) => link.getAttribute('href')));
    expect(hrefs).toEqual(NAV_PAGES.map((entry) => entry.path));
    expectNoProblems();
  });

  it.each([['light'], ['dark']] as const)(
    'should show every page with the seeded data at 1280 px (%s), with no serious axe finding',
    async (scheme) => {
      const { page, expectNoProblems } = await openWithToken({ colorScheme: scheme });
      await page.goto('/admin/dashboard');
      await settled(page);
      expect(await isDark(page)).toBe(scheme === 'dark');
      const serious: Record<string, AxeFinding[]> = {};
      const check = async (name: string): Promise<void> => {
        await shot(page, `${name}-${scheme}`);
        const found = await axe(page, `${name} ${scheme}`);
        if (found.length > 0) serious[name] = found;
      };
      for (const { path, name } of NAV_PAGES) {
        await go(page, path);
        expect(`${path}: ${await page.locator('main').textContent()}`).not.toContain(
          'Page not found.',
        );
        await check(name);
      }
      // The figures the seed produced are on the pages.
      await go(page, '/admin/accounts');
      await page.getByRole('link', { name: 'console-primary' }).first().waitFor();
      await go(page, `/admin/accounts/${seeded.primaryAccountId}`);
      await check('account-detail');
      await go(page, `/admin/accounts/${seeded.limitedAccountId}`);
      await check('account-cooling');
      await go(page, '/admin/accounts/new');
      await check('account-new');
      await go(page, `/admin/usage/requests/${seeded.requestId}`);
      await page.getByRole('dialog').waitFor();
      await settled(page);
      await check('request-detail');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });

      // The key secret dialog, from the create form.
      await go(page, '/admin/keys/new');
      await check('key-new');
      await page.getByLabel('Name').first().fill(`release-bot-${scheme}`);
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByTestId('key-secret').waitFor();
      await settled(page);
      await check('key-secret');
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'detached' });

      // Notifications: the delivery log, a delivery's detail, and the target form.
      await go(page, '/admin/notifications?tab=deliveries');
      await page
        .getByRole('button', { name: /^Details of the delivery/ })
        .first()
        .waitFor();
      await check('notification-deliveries');
      await page
        .getByRole('button', { name: /^Details of the delivery/ })
        .first()
        .click();
      await page.getByTestId('delivery-detail').waitFor();
      await settled(page);
      await check('notification-delivery');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await go(page, '/admin/notifications');
      await page.getByRole('button', { name: 'Edit ops-webhook' }).click();
      await page.getByRole('dialog').waitFor();
      await settled(page);
      await check('notification-edit');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      process.stdout.write(`${SUITE}: ${scheme} screenshots in ${screenshotDir()}\n`);
      expect(serious).toEqual({});
      expectNoProblems();
    },
  );

  it.each([['light'], ['dark']] as const)(
    'should fit every page into a 390 px phone screen (%s) with no serious axe finding',
    async (scheme) => {
      const { page, expectNoProblems } = await openWithToken({
        colorScheme: scheme,
        viewport: PHONE,
      });
      await page.goto('/admin/dashboard');
      await settled(page);
      const serious: Record<string, AxeFinding[]> = {};
      const overflow: Record<string, number> = {};
      for (const { path, name } of [
        ...NAV_PAGES,
        { path: `/admin/accounts/${seeded.primaryAccountId}`, name: 'account-detail' },
        { path: '/admin/accounts/new', name: 'account-new' },
        { path: '/admin/notifications?tab=deliveries', name: 'notification-deliveries' },
        { path: `/admin/usage/requests/${seeded.requestId}`, name: 'request-detail' },
      ]) {
        await go(page, path);
        await shot(page, `${name}-phone-${scheme}`);
        // Nothing wider than the screen: tables scroll inside their own box.
        const width = await page.evaluate<number>('document.documentElement.scrollWidth');
        if (width > PHONE.width) overflow[name] = width;
        const found = await axe(page, `${name} phone ${scheme}`);
        if (found.length > 0) serious[name] = found;
        if (name === 'request-detail') {
          await page.keyboard.press('Escape');
          await page.getByRole('dialog').waitFor({ state: 'detached' });
        }
      }
      expect({ overflow, serious }).toEqual({ overflow: {}, serious: {} });
      expectNoProblems();
    },
  );

  it('should show a user their own keys and usage only', async () => {
    const { page, expectNoProblems } = await openWithToken({}, userToken);
    await page.goto('/admin');
    await page.waitForURL('**/admin/me/keys');
    await settled(page);
    await page.getByText('sam-laptop').first().waitFor();
    const links = await mainNav(page).getByRole('link').allTextContents();
    expect(links).toEqual(['My keys', 'My usage', 'Client setup']);
    await shot(page, 'user-me-keys-light');
    expect(await axe(page, 'user me-keys light')).toEqual([]);
    await go(page, '/admin/me/usage');
    await shot(page, 'user-me-usage-light');
    expect(await axe(page, 'user me-usage light')).toEqual([]);
    expectNoProblems();
  });

  it('should switch to Chinese and remember it after a reload', async () => {
    const { page, expectNoProblems } = await openSignedIn();
    await page.getByTestId('language').selectOption('zh');
    // The navigation's own label is translated too.
    await page
      .getByRole('navigation', { name: '主导航' })
      .getByRole('link', { name: '仪表盘' })
      .waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('zh');
    await page.reload();
    const nav = page.getByRole('navigation', { name: '主导航' });
    await nav.getByRole('link', { name: '仪表盘' }).waitFor();
    expect(await nav.getByRole('link').allTextContents()).toEqual(
      expect.arrayContaining(['账户', 'API 密钥', '设置']),
    );
    expect(await page.getByTestId('language').inputValue()).toBe('zh');
    await settled(page);
    await shot(page, 'dashboard-zh-light');
    expect(await axe(page, 'dashboard zh light')).toEqual([]);
    expectNoProblems();
  });

  it('should show the Chinese pages in the dark theme too', async () => {
    const { page, expectNoProblems } = await openWithToken({
      colorScheme: 'dark',
      locale: 'zh-CN',
    });
    await page.goto('/admin/accounts');
    await settled(page);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh');
    await shot(page, 'accounts-zh-dark');
    await go(page, '/admin/keys');
    await shot(page, 'keys-zh-dark');
    await go(page, '/admin/usage');
    await shot(page, 'usage-zh-dark');
    expect(await axe(page, 'usage zh dark')).toEqual([]);
    expectNoProblems();
  });

  it('should cycle the theme system, light, dark and back, following the system by default', async () => {
    const { page, expectNoProblems } = await openSignedIn({ colorScheme: 'dark' });
    const theme = page.getByTestId('theme');
    expect(await theme.getAttribute('aria-label')).toBe('Theme: System');
    expect(await isDark(page)).toBe(true);
    await theme.click();
    expect(await theme.getAttribute('aria-label')).toBe('Theme: Light');
    expect(await isDark(page)).toBe(false);
    await theme.click();
    expect(await theme.getAttribute('aria-label')).toBe('Theme: Dark');
    expect(await isDark(page)).toBe(true);
    // Remembered: the bootstrap script in index.html applies it before the app runs.
    await page.reload();
    await mainNav(page).waitFor();
    expect(await isDark(page)).toBe(true);
    expect(await page.getByTestId('theme').getAttribute('aria-label')).toBe('Theme: Dark');
    await page.getByTestId('theme').click();
    expect(await isDark(page)).toBe(true); // back to the system's choice, which is dark
    expect(await page.getByTestId('theme').getAttribute('aria-label')).toBe('Theme: System');
    expectNoProblems();
  });

  it('should give a phone-sized screen a menu button and a navigation drawer', async () => {
    const { page, expectNoProblems } = await openWithToken({ viewport: PHONE });
    await page.goto('/admin/dashboard');
    await settled(page);
    await expect(mainNav(page).isVisible()).resolves.toBe(false);
    const menu = page.getByRole('button', { name: 'Menu', exact: true });
    await expect(menu.isVisible()).resolves.toBe(true);
    await menu.click();
    const drawer = page.getByRole('dialog', { name: 'Menu' });
    await drawer.waitFor();
    await shot(page, 'drawer-phone-light');
    expect(await axe(page, 'drawer phone light')).toEqual([]);
    // Escape closes it, focus goes back to the menu button, and the keyboard opens it again.
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
    expect(await hasFocus(menu)).toBe(true);
    await page.keyboard.press('Enter');
    await drawer.waitFor();
    await drawer.getByRole('link', { name: 'API keys' }).click();
    await page.waitForURL('**/admin/keys');
    await drawer.waitFor({ state: 'detached' });
    await settled(page);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      PHONE.width,
    );
    expectNoProblems();
  });

  /** What has the keyboard focus: its text, href and whether it sits in the main navigation. */
  async function focused(
    page: Page,
  ): Promise<{ text: string; href: string | null; inNav: boolean }> {
    const element = page.locator(':focus');
    return {
      text: ((await element.textContent()) ?? '').trim(),
      href: await element.getAttribute('href'),
      inNav: await element.evaluate((node) => node.closest('nav') !== null),
    };
  }

  /** Whether the element has the keyboard focus. */
  function hasFocus(locator: Locator): Promise<boolean> {
    return locator.evaluate((node) => node === node.ownerDocument.activeElement);
  }

  /**
   * Presses Tab until `condition` (an expression over `el`, the focused element) holds; at most
   * `limit` presses. Returns how many it took.
   */
  async function tabTo(page: Page, condition: string, limit = 60): Promise<number> {
    for (let presses = 1; presses <= limit; presses += 1) {
      await page.keyboard.press('Tab');
      const hit = await page.evaluate<boolean>(
        `(() => { const el = document.activeElement; return !!el && (${condition}); })()`,
      );
      if (hit) return presses;
    }
    throw new Error(`${condition}: not reached with ${limit} presses of Tab`);
  }

  it('should reach the skip link and then the first navigation link with the keyboard', async () => {
    const { page, expectNoProblems } = await openWithToken();
    await page.goto('/admin/dashboard');
    await mainNav(page).waitFor();
    await page.keyboard.press('Tab');
    expect(await focused(page)).toEqual({ text: 'Main navigation', href: '#main', inNav: false });
    await page.keyboard.press('Tab');
    expect(await focused(page)).toEqual({
      text: 'Dashboard',
      href: '/admin/dashboard',
      inNav: true,
    });
    expectNoProblems();
  });

  it('should create a key and close its secret dialog with the keyboard alone', async () => {
    const { page, expectNoProblems } = await openWithToken();
    await page.goto('/admin/keys');
    await settled(page);
    // Skip link, then past the navigation to the page's main action.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await tabTo(page, `el.textContent.trim() === 'Create key'`);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/admin/keys/new');
    await settled(page);
    await tabTo(page, `el.tagName === 'INPUT' && el.labels?.[0]?.textContent.startsWith('Name')`);
    await page.keyboard.type('keyboard-only');
    await page.keyboard.press('Enter'); // submits the form
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('key-secret').waitFor();
    // Focus is inside the dialog and stays there (Radix traps it).
    for (let i = 0; i < 25; i += 1) {
      await page.keyboard.press('Tab');
      expect(
        await page.evaluate<boolean>(`document.activeElement?.closest('[role="dialog"]') !== null`),
      ).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'keyboard-only' }).first().waitFor();
    expectNoProblems();
  });

  it('should open a confirmation from a key row with Enter, and give focus back on Escape', async () => {
    const { page, expectNoProblems } = await openWithToken();
    await page.goto('/admin/keys');
    await settled(page);
    const rotate = page.getByRole('button', { name: /Rotate/ }).first();
    await rotate.focus();
    await page.keyboard.press('Enter');
    const confirm = page.getByRole('alertdialog').or(page.getByRole('dialog'));
    await confirm.waitFor();
    expect(
      await page.evaluate<string>(
        `document.activeElement?.closest('[role]')?.getAttribute('role')`,
      ),
    ).toMatch(/dialog/);
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'detached' });
    expect(await hasFocus(rotate)).toBe(true);
    expectNoProblems();
  });

  it('should open a request from the log with the keyboard and close it with Escape', async () => {
    const { page, expectNoProblems } = await openWithToken();
    await page.goto('/admin/usage');
    await settled(page);
    const opener = page.locator('[data-testid="request-log"] tbody button').first();
    await opener.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(page.url()).toMatch(/\/admin\/usage\/requests\/[\w-]+$/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.waitForURL('**/admin/usage');
    expectNoProblems();
  });

  it('should load under 300 KB of compressed JavaScript on the first visit after signing in', async () => {
    // A fresh context: an empty cache, and the session already in sessionStorage as after login.
    const { page, expectNoProblems } = await openWithToken();
    await page.goto('/admin');
    await page.waitForURL('**/admin/dashboard');
    await page.locator('main h1').first().waitFor();
    await page.waitForLoadState('networkidle');
    // Resource timing: encodedBodySize is the body as it came over the wire (compressed).
    const scripts = await page.evaluate<
      Array<{ url: string; encoded: number; decoded: number }>
    >(`performance
      .getEntriesByType('resource')
      .filter((entry) => new URL(entry.name).pathname.endsWith('.js'))
      .map((entry) => ({
        url: new URL(entry.name).pathname,
        encoded: entry.encodedBodySize,
        decoded: entry.decodedBodySize,
      }))`);
    expect(scripts.length).toBeGreaterThan(0);
    const compressed = scripts.reduce((sum, entry) => sum + entry.encoded, 0);
    const raw = scripts.reduce((sum, entry) => sum + entry.decoded, 0);
    process.stdout.write(
      `${SUITE}: first load after sign-in: ${scripts.length} JavaScript files, ` +
        `${(compressed / 1024).toFixed(1)} KB compressed (${(raw / 1024).toFixed(1)} KB raw), ` +
        `budget ${JS_BUDGET_BYTES / 1024} KB\n`,
    );
    // Sent compressed (the build's Brotli copies), not as the raw files.
    expect(compressed).toBeLessThan(raw / 2);
    expect(compressed).toBeLessThan(JS_BUDGET_BYTES);
    expectNoProblems();
  });
});

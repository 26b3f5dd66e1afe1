import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServerProcess, type ServerProcess } from '../support/app-process';
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
 * The admin UI in real Chromium against the built server (dist/main.js serving admin-ui/dist):
 * signing in, the navigation, languages, themes, a phone-sized screen, the keyboard, and the
 * JavaScript budget of the first load. Screenshots of every page, light and dark, go to a temp
 * directory, or to SCREENSHOT_DIR (`npm run screenshots` writes docs/screenshots).
 */

const SUITE = 'admin UI in Chromium';
const PASSWORD = 'admin-ui-browser-password';
/** Compressed JavaScript of the first load after signing in (the budget). */
const JS_BUDGET_BYTES = 300 * 1024;

describeWithChromium(SUITE, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-admin-ui-'));
  let server: ServerProcess;
  let browser: Browser;
  const sessions: BrowserSession[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([
      startServerProcess({ DATA_DIR: dataDir, ADMIN_PASSWORD: PASSWORD, LOG_LEVEL: 'info' }),
      launchChromium(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.close()));
  });

  async function open(options: SessionOptions = {}): Promise<BrowserSession> {
    const session = await openSession(browser, { baseURL: server.url, ...options });
    sessions.push(session);
    return session;
  }

  async function signIn(page: Page, password = PASSWORD): Promise<void> {
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** Opens /admin and signs in as admin; resolves on the dashboard. */
  async function openSignedIn(options: SessionOptions = {}): Promise<BrowserSession> {
    const session = await open(options);
    await session.page.goto('/admin');
    await signIn(session.page);
    await session.page.waitForURL('**/admin/dashboard');
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

  it('should render the login page without console errors', async () => {
    const { page, expectNoProblems } = await open();
    const response = await page.goto('/admin');
    expect(response?.status()).toBe(200);
    await expect(
      page.getByRole('heading', { name: 'Sign in to Switchyard' }).isVisible(),
    ).resolves.toBe(true);
    await expect(page.getByLabel('Username').isVisible()).resolves.toBe(true);
    await page.waitForLoadState('networkidle');
    await screenshot(page, 'login-light');
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
    expectNoProblems();
  });

  it.each([['light'], ['dark']] as const)(
    'should load every page of the navigation (%s theme) without errors',
    async (scheme) => {
      const { page, expectNoProblems } = await openSignedIn({ colorScheme: scheme });
      expect(await isDark(page)).toBe(scheme === 'dark');
      const links = mainNav(page).getByRole('link');
      const targets: Array<{ href: string; label: string }> = [];
      for (const link of await links.all()) {
        targets.push({
          href: (await link.getAttribute('href')) ?? '',
          label: (await link.textContent()) ?? '',
        });
      }
      expect(targets.length).toBeGreaterThanOrEqual(8);
      const shots: string[] = [];
      for (const { href, label } of targets) {
        await mainNav(page).getByRole('link', { name: label, exact: true }).click();
        await page.waitForURL(`**${href}`);
        const heading = page.locator('main h1').first();
        await heading.waitFor();
        expect(`${href}: ${await page.locator('main').textContent()}`).not.toContain(
          'Page not found.',
        );
        await page.waitForLoadState('networkidle');
        const name = href.replace(/^\/admin\//, '').replace(/\//g, '-');
        shots.push(await screenshot(page, `${name}-${scheme}`));
      }
      process.stdout.write(`${SUITE}: ${shots.length} screenshots in ${screenshotDir()}\n`);
      expectNoProblems();
    },
  );

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
    await screenshot(page, 'dashboard-zh');
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
    const { page, expectNoProblems } = await openSignedIn({
      viewport: { width: 390, height: 844 },
    });
    await expect(mainNav(page).isVisible()).resolves.toBe(false);
    const menu = page.getByRole('button', { name: 'Menu', exact: true });
    await expect(menu.isVisible()).resolves.toBe(true);
    await screenshot(page, 'dashboard-phone-light');
    await menu.click();
    const drawer = page.getByRole('dialog', { name: 'Menu' });
    await drawer.waitFor();
    await screenshot(page, 'drawer-phone-light');
    // Escape closes it and the keyboard can open it again.
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
    await menu.focus();
    await page.keyboard.press('Enter');
    await drawer.waitFor();
    await drawer.getByRole('link', { name: 'API keys' }).click();
    await page.waitForURL('**/admin/keys');
    await drawer.waitFor({ state: 'detached' });
    // Nothing wider than the screen: no sideways scrolling of the whole page.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expectNoProblems();
  });

  it('should reach the skip link and then the first navigation link with the keyboard', async () => {
    const { page, expectNoProblems } = await openSignedIn();
    await page.reload();
    await mainNav(page).waitFor();
    await page.keyboard.press('Tab');
    const focused = async (): Promise<{ text: string; href: string | null; inNav: boolean }> => {
      const element = page.locator(':focus');
      return {
        text: ((await element.textContent()) ?? '').trim(),
        href: await element.getAttribute('href'),
        inNav: await element.evaluate((node) => node.closest('nav') !== null),
      };
    };
    expect(await focused()).toEqual({ text: 'Main navigation', href: '#main', inNav: false });
    await page.keyboard.press('Tab');
    expect(await focused()).toEqual({ text: 'Dashboard', href: '/admin/dashboard', inNav: true });
    expectNoProblems();
  });

  it('should load under 300 KB of compressed JavaScript on the first visit after signing in', async () => {
    const login = await fetch(`${server.url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    // A fresh context: an empty cache, and the session already in sessionStorage as after login.
    const { page, context, expectNoProblems } = await open();
    await context.addInitScript({
      content: `sessionStorage.setItem('switchyard.token', ${JSON.stringify(token)});`,
    });
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

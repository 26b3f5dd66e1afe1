import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';

/**
 * Browser tests drive Debian's `chromium` package with playwright-core: no browser download.
 * Without it the suite is skipped with one line on stderr, unless REQUIRE_SERVICES=1 (CI), where a
 * missing browser fails the run (.ci/run installs it).
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless and quiet: no GPU, no sandbox (containers), no calls home, no first-run UI. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

function chromiumOrSkip(suite: string): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(
      `${suite}: no Chromium at ${CHROMIUM_PATH} but REQUIRE_SERVICES=1; ` +
        'install Debian chromium (apt-get install chromium) or set CHROMIUM_PATH',
    );
  }
  process.stderr.write(
    `[skip] ${suite}: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)\n`,
  );
  return false;
}

/** `describe` when Chromium is installed; skipped (or failed under REQUIRE_SERVICES=1) without. */
export function describeWithChromium(name: string, fn: () => void): void {
  if (!chromiumOrSkip(name)) {
    // One skipped test keeps jest from failing the file for containing no tests.
    describe.skip(name, () => {
      it('needs Chromium', () => undefined);
    });
    return;
  }
  describe(name, fn);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** What went wrong in a page that a user could see in the console or the network panel. */
export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
  /**
   * Fails the test when the page logged a console error, threw, or had a request fail since it
   * opened (or since the last `clearProblems`); `allow` lists expected console messages (the
   * browser logs a 401 it was told to expect, such as a wrong password, as an error).
   */
  expectNoProblems(allow?: RegExp[]): void;
  clearProblems(): void;
  close(): Promise<void>;
}

export interface SessionOptions {
  /** Default 1280 x 800. */
  viewport?: { width: number; height: number };
  /** The system theme the page sees (prefers-color-scheme). Default light. */
  colorScheme?: 'light' | 'dark';
  /** navigator.language; default en-US, so the UI starts in English whatever the host says. */
  locale?: string;
  baseURL?: string;
  extra?: BrowserContextOptions;
}

/** A fresh context (own storage, own cache) and page that records every problem it sees. */
export async function openSession(
  browser: Browser,
  options: SessionOptions = {},
): Promise<BrowserSession> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    colorScheme: options.colorScheme ?? 'light',
    locale: options.locale ?? 'en-US',
    baseURL: options.baseURL,
    ...options.extra,
  });
  const page = await context.newPage();
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], failedRequests: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') {
      const { url, lineNumber } = message.location();
      problems.consoleErrors.push(`${message.text()} (${url}:${lineNumber})`);
    }
  });
  page.on('pageerror', (error) => problems.pageErrors.push(error.stack ?? error.message));
  page.on('requestfailed', (request) => {
    const reason = request.failure()?.errorText ?? 'failed';
    // A request the page itself gave up on (navigation away, a cancelled query) is not a fault.
    if (reason === 'net::ERR_ABORTED') return;
    problems.failedRequests.push(`${request.method()} ${request.url()}: ${reason}`);
  });
  const clearProblems = (): void => {
    problems.consoleErrors.length = 0;
    problems.pageErrors.length = 0;
    problems.failedRequests.length = 0;
  };
  return {
    context,
    page,
    problems,
    clearProblems,
    expectNoProblems(allow: RegExp[] = []) {
      expect({
        consoleErrors: problems.consoleErrors.filter(
          (text) => !allow.some((pattern) => pattern.test(text)),
        ),
        pageErrors: problems.pageErrors,
        failedRequests: problems.failedRequests,
      }).toEqual({ consoleErrors: [], pageErrors: [], failedRequests: [] });
    },
    close: () => context.close(),
  };
}

let defaultScreenshotDir: string | undefined;

/** One temp directory per test run, where every screenshot goes. */
export function screenshotDir(): string {
  defaultScreenshotDir ??= mkdtempSync(join(tmpdir(), 'switchyard-screenshots-'));
  return defaultScreenshotDir;
}

/** SCREENSHOT_DIR (relative to the working directory), or undefined when it is not set. */
export function docsScreenshotDir(): string | undefined {
  const configured = process.env.SCREENSHOT_DIR;
  if (!configured) return undefined;
  const dir = resolve(configured);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Saves a PNG of the viewport as `<name>.png` in screenshotDir(); returns its path. With
 * `docs: true` and SCREENSHOT_DIR set (`npm run screenshots`), a copy goes there too: only the
 * screenshots the documentation shows, so the committed set stays small.
 */
export async function screenshot(
  page: Page,
  name: string,
  options: { docs?: boolean } = {},
): Promise<string> {
  const file = `${name.replace(/[^\w.-]+/g, '-')}.png`;
  const path = join(screenshotDir(), file);
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  const docs = options.docs ? docsScreenshotDir() : undefined;
  if (docs) copyFileSync(path, join(docs, file));
  return path;
}

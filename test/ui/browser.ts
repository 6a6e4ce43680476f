// A real Chromium for the dashboard tests: Debian's package driven by playwright-core (no browser
// download), headless, a fresh temporary profile, no network beyond the router. Skips with the reason when
// chromium is missing, unless CI=1 or REQUIRE_BROWSER=1 make that a failure. Closed in teardown.
// Every page collects console errors and CSP violations; `clean()` asserts there were none.

import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** False (and the test skipped or failed with the reason) when Chromium is not installed. */
export function requireBrowser(t: Test): boolean {
  if (existsSync(CHROMIUM)) return true;
  const reason = `chromium not found at ${CHROMIUM}; install Debian's chromium (apt-get install chromium) or set CHROMIUM_BIN`;
  if (process.env['CI'] === '1' || process.env['CI'] === 'true' || process.env['REQUIRE_BROWSER'] === '1') t.fail(`${reason} -- CI/REQUIRE_BROWSER makes this a failure`);
  else t.pass('browser tests skipped', { skip: reason });
  return false;
}

export interface OpenPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Console errors and CSP violations seen so far. */
  readonly problems: string[];
}

/** Launch Chromium (once per test file is enough; playwright gives it a fresh temporary profile); closed in teardown. */
export async function launch(t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
  t.teardown(() => browser.close());
  return browser;
}

/** A fresh context and page; `viewport` defaults to a laptop, pass a phone's for the phone test. */
export async function openPage(t: Test, browser: Browser, options: Parameters<Browser['newContext']>[0] = {}): Promise<OpenPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  t.teardown(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { page, context, problems };
}

/**
 * Where the tests put their screenshots: docs/ui/ (linked from docs/dashboard.md) when
 * WHIPPET_SCREENSHOTS=docs (`npm run screenshots`), else a temporary folder, so that `npm test` still
 * takes every screenshot but leaves the checkout as it was.
 */
export const SHOTS = process.env.WHIPPET_SCREENSHOTS === 'docs'
  ? new URL('../../docs/ui/', import.meta.url).pathname
  : mkdtempSync(join(tmpdir(), 'whippet-ui-shots-'));

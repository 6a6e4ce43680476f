// The dashboard in a real Chromium against a real `whippet up`: the functions page lists the stack's
// functions; invoking echo from the panel shows its output; an async call made with undici appears in
// the live list within a second and turns succeeded; its page shows the attempt and the result; the
// queue charts and the log tail render; the page works by keyboard and on a phone's viewport, with no
// console error or CSP violation. Screenshots of each page go to docs/ui/.

import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { startUp } from '../helpers/up-process.js';
import { SHOTS, launch, openPage, requireBrowser } from './browser.js';

const ROOT = new URL('../../', import.meta.url).pathname;

if (requireBrowser(t)) {
  const dir = t.testdir();
  cpSync(join(ROOT, 'examples', 'echo'), join(dir, 'echo'), { recursive: true });
  cpSync(join(ROOT, 'examples', 'fail'), join(dir, 'fail'), { recursive: true });
  writeFileSync(join(dir, 'stack.yml'), 'functions:\n  echo: {lang: bash, handler: ./echo}\n  fail: {lang: node, handler: ./fail}\n');
  const up = await startUp(t, dir, ['stack.yml']);
  const browser = await launch(t);
  const ui = `${up.url}/ui/`;

  t.test('the page is served with a strict CSP and loads nothing from elsewhere', async (t) => {
    const res = await request(ui);
    t.equal(res.statusCode, 200);
    t.match(String(res.headers['content-security-policy']), /default-src 'none'; script-src 'self'; style-src 'self'/);
    const html = await res.body.text();
    t.notMatch(html, /<script(?![^>]*\bsrc=)/, 'no inline script');
    t.notMatch(html, /https?:\/\//, 'no absolute URL (no CDN)');
  });

  t.test('functions page lists the stack; invoking echo from the panel shows its output', async (t) => {
    const { page, problems } = await openPage(t, browser);
    await page.goto(`${ui}#/functions`);
    await page.locator('tr[data-function="fail"]').waitFor();
    t.same(await page.locator('tr[data-function]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-function'))), ['echo', 'fail'],
      'both functions of the stack are listed');
    await page.goto(`${ui}#/functions/echo`);
    await page.locator('h2', { hasText: 'Invoke echo' }).waitFor();
    await page.fill('textarea[name="body"]', 'hello from the <b>panel</b>');
    await page.click('button[type="submit"]');
    const body = page.locator('[data-testid="body"]');
    await body.waitFor();
    t.equal(await body.textContent(), 'hello from the <b>panel</b>', 'the output is shown as text, not as HTML');
    t.match(await page.locator('.answer [data-testid="status"]').textContent(), /^200\b/);
    t.equal(await page.locator('.answer b').count(), 0, 'nothing of the output became markup');
    await page.locator('tr[data-function="echo"] td:nth-child(6)', { hasText: /^[1-9]/ }).waitFor(); // the call counts in the last minutes
    await page.screenshot({ path: join(SHOTS, 'functions.png'), fullPage: true });
    t.same(problems, [], 'no console error or CSP violation');
  });

  t.test('an async call appears in the live list within a second and turns succeeded', async (t) => {
    const { page, problems } = await openPage(t, browser);
    await page.goto(`${ui}#/calls`);
    await page.locator('.live.on').waitFor();
    const res = await request(`${up.url}/async-function/echo`, { method: 'POST', body: 'queued by undici' });
    t.equal(res.statusCode, 202);
    const { callId } = await res.body.json() as { callId: string };
    const accepted = Date.now();
    const row = page.locator(`tr[data-call="${callId}"]`);
    await row.waitFor({ timeout: 5_000 });
    const shownMs = Date.now() - accepted;
    t.ok(shownMs < 1_000, `shown ${shownMs} ms after the 202 (must be under a second)`);
    await row.locator('[data-testid="status"]', { hasText: 'succeeded' }).waitFor({ timeout: 10_000 });
    t.pass('the row turned succeeded without a reload');
    await page.screenshot({ path: join(SHOTS, 'calls.png'), fullPage: true });

    await row.locator('a').click();
    await page.locator('[data-testid="result"]').waitFor();
    t.equal(await page.locator('[data-testid="result"]').textContent(), 'queued by undici', "the call's page shows the result");
    t.equal(await page.locator('.timeline li').count(), 1, 'one attempt on the timeline');
    t.ok(await page.locator('button', { hasText: 'Cancel' }).isDisabled(), 'a finished call cannot be cancelled');
    await page.screenshot({ path: join(SHOTS, 'call.png'), fullPage: true });
    t.same(problems, [], 'no console error or CSP violation');
  });

  t.test('queue charts and the log tail render', async (t) => {
    const { page, problems } = await openPage(t, browser);
    await page.goto(`${ui}#/queue`);
    await page.locator('.summary', { hasText: 'queued' }).waitFor();
    t.equal(await page.locator('.chart canvas').count(), 2, 'two charts');
    const samples = (n: number) => page.waitForFunction((n) => Number(document.querySelector('.summary')?.getAttribute('data-samples')) >= n, n);
    await samples(1);
    // Some traffic for the charts: echo calls succeed, the fail calls are retried.
    for (const fn of ['echo', 'echo', 'echo', 'fail', 'echo', 'fail']) {
      await request(`${up.url}/async-function/${fn}`, { method: 'POST', body: 'x' }).then((r) => r.body.dump());
    }
    await samples(4);
    t.match(await page.locator('.summary').textContent(), /\d+ queued · \d+ running · \d+ dead letters/);
    await page.screenshot({ path: join(SHOTS, 'queue.png'), fullPage: true });

    await page.goto(`${ui}#/functions`);
    await page.click('a[aria-label="logs of echo"]'); // under up, each function row links its tail
    // The tail shows the lines as the watchdog wrote them (one function's tail needs no [name] tag).
    await page.locator('pre.logs', { hasText: /listening/ }).waitFor();
    t.notMatch(await page.locator('pre.logs').textContent(), /\[echo\]/, "the tail holds the watchdog's start, untagged");
    await request(`${up.url}/function/echo`, { method: 'POST', body: 'tail me' }).then((r) => r.body.dump());
    await page.locator('pre.logs', { hasText: /request .*status=200/ }).waitFor();
    t.pass('a new request line arrives live');
    await page.screenshot({ path: join(SHOTS, 'logs.png'), fullPage: true });
    t.same(problems, [], 'no console error or CSP violation');
  });

  t.test('keyboard reachable and readable on a phone', async (t) => {
    const { page, problems } = await openPage(t, browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await page.goto(`${ui}#/functions`);
    await page.locator('tr[data-function="echo"]').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    t.ok(overflow <= 0, `the page is no wider than the phone (overflow ${overflow}px; wide tables scroll inside their box)`);
    await page.keyboard.press('Tab');
    t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content', 'the first Tab reaches the skip link');
    for (let i = 0; i < 10 && await page.evaluate(() => document.activeElement?.textContent) !== 'Async calls'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator('h1', { hasText: 'Async calls' }).waitFor();
    t.pass('the calls page opens from the keyboard');
    await page.goto(`${ui}#/functions/echo`);
    await page.locator('h2', { hasText: 'Invoke echo' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'phone.png'), fullPage: false });
    t.same(problems, [], 'no console error or CSP violation');
  });
}

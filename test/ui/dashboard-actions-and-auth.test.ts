// The dashboard's actions and guards against a real `whippet router` in a real Chromium: a call queued
// for a stopped function (nothing listens on its port; it waits for a retry) is cancelled from its page;
// a failed call is retried from its page; the action endpoint refuses requests that did not come from
// the page (no header, a foreign Origin or Sec-Fetch-Site); with basic_auth on, the page and its API are refused without credentials and work
// with them. A router without logs says so.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { waitForCall } from '../helpers/async-calls.js';
import { deadPort, startRouter, startUpstream } from '../helpers/start-router.js';
import { SHOTS, launch, openPage, requireBrowser } from './browser.js';

if (requireBrowser(t)) {
  const browser = await launch(t);

  t.test('a call queued for a stopped function is cancelled from its page; foreign requests are refused', async (t) => {
    const dir = t.testdir();
    const refuses = await startUpstream(t, (_req, res) => { res.writeHead(400); res.end('no thanks'); });
    const router = await startRouter(t, {
      functions: `stopped=http://127.0.0.1:${await deadPort()},refuses=${refuses.url}`, queue: `sqlite:${join(dir, 'queue.db')}`,
      // The first attempt fails (connection refused) and the retry waits long: the call stays queued.
      initial_retry_wait: '60s', max_retry_wait: '60s',
    });
    const res = await request(`${router.url}/async-function/stopped`, { method: 'POST', body: 'never delivered' });
    t.equal(res.statusCode, 202);
    const { callId } = await res.body.json() as { callId: string };
    await waitForCall(router.url, callId, (r) => r.status === 'queued' && r.attempts.length === 1, 15_000, 'the call queued after its first attempt');

    const action = `${router.url}/ui/api/calls/${callId}/cancel`;
    for (const [what, headers] of [
      ['no X-Whippet-UI header', {}],
      ['a foreign Origin', { 'x-whippet-ui': '1', origin: 'https://evil.example' }],
      ['Sec-Fetch-Site cross-site', { 'x-whippet-ui': '1', 'sec-fetch-site': 'cross-site' }],
    ] as const) {
      const refused = await request(action, { method: 'POST', headers });
      t.equal(refused.statusCode, 403, `refused with ${what}`);
      t.equal(refused.headers['x-router-error'], 'ROUTER_ERR_CROSS_SITE');
      await refused.body.dump();
    }
    await waitForCall(router.url, callId, (r) => r.status === 'queued', 15_000, 'the call still queued');
    t.pass('the refused requests changed nothing');

    const { page, problems } = await openPage(t, browser);
    await page.goto(`${router.url}/ui/#/calls/${callId}`);
    await page.locator('[data-testid="status"]', { hasText: 'queued' }).waitFor();
    t.equal(await page.locator('.timeline li').count(), 1, 'the failed attempt is on the timeline');
    await page.screenshot({ path: join(SHOTS, 'call-queued.png'), fullPage: true });
    await page.click('button:has-text("Cancel")');
    await page.locator('[data-testid="status"]', { hasText: 'cancelled' }).waitFor();
    await waitForCall(router.url, callId, (r) => r.status === 'cancelled', 15_000, 'the call cancelled');
    t.pass('the record says cancelled');
    t.ok(await page.locator('button', { hasText: 'Cancel' }).isDisabled(), 'cancel is off once cancelled');

    // A 400 is final: the call is a dead letter at once, and Retry sends it round again.
    const failing = await request(`${router.url}/async-function/refuses`, { method: 'POST', body: 'x' });
    const failedId = (await failing.body.json() as { callId: string }).callId;
    await waitForCall(router.url, failedId, (r) => r.status === 'failed', 15_000, 'the call failed');
    await page.goto(`${router.url}/ui/#/calls/${failedId}`);
    await page.locator('[data-testid="status"]', { hasText: 'failed' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'call-failed.png'), fullPage: true });
    await page.click('button:has-text("Retry")');
    await page.locator('.timeline li', { hasText: 'round 1' }).waitFor();
    t.pass('the retried round ran and is on the timeline');
    await waitForCall(router.url, failedId, (r) => r.status === 'failed' && r.attempts.length === 2, 15_000, 'the retried call failed again');
    t.equal(refuses.requests.length, 2, 'the function was invoked again');

    await page.goto(`${router.url}/ui/#/logs`);
    await page.locator('main p', { hasText: 'whippet up' }).waitFor();
    t.pass('a router without logs says where they are');
    t.same(problems, [], 'no console error or CSP violation');
  });

  t.test('with basic_auth on, the dashboard is refused without credentials', async (t) => {
    const dir = t.testdir();
    writeFileSync(join(dir, 'basic-auth-user'), 'admin\n');
    writeFileSync(join(dir, 'basic-auth-password'), 's3cret\n');
    const router = await startRouter(t, {
      functions: `stopped=http://127.0.0.1:${await deadPort()}`, queue: `sqlite:${join(dir, 'queue.db')}`,
      basic_auth: 'true', secret_mount_path: dir,
    });
    for (const path of ['/ui/', '/ui/assets/app.js', '/ui/api/functions', '/ui/api/calls/stream']) {
      const res = await request(`${router.url}${path}`);
      t.equal(res.statusCode, 401, `${path} without credentials: 401`);
      await res.body.dump();
    }
    // Headless Chromium has nobody to ask for credentials: the navigation ends in an auth error after the 401.
    const visit = async (options: Parameters<typeof openPage>[2]): Promise<{ statuses: number[]; dashboard: number }> => {
      const { page } = await openPage(t, browser, options);
      const statuses: number[] = [];
      page.on('response', (r) => { if (new URL(r.url()).pathname === '/ui/') statuses.push(r.status()); });
      await page.goto(`${router.url}/ui/`).catch((err: Error) => t.match(err.message, /ERR_INVALID_AUTH_CREDENTIALS/, 'the navigation failed on auth'));
      return { statuses, dashboard: await page.locator('main').count() };
    };
    t.same(await visit({}), { statuses: [401], dashboard: 0 }, 'the browser without credentials gets 401 and no dashboard');
    const wrong = await visit({ httpCredentials: { username: 'admin', password: 'wrong' } });
    t.ok(wrong.statuses.length > 0 && wrong.statuses.every((s) => s === 401), `wrong credentials: only 401 (${wrong.statuses.join(',')})`);
    t.equal(wrong.dashboard, 0);

    const admin = await openPage(t, browser, { httpCredentials: { username: 'admin', password: 's3cret' } });
    t.equal((await admin.page.goto(`${router.url}/ui/#/functions`))?.status(), 200, 'with credentials: 200');
    await admin.page.locator('tr[data-function="stopped"]').waitFor();
    t.pass('the functions page works with credentials');
    t.same(admin.problems, [], 'no console error or CSP violation');
  });
}

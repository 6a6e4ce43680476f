// dashboard=false: /ui/ and everything under it answer 404 (ROUTER_ERR_NOT_FOUND) and the dashboard is never
// loaded, while the functions, the async path and /system keep working; by default /ui/ is served.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { request } from 'undici';
import { startRouter, startUpstream } from '../helpers/start-router.js';

async function routerWith(t: Test, env: Record<string, string>) {
  const fn = await startUpstream(t, (_req, res) => res.end('hi'));
  return startRouter(t, { functions: `echo=${fn.url}`, queue: `sqlite:${join(t.testdir(), 'q.db')}`, async_worker: 'false', ...env });
}

t.test('dashboard=false: /ui/ is 404, the rest of the router serves', async (t) => {
  const router = await routerWith(t, { dashboard: 'false' });
  for (const path of ['/ui', '/ui/', '/ui/assets/app.js', '/ui/api/info', '/ui/api/calls/stream']) {
    const res = await request(`${router.url}${path}`);
    t.equal(res.statusCode, 404, `${path}: 404`);
    t.equal(res.headers['x-router-error'], 'ROUTER_ERR_NOT_FOUND');
    await res.body.dump();
  }
  const sync = await request(`${router.url}/function/echo`, { method: 'POST', body: 'x' });
  t.equal(sync.statusCode, 200);
  t.equal(await sync.body.text(), 'hi');
  const accepted = await request(`${router.url}/async-function/echo`, { method: 'POST', body: 'x' });
  t.equal(accepted.statusCode, 202, 'async calls are accepted');
  await accepted.body.dump();
  const calls = await request(`${router.url}/system/calls`);
  t.equal(calls.statusCode, 200, '/system/calls answers');
  await calls.body.dump();
  t.match(router.logs(), /async calls enabled/);
});

t.test('by default the dashboard is served', async (t) => {
  const router = await routerWith(t, {});
  const page = await request(`${router.url}/ui/`);
  t.equal(page.statusCode, 200);
  await page.body.dump();
  const info = await request(`${router.url}/ui/api/info`);
  t.equal(info.statusCode, 200);
  t.match(await info.body.json(), { queue: 'sqlite' });
});

t.test('a value that is not a boolean is refused at start, naming the setting', async (t) => {
  await t.rejects(routerWith(t, { dashboard: 'perhaps' }), /exited with 1[\s\S]*dashboard/);
});

// An upstream that is not listening gives 502; one slower than upstream_timeout=1s
// gives 504 within 1.5 s; both marked X-OpenFaaS-Internal: router.
import t from 'tap';
import { request } from 'undici';
import { deadPort, startRouter, startWatchdog } from '../helpers/start-router.js';

t.test('not listening → 502, too slow → 504 in time', async (t) => {
  const port = await deadPort();
  const slow = await startWatchdog(t, { fprocess: 'sleep 3' });
  const router = await startRouter(t, { functions: `gone=http://127.0.0.1:${port},slow=${slow.url}`, upstream_timeout: '1s' });

  const gone = await request(`${router.url}/function/gone`, { method: 'POST', body: 'x' });
  t.equal(gone.statusCode, 502);
  t.equal(gone.headers['x-openfaas-internal'], 'router');
  t.equal(gone.headers['x-router-error'], 'ROUTER_ERR_UPSTREAM_UNREACHABLE');
  t.match(await gone.body.text(), /function gone unreachable: connection refused/);

  const started = performance.now();
  const late = await request(`${router.url}/function/slow`);
  const ms = performance.now() - started;
  t.equal(late.statusCode, 504);
  t.equal(late.headers['x-openfaas-internal'], 'router');
  t.equal(late.headers['x-router-error'], 'ROUTER_ERR_UPSTREAM_TIMEOUT');
  t.match(await late.body.text(), /did not answer within 1000ms/);
  t.ok(ms >= 950 && ms < 1500, `504 after ${Math.round(ms)} ms (expected 1000-1500)`);

  const list = await request(`${router.url}/system/functions`);
  t.match(await list.body.json(), [{ name: 'gone', health: 'unreachable', lastStatus: 502 }, { name: 'slow', health: 'timeout', lastStatus: 504 }]);
});

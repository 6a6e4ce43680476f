// NATS goes away under a running `whippet router` (accept only) and `whippet worker`.
// Async calls get 503 with a reason within 2 s, sync calls still work, /healthz says unhealthy; a router
// started meanwhile starts anyway. NATS comes back on the same port and store: async calls work again
// and the worker runs them, with no process restarted.
import t from 'tap';
import { request } from 'undici';
import { QueueUnavailableError } from '../../router/queue/index.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { startRouter, type Started } from '../helpers/start-router.js';
import { startCallbackReceiver } from '../helpers/callback-receiver.js';
import { waitFor } from '../helpers/wait.js';
import { postAsync, startWorkerProcess } from '../helpers/async-calls.js';
import { startCountingFunction } from './jetstream-support.js';

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await request(url);
  return { status: res.statusCode, body: await res.body.text() };
}

t.test('NATS stopped: async 503 at once, sync works; NATS back: async works again without a restart', { timeout: 100_000 }, async (t) => {
  if (!requireNats(t)) return;
  const nats = await startNats(t);
  const fn = await startCountingFunction(t);
  const receiver = await startCallbackReceiver(t);
  const cb = { 'X-Callback-Url': `${receiver.url}/cb` };
  const env = { queue: nats.url, functions: `fast=${fn.url}`, ack_wait: '3s' };
  const [router, worker] = await Promise.all([startRouter(t, { ...env, async_worker: 'false' }), startWorkerProcess(t, env)]);

  t.equal((await postAsync(router.url, 'fast', { headers: { ...cb, 'X-Call-Id': 'before' } })).status, 202);
  await receiver.waitFor((c) => c.headers['x-call-id'] === 'before', 20_000, 'the first callback');
  t.same(await get(`${router.url}/healthz`), { status: 200, body: '{"status":"ok","queue":true}\n' }, 'healthy with NATS up');
  // max_async_body is 1 MiB by default, but one NATS message (max_payload 1 MiB) must also hold the headers.
  const big = await postAsync(router.url, 'fast', { headers: { ...cb, 'X-Call-Id': 'too-big' }, body: Buffer.alloc(1024 * 1024 - 4096, 97) });
  t.equal(big.status, 413, 'a body that fits max_async_body but not a NATS message: 413');
  t.equal(big.headers['x-router-error'], 'ROUTER_ERR_BODY_TOO_LARGE');
  t.match(big.body, /\(1040384 bytes\)/, 'the limit is max_payload minus 8 KiB for headers');
  t.equal(big.headers.connection, 'close', 'refused from Content-Length, before the body was read');
  const fits = await postAsync(router.url, 'fast', { headers: { ...cb, 'X-Call-Id': 'fits' }, body: Buffer.alloc(1024 * 1024 - 8192, 97) });
  t.equal(fits.status, 202, 'a body at that limit is accepted');
  await receiver.waitFor((c) => c.headers['x-call-id'] === 'fits', 20_000, 'the large call\'s callback');

  await nats.stop();
  const slowest = { ms: 0 };
  for (let i = 0; i < 5; i++) {
    const start = Date.now();
    const res = await postAsync(router.url, 'fast', { headers: { ...cb, 'X-Call-Id': `away-${i}` } });
    const ms = Date.now() - start;
    slowest.ms = Math.max(slowest.ms, ms);
    t.equal(res.status, 503, `async call ${i} while NATS is away: 503 (${ms} ms)`);
    t.equal(res.headers['x-router-error'], new QueueUnavailableError('away').code, 'the queue\'s own code');
    t.match(res.body, /queue is unavailable: \S.*\n$/, `with a reason: ${res.body.trim()}`);
  }
  t.ok(slowest.ms < 2_000, `every 503 came within 2 s (slowest ${slowest.ms} ms)`);
  const sync = await request(`${router.url}/function/fast`, { method: 'POST', body: 'sync', headers: { 'X-Call-Id': 'sync-1' } });
  t.equal(sync.statusCode, 200, 'a sync call still works');
  t.equal(await sync.body.text(), 'done sync-1');
  const health = await get(`${router.url}/healthz`);
  t.same(health, { status: 503, body: '{"status":"unhealthy","queue":false}\n' }, 'router /healthz: unhealthy');
  const workerHealth = await get(`${worker.url}/healthz`);
  t.equal(workerHealth.status, 503, 'worker /healthz: unhealthy');
  t.match(JSON.parse(workerHealth.body), { status: 'unhealthy', queue: { ok: false, backend: 'jetstream', detail: /NATS|connect/i } });

  // A router (re)started while NATS is away comes up anyway and refuses async calls until it connects.
  const late: Started = await startRouter(t, { ...env, async_worker: 'false' });
  const lateRes = await postAsync(late.url, 'fast', { headers: cb });
  t.equal(lateRes.status, 503, 'a router started while NATS is down listens and answers async calls with 503');
  t.match(lateRes.body, /queue is unavailable: \S/);

  const restarted = Date.now();
  await nats.restart();
  const backSince = Date.now();
  await waitFor(async () => (await get(`${router.url}/healthz`)).status === 200, 30_000, 'the router to see NATS again', 100);
  const back = Date.now() - backSince;
  await waitFor(async () => (await get(`${late.url}/healthz`)).status === 200, 30_000, 'the late router to connect', 100);
  await waitFor(async () => (await get(`${worker.url}/healthz`)).status === 200, 30_000, 'the worker to see NATS again', 100);
  t.comment(`router healthy again ${back} ms after nats-server was restarted`);
  for (const [name, r] of [['first', router], ['late', late]] as const) {
    const res = await postAsync(r.url, 'fast', { headers: { ...cb, 'X-Call-Id': `after-${name}` } });
    t.equal(res.status, 202, `${name} router: async accepted again`);
  }
  await receiver.until(() => ['after-first', 'after-late'].every((id) => receiver.forCall(id).length === 1), 30_000,
    'callbacks for the calls posted after NATS came back');
  t.comment(`both calls after the restart were called back ${Date.now() - restarted} ms after nats-server was restarted`);
  t.same([...fn.calls.keys()].sort(), ['after-first', 'after-late', 'before', 'fits', 'sync-1'],
    'the worker ran the calls posted after the restart; nothing refused was run');
  t.equal(receiver.received.filter((c) => String(c.headers['x-call-id']).startsWith('away-')).length, 0, 'no refused call was called back');
  t.equal((await request(`${router.url}/system/calls/away-0`)).statusCode, 404, 'a refused call left no record');
  for (const p of [router, late, worker]) t.equal(p.child.exitCode, null, `pid ${p.pid} still the same process`);
});

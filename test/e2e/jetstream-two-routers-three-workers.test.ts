// Two `whippet router` processes (accept only) and three `whippet worker` processes
// share one NATS JetStream stream. 3,000 async calls spread over both routers all complete, every
// worker does part of the work, and with no failures injected every call is invoked exactly once and
// called back exactly once. Each worker reaches the function through its own upstream, so the test
// sees which worker ran which call without trusting the workers' word (their metrics must agree).
import t from 'tap';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { startRouter } from '../helpers/start-router.js';
import { waitFor } from '../helpers/wait.js';
import { startCallbackReceiver } from '../helpers/callback-receiver.js';
import { startWorkerProcess } from '../helpers/async-calls.js';
import { callIds, notOnce, postCalls, startCountingFunction, workerInvocations } from './jetstream-support.js';

const CALLS = 3_000;
const CLIENTS = 32;

t.test('two routers, three workers, one stream: 3,000 calls each run once, every worker works', { timeout: 110_000 }, async (t) => {
  if (!requireNats(t)) return;
  const nats = await startNats(t);
  const receiver = await startCallbackReceiver(t);
  const front = await startCountingFunction(t); // what the routers resolve `fast` to (they never invoke it here)
  const upstreams = await Promise.all([1, 2, 3].map(() => startCountingFunction(t)));
  const common = { queue: nats.url, ack_wait: '30s' };
  const [routers, workers] = await Promise.all([
    Promise.all([1, 2].map(() => startRouter(t, { ...common, functions: `fast=${front.url}`, async_worker: 'false' }))),
    Promise.all(upstreams.map((u) => startWorkerProcess(t, { ...common, functions: `fast=${u.url}`, max_inflight: '32' }))),
  ]);
  // A router listens first and opens its queue after (docs/router.md, start-up): the line comes once it has.
  const acceptOnly = /"msg":"async calls enabled"[^\n]*"queue":"jetstream"[^\n]*"worker":false/;
  for (const r of routers) await waitFor(() => acceptOnly.test(r.logs()), 10_000, 'the router to log its async settings');
  for (const r of routers) t.match(r.logs(), acceptOnly, 'router: accept only');

  const ids = callIds('two', CALLS);
  const posted = await postCalls({ routers: routers.map((r) => r.url), ids, concurrency: CLIENTS, callbackUrl: `${receiver.url}/cb` });
  t.equal(posted.accepted.size, CALLS, `every call got its 202 (${[...posted.refused].map(([s, n]) => `${n}x${s}`).join(' ') || 'none refused'})`);
  const acceptRate = Math.round(CALLS / (posted.ms / 1000));
  t.comment(`accepted ${CALLS} calls over 2 routers in ${posted.ms} ms (${acceptRate}/s)`);

  const start = Date.now();
  await receiver.until(() => receiver.received.length >= CALLS, 90_000, `${CALLS} callbacks`);
  const drainedAt = Date.now();
  // A duplicate invocation or callback would arrive soon after: give it a moment to show up.
  await new Promise((r) => setTimeout(r, 1_000));

  const callbacks = new Map<string, number>();
  for (const c of receiver.received) callbacks.set(String(c.headers['x-call-id']), (callbacks.get(String(c.headers['x-call-id'])) ?? 0) + 1);
  const invoked = (id: string): number => upstreams.reduce((n, u) => n + (u.calls.get(id) ?? 0), 0);
  t.same(notOnce(ids, (id) => callbacks.get(id) ?? 0), [], 'every call was called back exactly once');
  t.same(notOnce(ids, invoked), [], 'every call was invoked exactly once');
  t.equal(front.total(), 0, 'the routers invoked nothing themselves');
  t.ok(receiver.received.every((c) => c.headers['x-call-status'] === 'succeeded' && c.headers['x-function-status'] === '200'),
    'every callback says succeeded with the function\'s 200');

  const shares = upstreams.map((u) => u.total());
  t.comment(`calls per worker: ${shares.join(' / ')}; all called back ${drainedAt - start} ms after the last 202`);
  t.ok(shares.every((n) => n >= CALLS / 30), `every worker did part of the work (${shares.join(', ')})`);
  t.same(await Promise.all(workers.map((w) => workerInvocations(w.url))), shares, 'each worker\'s own metrics count the same calls');

  for (const r of routers) t.equal(await r.stop('SIGTERM'), 0, 'router stops cleanly');
  for (const w of workers) t.equal(await w.stop('SIGTERM'), 0, 'worker stops cleanly');
});

// An X-Call-Id names one request: the same request again is an idempotent retry (202 duplicate), but
// the id reused for another function, method, path, query or body is refused with 409 and never runs.
// On both queue backends (sqlite and NATS JetStream).
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { startRouter } from '../helpers/start-router.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { SCRIPTED_FN, fnStats, getCall, postAsync, startHttpFunction, waitForCall } from '../helpers/async-calls.js';

type Backend = 'sqlite' | 'jetstream';

async function conflicts(t: Test, backend: Backend): Promise<void> {
  const fn = await startHttpFunction(t, SCRIPTED_FN);
  const other = await startHttpFunction(t, SCRIPTED_FN);
  const queue = backend === 'sqlite' ? `sqlite:${join(t.testdir(), 'q.db')}` : (await startNats(t)).url;
  const router = await startRouter(t, { functions: `fn=${fn.wd.url},other=${other.wd.url}`, queue });
  const id = { 'X-Call-Id': 'order-42' };

  const first = await postAsync(router.url, 'fn/ok?x=1', { headers: id, body: 'one' });
  t.equal(first.status, 202);
  t.same(JSON.parse(first.body), { callId: 'order-42', duplicate: false });
  await waitForCall(router.url, 'order-42', (c) => c.status === 'succeeded', 10_000, 'the first call to finish');

  const again = await postAsync(router.url, 'fn/ok?x=1', { headers: id, body: 'one' });
  t.equal(again.status, 202, 'the same request again is an idempotent retry');
  t.same(JSON.parse(again.body), { callId: 'order-42', duplicate: true });

  const cases: Array<[string, Parameters<typeof postAsync>[1], Parameters<typeof postAsync>[2], RegExp]> = [
    ['another function', 'other/ok?x=1', { headers: id, body: 'one' }, /function/],
    ['another method', 'fn/ok?x=1', { method: 'PUT', headers: id, body: 'one' }, /method/],
    ['another path', 'fn/other?x=1', { headers: id, body: 'one' }, /path/],
    ['another query', 'fn/ok?x=2', { headers: id, body: 'one' }, /path/],
    ['another body', 'fn/ok?x=1', { headers: id, body: 'two' }, /body/],
  ];
  for (const [what, path, options, says] of cases) {
    const res = await postAsync(router.url, path, options);
    t.equal(res.status, 409, `${what}: 409`);
    t.equal(res.headers['x-router-error'], 'ROUTER_ERR_CALL_ID_TAKEN', `${what}: the code`);
    t.match(res.body, says, `${what}: the message says what differs`);
    t.match(res.body, /order-42.*taken|taken.*order-42/, `${what}: the message says the id is taken`);
  }

  // Concurrent posts of one id with different bodies: one is stored, the others are refused, none runs twice.
  const both = await Promise.all(['b1', 'b2', 'b3'].map((body) => postAsync(router.url, 'fn/ok', { headers: { 'X-Call-Id': 'batch-7' }, body })));
  t.same(both.map((p) => p.status).sort(), [202, 409, 409], 'one accepted, two refused');
  await waitForCall(router.url, 'batch-7', (c) => c.status === 'succeeded', 10_000, 'the batch call to finish');

  // Give a wrongly queued copy time to run before counting.
  await new Promise((r) => setTimeout(r, 500));
  const stats = await fnStats(fn.direct);
  t.equal(stats['order-42']?.length, 1, 'order-42 invoked once');
  t.equal(stats['batch-7']?.length, 1, 'batch-7 invoked once');
  t.same(await fnStats(other.direct), {}, 'the other function never ran');
  t.equal((await getCall(router.url, 'order-42'))?.functionName, 'fn', 'the record is the first request\'s');
}

t.test('sqlite: a reused X-Call-Id for another request is 409', (t) => conflicts(t, 'sqlite'));
t.test('jetstream: a reused X-Call-Id for another request is 409', async (t) => {
  if (!requireNats(t)) return;
  await conflicts(t, 'jetstream');
});

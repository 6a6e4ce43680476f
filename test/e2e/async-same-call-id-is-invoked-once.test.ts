// A client-chosen X-Call-Id is an idempotency key: the same request posted twice (one after the other,
// and three times at the same moment) is queued and invoked once (another request under the same id is
// a 409: async-call-id-conflict.test.ts).
import t from 'tap';
import { join } from 'node:path';
import { startRouter } from '../helpers/start-router.js';
import { startCallbackReceiver } from '../helpers/callback-receiver.js';
import { SCRIPTED_FN, fnStats, postAsync, startHttpFunction, waitForCall } from '../helpers/async-calls.js';

t.test('the same X-Call-Id twice is invoked once', async (t) => {
  const fn = await startHttpFunction(t, SCRIPTED_FN);
  const receiver = await startCallbackReceiver(t);
  const router = await startRouter(t, { functions: `fn=${fn.wd.url}`, queue: `sqlite:${join(t.testdir(), 'q.db')}` });
  const headers = { 'X-Callback-Url': receiver.url };

  const first = await postAsync(router.url, 'fn/ok', { headers: { ...headers, 'X-Call-Id': 'order-42' }, body: 'one' });
  await waitForCall(router.url, 'order-42', (c) => c.callback.state === 'delivered', 10_000, 'the first call to finish');
  const again = await postAsync(router.url, 'fn/ok', { headers: { ...headers, 'X-Call-Id': 'order-42' }, body: 'one' });
  t.equal(first.status, 202);
  t.equal(again.status, 202, 'the repeat is accepted too (the client may not have seen the first 202)');
  t.equal(first.callId, 'order-42', 'the client id is echoed');
  t.equal(again.callId, 'order-42');
  t.same(JSON.parse(first.body), { callId: 'order-42', duplicate: false });
  t.same(JSON.parse(again.body), { callId: 'order-42', duplicate: true });
  t.equal(again.headers['x-call-duplicate'], 'true');

  // Concurrent duplicates land in one group commit: still one call.
  const both = await Promise.all([1, 2, 3].map(() => postAsync(router.url, 'fn/ok', { headers: { ...headers, 'X-Call-Id': 'batch-7' }, body: 'b' })));
  t.same(both.map((p) => p.status), [202, 202, 202]);
  t.equal(both.filter((p) => JSON.parse(p.body).duplicate === false).length, 1, 'exactly one of the three stored the call');
  const record = await waitForCall(router.url, 'batch-7', (c) => c.callback.state === 'delivered', 10_000, 'the batch call to finish');
  t.equal(record.attempts.length, 1);

  // Give a wrongly queued second copy time to run before counting.
  await new Promise((r) => setTimeout(r, 500));
  const stats = await fnStats(fn.direct);
  t.equal(stats['order-42']?.length, 1, 'order-42 invoked once');
  t.equal(stats['batch-7']?.length, 1, 'batch-7 invoked once');
  t.equal(receiver.forCall('order-42').length, 1, 'one callback for order-42');
  t.equal(receiver.forCall('batch-7').length, 1, 'one callback for batch-7');
});

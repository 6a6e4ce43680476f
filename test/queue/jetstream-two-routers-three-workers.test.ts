// Two queue instances (two routers) enqueue, three worker processes share one stream: every call is
// processed exactly once and every worker takes part.

import t from 'tap';
import { createQueue } from '../../router/queue/index.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { call, pool, startWorker } from './jetstream-workers.js';

t.test('3,000 calls through two routers and three worker processes, each invoked exactly once', { timeout: 180_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const name = 'share';
  const ackWaitMs = 10_000; // no lapses on a busy machine: this test is about sharing, not redelivery
  const routers = [await createQueue(node.url, { ackWaitMs, jetstream: { name } }), await createQueue(node.url, { ackWaitMs, jetstream: { name } })];
  t.teardown(() => Promise.all(routers.map((q) => q.close())));
  const workers = [1, 2, 3].map(() => startWorker(node.url, name, { ackWaitMs, slots: 8, workMs: 2, idleMs: 3_000 }));
  t.teardown(() => { for (const w of workers) w.child.kill('SIGKILL'); });
  await Promise.all(workers.map((w) => w.ready));

  const total = 3_000;
  const start = Date.now();
  const accepted = await pool(total, 32, async (i) => {
    const { duplicate } = await routers[i % 2]!.enqueue(call(`call-${i}`, i % 3 === 0 ? 'echo' : 'echo.openfaas-fn'));
    return !duplicate;
  });
  t.equal(accepted, total, 'every enqueue was accepted as new');
  const codes = await Promise.all(workers.map((w) => w.exited));
  t.comment(`3,000 calls enqueued and processed in ${Date.now() - start} ms`);
  t.same(codes, [0, 0, 0], 'every worker drained the stream and exited cleanly');

  const byId = new Map<string, number>();
  for (const w of workers) for (const [id] of w.done) byId.set(id, (byId.get(id) ?? 0) + 1);
  t.equal(byId.size, total, 'every call was processed');
  t.same([...byId].filter(([, n]) => n > 1), [], 'no call was processed twice');
  t.same(workers.flatMap((w) => w.done).filter(([, count]) => count !== 1), [], 'every call was delivered once');
  t.equal(workers.reduce((n, w) => n + w.begun.length, 0), total, 'exactly one invocation per call');
  const shares = workers.map((w) => w.done.length);
  t.comment(`calls per worker process: ${shares.join(', ')}`);
  t.ok(shares.every((n) => n > 0), 'every worker did part of the work');
  const depth = await routers[0]!.depth();
  t.same(depth.map((d) => [d.functionName, d.status, d.count]).sort(),
    [['echo', 'succeeded', 1000], ['echo.openfaas-fn', 'succeeded', 2000]], 'every record is succeeded, per function');
});

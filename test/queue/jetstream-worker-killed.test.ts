// A worker process killed with SIGKILL mid-run: its in-flight calls come back after ack_wait and are
// completed by the others; nothing is lost.

import t from 'tap';
import { createQueue } from '../../router/queue/index.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { call, pool, startWorker } from './jetstream-workers.js';

t.test('SIGKILL one of three workers: its in-flight calls are redelivered and complete', { timeout: 120_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const name = 'kill';
  const ackWaitMs = 2_000;
  const router = await createQueue(node.url, { name, ackWaitMs });
  t.teardown(() => router.close());
  const opts = { ackWaitMs, slots: 6, workMs: 40, idleMs: ackWaitMs * 2 + 2_000 };
  const workers = [1, 2, 3].map(() => startWorker(node.url, name, opts));
  t.teardown(() => { for (const w of workers) w.child.kill('SIGKILL'); });
  await Promise.all(workers.map((w) => w.ready));

  const total = 900;
  const ids = Array.from({ length: total }, (_, i) => `k-${i}`);
  await pool(total, 32, async (i) => (await router.enqueue(call(ids[i]!))).duplicate === false);
  const victim = workers[0]!;
  // Kill it while it has work in hand (its slots are busy for 40 ms per call).
  const deadline = Date.now() + 30_000;
  while (victim.done.length < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  victim.child.kill('SIGKILL');
  await victim.exited;
  const finished = new Set(victim.done.map(([id]) => id));
  const inFlight = victim.begun.filter((id) => !finished.has(id));
  t.comment(`victim finished ${finished.size}, had ${inFlight.length} in flight when killed`);
  t.ok(inFlight.length > 0, 'the victim was killed with calls in flight');

  const codes = await Promise.all(workers.slice(1).map((w) => w.exited));
  t.same(codes, [0, 0], 'the survivors drained the stream');
  const doneBySurvivors = new Map(workers.slice(1).flatMap((w) => w.done));
  for (const id of inFlight) {
    t.ok((doneBySurvivors.get(id) ?? 0) >= 2, `${id}: in flight at the kill, completed by a survivor on delivery ${doneBySurvivors.get(id)}`);
  }
  const completed = new Set([...finished, ...doneBySurvivors.keys()]);
  t.equal(completed.size, total, 'every call completed');
  const records = await Promise.all(ids.map((id) => router.get(id)));
  t.same(records.filter((r) => r?.status !== 'succeeded').map((r) => r?.id), [], 'every record says succeeded');
  const retried = records.filter((r) => (r?.attempts.length ?? 0) > 1);
  t.same(retried.map((r) => r!.id).sort(), inFlight.filter((id) => records.find((r) => r?.id === id)!.attempts.length > 1).sort(),
    'only calls the victim had begun were invoked twice');
  t.ok(retried.every((r) => /lease/.test(r!.attempts[0]!.error ?? '')), 'the lost attempt is recorded as a lapsed lease');
  t.same(await router.next({ timeoutMs: 500 }), null, 'nothing left in the stream');
});

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
  const router = await createQueue(node.url, { ackWaitMs, jetstream: { name } });
  t.teardown(() => router.close());
  // 150 ms of "work" per call: a call whose `begin` line just arrived is still running when the kill lands.
  const opts = { ackWaitMs, slots: 6, workMs: 150, idleMs: ackWaitMs * 2 + 2_000 };
  const workers = [1, 2, 3].map(() => startWorker(node.url, name, opts));
  t.teardown(() => { for (const w of workers) w.child.kill('SIGKILL'); });
  await Promise.all(workers.map((w) => w.ready));

  const total = 900;
  const ids = Array.from({ length: total }, (_, i) => `k-${i}`);
  const victim = workers[0]!;
  // Kill it mid-run (the workers start while calls are still being enqueued, so watch from the start),
  // right after it began a call.
  const killed = (async () => {
    const deadline = Date.now() + 60_000;
    let seen = victim.begun.length;
    while (Date.now() < deadline) {
      if (victim.begun.length > seen && victim.done.length >= 30) break;
      seen = victim.begun.length;
      await new Promise((r) => setTimeout(r, 2));
    }
    victim.child.kill('SIGKILL');
    await victim.exited;
  })();
  await pool(total, 32, async (i) => (await router.enqueue(call(ids[i]!))).duplicate === false);
  await killed;
  const finished = new Set(victim.done.map(([id]) => id));
  const inFlight = victim.begun.filter((id) => !finished.has(id));
  t.comment(`victim finished ${finished.size}, had ${inFlight.length} in flight when killed`);
  t.ok(inFlight.length > 0, 'the victim was killed with calls in flight');

  const codes = await Promise.all(workers.slice(1).map((w) => w.exited));
  t.same(codes, [0, 0], 'the survivors drained the stream');
  const records = new Map((await Promise.all(ids.map((id) => router.get(id)))).map((r, i) => [ids[i]!, r]));
  t.same([...records].filter(([, r]) => r?.status !== 'succeeded').map(([id]) => id), [], 'every record says succeeded');
  // A call in the victim's hands ends one of two ways. Killed before it stored the result: the lease
  // lapses, a survivor gets delivery 2+ and runs it again. Killed after `finish` (the ack lost or not
  // yet printed): the redelivery finds a final record and next() settles it without handing it out,
  // so no survivor prints it; the record then holds the victim's one attempt.
  const doneBySurvivors = new Map(workers.slice(1).flatMap((w) => w.done));
  const rerun = inFlight.filter((id) => doneBySurvivors.has(id));
  const finishedByVictim = inFlight.filter((id) => !doneBySurvivors.has(id));
  t.comment(`of the ${inFlight.length} in flight: ${rerun.length} run again by a survivor, ${finishedByVictim.length} finished by the victim before it died`);
  for (const id of rerun) {
    t.ok(doneBySurvivors.get(id)! >= 2, `${id}: completed by a survivor on delivery ${doneBySurvivors.get(id)}`);
  }
  for (const id of finishedByVictim) {
    t.match(records.get(id), { attempts: [{ statusCode: 200, error: null }] }, `${id}: the victim's own attempt finished it`);
    t.equal(records.get(id)?.attempts.length, 1, `${id}: and it ran once`);
  }
  t.ok(rerun.length > 0, 'at least one call cut off by the kill was delivered again and completed elsewhere');
  const completed = new Set([...finished, ...doneBySurvivors.keys(), ...finishedByVictim]);
  t.equal(completed.size, total, 'every call completed');
  const retried = [...records.values()].filter((r) => (r?.attempts.length ?? 0) > 1);
  t.same(retried.map((r) => r!.id).sort(), rerun.filter((id) => records.get(id)!.attempts.length > 1).sort(),
    'only calls the victim had begun were invoked twice');
  t.ok(retried.every((r) => /lease/.test(r!.attempts[0]!.error ?? '')), 'the lost attempt is recorded as a lapsed lease');
  t.same(await router.next({ timeoutMs: 500 }), null, 'nothing left in the stream');
});

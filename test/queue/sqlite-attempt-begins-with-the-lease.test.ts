// NextOptions.beginAttempt on sqlite: the lease and the attempt start are one row write (the worker's
// leases; a call then costs two writes, lease and conclude). beginAttempt() confirms that attempt without
// writing; a nak before it withdraws the attempt (the call was never run); a call that cannot start
// (expired, or final with a callback still due) is leased as it is; a worker killed after such a lease
// leaves the attempt open, and the next delivery closes it as for any lost lease.

import t, { type Test } from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createQueue, type Queue } from '../../router/queue/index.js';
import { makeCall } from '../helpers/calls.js';

/** A queue on a fresh file of the test's folder, closed when the test ends. */
async function freshQueue(t: Test, options?: Parameters<typeof createQueue>[1]): Promise<{ path: string; queue: Queue }> {
  const path = join(t.testdir(), 'q.db');
  const queue = await createQueue(`sqlite:${path}`, options);
  t.teardown(() => queue.close());
  return { path, queue };
}

const ok = { status: 'succeeded' as const, result: { statusCode: 200, headers: {}, body: Buffer.from('out') } };

/** Rows as stored (not as this process holds them): status, deliveries and the record's attempts. */
function stored(path: string, id: string): { status: string; deliveries: number; attempts: number } {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare('SELECT status, deliveries, record FROM calls WHERE id = ?').get(id) as { status: string; deliveries: number; record: string };
    return { status: row.status, deliveries: row.deliveries, attempts: (JSON.parse(row.record) as { attempts: unknown[] }).attempts.length };
  } finally {
    db.close();
  }
}

t.test('the attempt is written with the lease; beginAttempt() confirms it; two writes settle the call', async (t) => {
  const { path, queue } = await freshQueue(t);
  const call = makeCall();
  await queue.enqueue(call);
  const lease = (await queue.next({ timeoutMs: 2000, beginAttempt: true }))!;
  t.equal(lease.record.status, 'running', 'the lease hands out the started record');
  t.equal(lease.deliveryCount, 1);
  t.same(stored(path, call.id), { status: 'running', deliveries: 1, attempts: 1 }, 'on disk with the lease');
  const attempt = await lease.beginAttempt();
  t.equal(attempt.number, 1, 'beginAttempt() returns the attempt begun with the lease');
  t.same(stored(path, call.id), { status: 'running', deliveries: 1, attempts: 1 }, 'and adds none');
  await lease.conclude!({ statusCode: 200 }, ok, true);
  const done = await queue.get(call.id);
  t.equal(done?.status, 'succeeded');
  t.equal(done?.attempts.length, 1);
  t.equal(done?.attempts[0]?.statusCode, 200);
  t.equal(await queue.next({ timeoutMs: 100 }), null, 'acked');
});

t.test('a nak before beginAttempt() withdraws the attempt: the call is queued as it was leased', async (t) => {
  const { path, queue } = await freshQueue(t);
  const call = makeCall();
  await queue.enqueue(call);
  const lease = (await queue.next({ timeoutMs: 2000, beginAttempt: true }))!;
  await lease.nak(0);
  const back = await queue.get(call.id);
  t.equal(back?.status, 'queued');
  t.equal(back?.attempts.length, 0, 'no attempt counts against the retries');
  t.equal(back?.startedAt, null);
  const again = (await queue.next({ timeoutMs: 2000, beginAttempt: true }))!;
  t.equal(again.deliveryCount, 2);
  t.equal(again.record.attempts.length, 1, 'the next lease begins attempt 1 again');
  t.equal(again.record.attempts[0]?.number, 1);
  await again.beginAttempt();
  await again.endAttempt({ statusCode: 503 });
  await again.nak(0);
  const retried = await queue.get(call.id);
  t.equal(retried?.attempts.length, 1, 'a nak after the attempt ran keeps it');
  const third = (await queue.next({ timeoutMs: 2000, beginAttempt: true }))!;
  t.equal(third.record.attempts.length, 2);
  await third.beginAttempt();
  await third.conclude!({ statusCode: 200 }, ok, true);
});

t.test('a call that cannot start is leased as it is: expired, or final with its callback due', async (t) => {
  const path = join(t.testdir(), 'q.db');
  let now = Date.now();
  const queue = await createQueue(`sqlite:${path}`, { maxEventAgeMs: 1000, now: () => now });
  t.teardown(() => queue.close());
  const old = makeCall();
  await queue.enqueue(old);
  now += 5000;
  const expired = (await queue.next({ timeoutMs: 2000, beginAttempt: true }))!;
  t.ok(expired.expired, 'the lease says expired');
  t.equal(expired.record.status, 'queued');
  t.equal(expired.record.attempts.length, 0);
  await expired.finish({ status: 'expired', result: null, error: 'too old' });
  await expired.ack();

  const withCallback = makeCall({ callbackUrl: 'http://127.0.0.1:9/cb' });
  await queue.enqueue(withCallback);
  const first = (await queue.next({ timeoutMs: 2000, beginAttempt: true }))!;
  await first.beginAttempt();
  await first.conclude!({ statusCode: 200 }, ok, false);
  await first.nak(0); // the callback is tried again later
  const redelivered = (await queue.next({ timeoutMs: 2000, beginAttempt: true }))!;
  t.equal(redelivered.record.status, 'succeeded', 'a final call is handed out final');
  t.equal(redelivered.record.attempts.length, 1, 'no attempt begun for it');
  await redelivered.callbackAttempt({ state: 'delivered', statusCode: 200 });
  await redelivered.ack();
});

t.test('the lease with its attempt is lost (no settle): the next delivery closes the open attempt', async (t) => {
  const path = join(t.testdir(), 'q.db');
  const call = makeCall();
  {
    const queue = await createQueue(`sqlite:${path}`, { ackWaitMs: 60_000 });
    await queue.enqueue(call);
    const lease = await queue.next({ timeoutMs: 2000, beginAttempt: true });
    t.equal(lease?.record.status, 'running');
    await queue.close(); // as a killed worker: the lease is on disk, nothing more
  }
  const later = await createQueue(`sqlite:${path}`, { now: () => Date.now() + 120_000 });
  t.teardown(() => later.close());
  const again = (await later.next({ timeoutMs: 2000, beginAttempt: true }))!;
  t.equal(again.deliveryCount, 2);
  t.equal(again.record.attempts.length, 2, 'the lost attempt is on record and a new one begun');
  t.equal(again.record.attempts[0]?.error, 'lease expired before the attempt ended');
  t.not(again.record.attempts[0]?.finishedAt, null);
  await again.beginAttempt();
  await again.conclude!({ statusCode: 200 }, ok, true);
  t.equal((await later.get(call.id))?.status, 'succeeded');
});

t.test('retryLater: the attempt ends and the call goes back in one write; a crash before it leaves the call running', async (t) => {
  const { path, queue } = await freshQueue(t);
  const call = makeCall();
  await queue.enqueue(call);
  const lease = (await queue.next({ timeoutMs: 2000, beginAttempt: true }))!;
  await lease.beginAttempt();
  t.ok(lease.retryLater, 'the sqlite lease offers retryLater');
  await lease.retryLater!({ statusCode: 503, error: null }, 0);
  const back = await queue.get(call.id);
  t.equal(back?.status, 'queued', 'queued again');
  t.equal(back?.attempts.length, 1, 'the attempt is kept');
  t.equal(back?.attempts[0]?.statusCode, 503, 'closed with the status');
  t.not(back?.attempts[0]?.finishedAt, null);
  t.same(stored(path, call.id), { status: 'queued', deliveries: 1, attempts: 1 });
  const again = (await queue.next({ timeoutMs: 2000, beginAttempt: true }))!;
  t.equal(again.deliveryCount, 2, 'visible again at once (delay 0)');
  t.equal(again.record.attempts.length, 2);
  await again.beginAttempt();
  await again.conclude!({ statusCode: 200 }, ok, true);
});

t.test('retryLater on a call another holder already settled is refused, not taken as done', async (t) => {
  const { path, queue } = await freshQueue(t, { ackWaitMs: 30_000 });
  const call = makeCall();
  await queue.enqueue(call);
  const lease = (await queue.next({ timeoutMs: 2000, beginAttempt: true }))!;
  await lease.beginAttempt();
  const other = await createQueue(`sqlite:${path}`, { now: () => Date.now() + 60_000 });
  t.teardown(() => other.close());
  const taken = (await other.next({ timeoutMs: 2000, beginAttempt: true }))!;
  await taken.beginAttempt();
  await taken.conclude!({ statusCode: 200 }, ok, true);
  await t.rejects(lease.retryLater!({ statusCode: 503 }, 0), 'the lost lease cannot end an attempt');
  t.equal((await queue.get(call.id))?.status, 'succeeded', 'the other holder\'s result stands');
});

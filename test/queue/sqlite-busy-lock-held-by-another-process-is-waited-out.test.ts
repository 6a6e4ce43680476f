// Another process holding the sqlite file's write lock (an admin shell inside BEGIN IMMEDIATE, a
// backup, a second worker) never stops this process's event loop: writes wait for the lock
// asynchronously and succeed once it is free, or fail with 503 QUEUE_ERR_BUSY past their budget
// (accepts and client operations: 1 s); a lease attempt meanwhile finds "nothing now"; reads go on.

import t, { type Test } from 'tap';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createQueue, type NewCall, type Queue } from '../../router/queue/index.js';
import { holdWriteLock } from '../helpers/sqlite-lock.js';

const call = (id: string): NewCall => ({ id, functionName: 'echo', method: 'POST', path: '', query: '', headers: {}, body: Buffer.from(id), callbackUrl: null });

async function openQueue(t: Test): Promise<{ queue: Queue; path: string }> {
  const path = join(t.testdir(), 'queue.db');
  const queue = await createQueue(`sqlite:${path}`, { sqlite: { pollIntervalMs: 20 } });
  t.teardown(() => queue.close());
  return { queue, path };
}

/** A promise with its state readable at any time. */
function track<T>(promise: Promise<T>): { readonly promise: Promise<T>; state(): 'pending' | 'resolved' | 'rejected' } {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(() => { state = 'resolved'; }, () => { state = 'rejected'; });
  return { promise, state: () => state };
}

/** Whichever comes first: the operation settling, or a short timer (which fires only if the event loop runs). */
async function firstOf(op: Promise<unknown>, ms = 50): Promise<'timer' | 'op'> {
  return Promise.race([op.then(() => 'op' as const, () => 'op' as const), sleep(ms).then(() => 'timer' as const)]);
}

t.test('an accept waits for the lock without blocking, and is stored once it is free', async (t) => {
  const { queue, path } = await openQueue(t);
  await queue.enqueue(call('before'));
  const lock = await holdWriteLock(t, path);
  const accept = track(queue.enqueue(call('during')));
  t.equal(await firstOf(accept.promise), 'timer', 'timers run while the accept waits for the lock');
  await sleep(200);
  t.equal(accept.state(), 'pending', 'the accept is still waiting, not failed');
  await lock.release();
  t.match(await accept.promise, { duplicate: false, record: { id: 'during', status: 'queued' } });
  t.match(await queue.get('during'), { id: 'during', status: 'queued' }, 'stored');
});

t.test('an accept still locked out after its budget fails with 503 QUEUE_ERR_BUSY and stores nothing', async (t) => {
  const { queue, path } = await openQueue(t);
  const lock = await holdWriteLock(t, path);
  const accept = queue.enqueue(call('locked-out'));
  t.equal(await firstOf(accept), 'timer', 'timers run while the accept waits for the lock');
  const err = await accept.then(() => undefined, (e: unknown) => e);
  t.match(err, { code: 'QUEUE_ERR_BUSY', status: 503, retryAfterS: 1, message: /locked by another process/ });
  t.equal(await queue.get('locked-out'), null, 'nothing stored for a call that got 503');
  await lock.release();
  t.match(await queue.enqueue(call('locked-out')), { duplicate: false }, 'the client\'s retry with the same id is accepted once');
});

t.test('a lease attempt meanwhile finds nothing, and the call is leased once the lock is free', async (t) => {
  const { queue, path } = await openQueue(t);
  await queue.enqueue(call('waiting'));
  const lock = await holdWriteLock(t, path);
  t.equal(await queue.next({ timeoutMs: 300 }), null, 'no lease and no error while another process writes');
  const next = track(queue.next({ timeoutMs: 10_000 }));
  t.equal(await firstOf(next.promise), 'timer', 'the worker\'s wait does not block either');
  await lock.release();
  const lease = await next.promise;
  t.equal(lease?.request.id, 'waiting', 'leased after the lock was released');
  t.equal(lease?.deliveryCount, 1, 'the attempts that met the lock did not count as deliveries');
});

t.test('a lease\'s writes wait for the lock and complete once it is free', async (t) => {
  const { queue, path } = await openQueue(t);
  await queue.enqueue(call('running'));
  const lease = (await queue.next({ timeoutMs: 5_000 }))!;
  await lease.beginAttempt();
  await lease.endAttempt({ statusCode: 200, error: null });
  const lock = await holdWriteLock(t, path);
  const beat = track(lease.working());
  const finish = track(lease.finish({ status: 'succeeded', result: null, error: null }));
  t.equal(await firstOf(finish.promise), 'timer', 'timers run while the finish waits for the lock');
  await sleep(200);
  t.same([beat.state(), finish.state()], ['pending', 'pending'], 'heartbeat and finish wait, they do not fail');
  await lock.release();
  await beat.promise;
  t.match(await finish.promise, { status: 'succeeded' });
  await lease.ack();
  t.match(await queue.get('running'), { status: 'succeeded' });
});

t.test('reads and health answer while another process holds the write lock', async (t) => {
  const { queue, path } = await openQueue(t);
  await queue.enqueue(call('read-me'));
  await holdWriteLock(t, path);
  t.match(await queue.get('read-me'), { id: 'read-me', status: 'queued' });
  t.equal((await queue.list()).length, 1);
  t.same((await queue.depth()).map((d) => [d.status, d.count]), [['queued', 1]]);
  t.match(await queue.health(), { ok: true });
});

t.test('a cancel still locked out after its budget fails with QUEUE_ERR_BUSY and changes nothing', async (t) => {
  const { queue, path } = await openQueue(t);
  await queue.enqueue(call('keep'));
  const lock = await holdWriteLock(t, path);
  await t.rejects(queue.cancel('keep'), { code: 'QUEUE_ERR_BUSY', status: 503 });
  await lock.release();
  t.match(await queue.get('keep'), { status: 'queued' });
});

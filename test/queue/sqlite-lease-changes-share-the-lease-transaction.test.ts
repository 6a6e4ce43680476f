// The lease changes of one event-loop turn (attempt, result, ack) ride in the lease pump's transaction
// when a pump runs in that turn: one BEGIN … COMMIT for both instead of two (counted from the WAL file:
// helpers/sqlite-wal.ts). Inside the shared transaction each
// change is still refused alone, and a lock held by another process rolls it all back: the changes are
// retried (nothing lost, nothing written twice) and the leases come once the lock is gone.

import t, { type Test } from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createQueue, CallStateError, type Lease, type Queue } from '../../router/queue/index.js';
import { makeCall } from '../helpers/calls.js';
import { commitsInWal, resetWal } from '../helpers/sqlite-wal.js';

const ok = { status: 'succeeded' as const, result: { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('out') } };

async function setup(t: Test, n: number): Promise<{ path: string; queue: Queue; leases: Lease[]; ids: string[] }> {
  const path = join(t.testdir(), 'q.db');
  const queue = await createQueue(`sqlite:${path}`, { ackWaitMs: 30_000, sqlite: { pollIntervalMs: 20 } });
  t.teardown(() => queue.close());
  const ids: string[] = [];
  for (let i = 0; i < n; i++) { const c = makeCall(); ids.push(c.id); await queue.enqueue(c); }
  const leases = [(await queue.next({ timeoutMs: 2000 }))!, (await queue.next({ timeoutMs: 2000 }))!];
  await Promise.all(leases.map((l) => l.beginAttempt()));
  return { path, queue, leases, ids };
}

t.test('changes and new leases of one turn are one transaction; a refused change is refused alone', async (t) => {
  const { path, queue, leases, ids } = await setup(t, 4);
  resetWal(path);
  t.equal(commitsInWal(path), 0, 'the WAL starts empty');
  // One turn: an ack before finish (the transition refuses it), a conclude, and two next().
  const [refused, concluded, next2, next3] = await Promise.allSettled([
    leases[0]!.ack(), leases[1]!.conclude!({ statusCode: 200 }, ok, true), queue.next({ timeoutMs: 2000 }), queue.next({ timeoutMs: 2000 }),
  ]);
  t.equal(commitsInWal(path), 1, 'one commit wrote the changes and the leases');
  t.ok(refused.status === 'rejected' && refused.reason instanceof CallStateError, 'the ack before finish is refused');
  t.equal(concluded.status, 'fulfilled', 'the conclude beside it committed');
  const fresh = [next2, next3].map((r) => (r.status === 'fulfilled' ? r.value : null));
  t.same(fresh.map((l) => l?.request.id).sort(), [ids[2], ids[3]].sort(), 'the two waiting next() got the two queued calls');
  t.ok(fresh.every((l) => l?.deliveryCount === 1));
  t.equal((await queue.get(ids[0]!))?.status, 'running', 'nothing of the refused ack was written');
  t.equal((await queue.get(ids[1]!))?.status, 'succeeded');
  for (const l of [leases[0]!, ...fresh]) await l!.nak(60_000_000);
});

t.test('a change with no lease pump in its turn commits on its own', async (t) => {
  const { path, queue, leases, ids } = await setup(t, 2);
  resetWal(path);
  await leases[0]!.conclude!({ statusCode: 200 }, ok, true);
  t.equal(commitsInWal(path), 1);
  t.equal((await queue.get(ids[0]!))?.status, 'succeeded');
  await leases[1]!.nak(60_000_000);
});

t.test('another process holding the lock: the shared transaction rolls back, the changes are retried, the leases come later', async (t) => {
  const { path, queue, leases, ids } = await setup(t, 3);
  const other = new Database(path);
  t.teardown(() => { if (other.inTransaction) other.exec('ROLLBACK'); other.close(); });
  other.exec('BEGIN IMMEDIATE');
  const concluded = leases[0]!.conclude!({ statusCode: 200 }, ok, true);
  const ended = leases[1]!.endAttempt({ statusCode: 503 });
  const next = queue.next({ timeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 150));
  t.equal(other.prepare('SELECT status FROM calls WHERE id = ?').pluck().get(ids[0]), 'running', 'nothing written while the lock is held');
  other.exec('COMMIT');
  const [record] = await Promise.all([concluded, ended]);
  t.equal(record.status, 'succeeded', 'the conclude was retried and written');
  const lease = await next;
  t.equal(lease?.request.id, ids[2], 'the waiting next() got the queued call');
  t.equal(lease?.deliveryCount, 1, 'leased once');
  const second = await queue.get(ids[1]!);
  t.equal(second?.attempts.length, 1, 'the attempt ended once');
  t.equal(second?.attempts[0]?.statusCode, 503);
  await leases[1]!.nak(60_000_000);
  await lease!.nak(60_000_000);
});

// With many leases held, the lease changes of several event-loop turns commit in one transaction (a 1 ms
// commit window: more changes are sure to follow); with few held, a change commits at the end of its own
// turn, as before. Transactions counted from the WAL file (helpers/sqlite-wal.ts).

import t, { type Test } from 'tap';
import { join } from 'node:path';
import { createQueue, type Lease, type Queue } from '../../router/queue/index.js';
import { makeCall } from '../helpers/calls.js';
import { commitsInWal, resetWal } from '../helpers/sqlite-wal.js';

const ok = { status: 'succeeded' as const, result: { statusCode: 200, headers: {}, body: Buffer.from('out') } };
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function leased(t: Test, n: number): Promise<{ path: string; queue: Queue; leases: Lease[] }> {
  const path = join(t.testdir(), 'q.db');
  const queue = await createQueue(`sqlite:${path}`, { ackWaitMs: 30_000, sqlite: { pollIntervalMs: 20 } });
  t.teardown(() => queue.close());
  for (let i = 0; i < n; i++) await queue.enqueue(makeCall());
  const leases = await Promise.all(Array.from({ length: n }, () => queue.next({ timeoutMs: 2000, beginAttempt: true })));
  t.ok(leases.every((l) => l !== null), `${n} leases`);
  return { path, queue, leases: leases as Lease[] };
}

/** One conclude per turn, `turns` turns in a row; resolves when every one is committed. */
async function concludeOverTurns(leases: readonly Lease[]): Promise<void> {
  const written: Array<Promise<unknown>> = [];
  for (const lease of leases) {
    await lease.beginAttempt();
    written.push(lease.conclude!({ statusCode: 200 }, ok, true));
    await nextTurn();
  }
  await Promise.all(written);
}

t.test('many leases held: the changes of several turns share one transaction, and all of them are written', async (t) => {
  const { path, queue, leases } = await leased(t, 12);
  resetWal(path);
  await concludeOverTurns(leases.slice(0, 5));
  const commits = commitsInWal(path);
  t.ok(commits >= 1 && commits <= 2, `5 changes in 5 turns took ${commits} transaction(s), not 5`);
  for (const lease of leases.slice(0, 5)) t.equal((await queue.get(lease.request.id))?.status, 'succeeded');
  for (const lease of leases.slice(5)) await lease.nak(60_000_000);
});

t.test('few leases held: each turn\'s change commits at the end of its turn', async (t) => {
  const { path, queue, leases } = await leased(t, 3);
  resetWal(path);
  await concludeOverTurns(leases);
  t.equal(commitsInWal(path), 3, 'one transaction per turn');
  for (const lease of leases) t.equal((await queue.get(lease.request.id))?.status, 'succeeded');
});

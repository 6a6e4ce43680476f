// Queue contract, part 4: batches and busy functions. Several next() waiting at once each get their
// own call; next() with `busy` skips those functions' calls without touching them; a change refused
// inside a batch (a call cancelled under its lease) is refused alone while the others commit.

import type { Test } from 'tap';
import type { Lease } from '../../router/queue/index.js';
import { makeCall } from '../helpers/calls.js';
import { settle, type ContractOptions, type MakeQueue } from './contract-helpers.js';

/** Register the batch tests. */
export function batchContract(t: Test, make: MakeQueue, opts: Required<ContractOptions>): void {
  const ackWaitMs = opts.ackWaitMs;
  const test = (name: string, fn: (t: Test) => Promise<void>): void => {
    t.test(name, { skip: opts.skip.includes(name) && 'skipped for this backend' }, fn);
  };

  test('several next() waiting at once each get a different call, and all get settled', async (t) => {
    const q = await make(t, { ackWaitMs: 30_000 });
    const waiting = Array.from({ length: 6 }, () => q.next({ timeoutMs: 5_000 }));
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) { const call = makeCall(); ids.push(call.id); await q.enqueue(call); }
    const leases = await Promise.all(waiting);
    t.ok(leases.every((l) => l !== null), 'every waiter got a call');
    const got = (leases as Lease[]).map((l) => l.request.id);
    t.same([...new Set(got)].sort(), [...ids].sort(), 'each call went to exactly one waiter');
    await Promise.all((leases as Lease[]).map((l) => settle(l)));
    for (const id of ids) t.equal((await q.get(id))?.status, 'succeeded');
    t.equal(await q.next({ timeoutMs: 300 }), null, 'nothing left');
  });

  test('next skips busy functions', async (t) => {
    const q = await make(t, { ackWaitMs: 30_000 });
    const a1 = makeCall({ functionName: 'slow' });
    const a2 = makeCall({ functionName: 'slow' });
    const b1 = makeCall({ functionName: 'fast' });
    for (const call of [a1, a2, b1]) await q.enqueue(call);
    const busy = new Set(['slow']);
    const first = await q.next({ busy, timeoutMs: 5_000 });
    t.equal(first?.request.id, b1.id, 'the busy function\'s older calls are passed over');
    t.equal(await q.next({ busy, timeoutMs: 300 }), null, 'only busy calls left: next waits as if none were visible');
    busy.delete('slow');
    const again = await q.next({ timeoutMs: 5_000 });
    t.equal(again?.request.id, a1.id, 'the busy function\'s calls stayed in order');
    t.equal(again?.deliveryCount, 1, 'skipping did not count as a delivery');
    const waiting = q.next({ busy: new Set(['slow']), timeoutMs: 5_000 });
    const b2 = makeCall({ functionName: 'fast' });
    await q.enqueue(b2);
    t.equal((await waiting)?.request.id, b2.id, 'a waiting next() with busy names gets a new call of another function');
    await settle(first!);
    await settle(again!);
  });

  test('next() calls waiting with different busy sets each get a call they may take', async (t) => {
    const q = await make(t, { ackWaitMs: 30_000 });
    // Asleep before anything is queued: each is woken (or not) by what arrives.
    const notB = q.next({ busy: new Set(['b']), timeoutMs: 3_000 });
    const notA = q.next({ busy: new Set(['a']), timeoutMs: 3_000 });
    const either = q.next({ timeoutMs: 3_000 });
    const a1 = makeCall({ functionName: 'a' });
    const b1 = makeCall({ functionName: 'b' });
    const a2 = makeCall({ functionName: 'a' });
    for (const call of [a1, b1, a2]) await q.enqueue(call);
    const leases = await Promise.all([notB, notA, either]);
    t.ok(leases.every((l) => l !== null), 'every waiter got a call within its 3 s');
    t.equal(leases[0]?.request.functionName, 'a', 'the caller busy with b got a call of a');
    t.equal(leases[1]?.request.id, b1.id, 'the caller busy with a got the call of b');
    t.same(leases.map((l) => l?.request.id).sort(), [a1.id, b1.id, a2.id].sort(), 'each call went to one caller');
    await Promise.all((leases as Lease[]).map((l) => settle(l)));
  });

  test('a change refused inside a batch is refused alone; the rest of the batch is written', async (t) => {
    const q = await make(t, { ackWaitMs: 30_000 });
    const a = makeCall();
    const b = makeCall();
    await q.enqueue(a);
    await q.enqueue(b);
    const [la, lb] = await Promise.all([q.next({ timeoutMs: 5_000 }), q.next({ timeoutMs: 5_000 })]);
    t.ok(la !== null && lb !== null, 'both leased');
    // Leased but not started is still queued: a cancel takes the first call away from its lease.
    const [first, second] = [la!, lb!];
    await q.cancel(first.request.id);
    // Both changes in the same turn: one batch where the backend batches.
    const [refused, kept] = await Promise.allSettled([first.beginAttempt(), second.beginAttempt()]);
    t.equal(refused.status, 'rejected', 'the change on the cancelled call is refused');
    t.match((refused as PromiseRejectedResult).reason, { code: 'QUEUE_ERR_CALL_STATE' });
    t.equal(kept.status, 'fulfilled', 'the other change in the batch is written');
    t.equal((await q.get(second.request.id))?.status, 'running');
    t.equal((await q.get(first.request.id))?.status, 'cancelled', 'nothing of the refused change was written');
    await second.endAttempt({ statusCode: 200 });
    await second.finish({ status: 'succeeded', result: null });
    await second.ack();
    t.equal((await q.get(second.request.id))?.status, 'succeeded');
    t.equal(await q.next({ timeoutMs: 300 }), null, 'the cancelled call is not delivered again');
  });
}

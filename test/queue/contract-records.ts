// Queue contract, part 2: records and dead letters. term, cancel, redrive, list, depth, the callback
// bookkeeping, result size, reopening the store.

import type { Test } from 'tap';
import { makeCall } from '../helpers/calls.js';
import { mustLease, settle, type ContractOptions, type MakeQueue } from './contract-helpers.js';

/** Register the record tests. */
export function recordsContract(t: Test, make: MakeQueue, opts: Required<ContractOptions>): void {
  const ackWaitMs = opts.ackWaitMs;
  const test = (name: string, fn: (t: Test) => Promise<void>): void => {
    t.test(name, { skip: opts.skip.includes(name) && 'skipped for this backend' }, fn);
  };

  test('term dead-letters the call: failed, with the reason, and gone from the queue', async (t) => {
    const q = await make(t, { ackWaitMs });
    const call = makeCall({ callbackUrl: 'http://127.0.0.1:9/hook' });
    await q.enqueue(call);
    const lease = await mustLease(t, q);
    await lease.beginAttempt();
    await t.rejects(lease.ack(), { code: 'QUEUE_ERR_CALL_STATE' }, 'ack needs a final record');
    await lease.term('malformed request');
    const record = (await q.get(call.id))!;
    t.match(record, { status: 'failed', error: 'malformed request', callback: { state: 'failed', attempts: 0 } });
    t.not(record.finishedAt, null);
    t.not(record.attempts[0]!.finishedAt, null, 'the open attempt was closed');
    t.equal(await q.next({ timeoutMs: ackWaitMs * 2 }), null, 'not delivered again');
  });

  test('cancel works only while queued, and a cancelled call is never invoked', async (t) => {
    const q = await make(t, { ackWaitMs });
    const waiting = makeCall();
    await q.enqueue(waiting);
    const cancelled = await q.cancel(waiting.id);
    t.match(cancelled, { id: waiting.id, status: 'cancelled' });
    t.equal(await q.next({ timeoutMs: 300 }), null, 'a cancelled call is not handed out');
    await t.rejects(q.cancel(waiting.id), { code: 'QUEUE_ERR_CALL_STATE', status: 409 });
    await t.rejects(q.cancel('no-such-call'), { code: 'QUEUE_ERR_CALL_NOT_FOUND', status: 404 });

    const running = makeCall();
    await q.enqueue(running);
    const lease = await mustLease(t, q);
    await lease.beginAttempt();
    await t.rejects(q.cancel(running.id), { code: 'QUEUE_ERR_CALL_STATE' }, 'running calls cannot be cancelled');
    await lease.endAttempt({ statusCode: 200 });
    await lease.finish({ status: 'succeeded', result: null });
    await lease.ack();

    const leased = makeCall();
    await q.enqueue(leased);
    const held = await mustLease(t, q);
    t.equal((await q.cancel(leased.id)).status, 'cancelled', 'leased but not started: still cancellable');
    await t.rejects(held.beginAttempt(), { code: 'QUEUE_ERR_CALL_STATE' }, 'the worker learns it was cancelled');
    await held.ack();
    t.equal((await q.get(leased.id))!.attempts.length, 0, 'never invoked');
  });

  test('redrive sends a failed or expired call round again, keeping its history', async (t) => {
    const q = await make(t, { ackWaitMs });
    const call = makeCall();
    await q.enqueue(call);
    await settle(await mustLease(t, q), 'failed', 500);
    await t.rejects(q.redrive('no-such-call'), { code: 'QUEUE_ERR_CALL_NOT_FOUND' });
    const again = await q.redrive(call.id);
    t.match(again, { status: 'queued', round: 1, result: null, finishedAt: null, error: null });
    await t.rejects(q.redrive(call.id), { code: 'QUEUE_ERR_CALL_STATE' }, 'a queued call cannot be redriven');
    const lease = await mustLease(t, q);
    t.equal(lease.deliveryCount, 1, 'a new round starts a new message');
    t.equal(lease.record.attempts.length, 1, 'the first round\'s attempt is kept');
    const attempt = await lease.beginAttempt();
    t.match(attempt, { number: 2, round: 1 });
    await lease.endAttempt({ statusCode: 200 });
    await lease.finish({ status: 'succeeded', result: null });
    await lease.ack();
    await t.rejects(q.redrive(call.id), { code: 'QUEUE_ERR_CALL_STATE' }, 'a succeeded call cannot be redriven');
  });

  test('list filters by function and status, newest first, with a limit and without bodies', async (t) => {
    const q = await make(t, { ackWaitMs });
    const ids: string[] = [];
    for (const fn of ['a', 'b', 'a', 'b', 'a']) {
      const call = makeCall({ functionName: fn });
      ids.push(call.id);
      await q.enqueue(call);
      await new Promise((r) => setTimeout(r, 5)); // distinct acceptance times
    }
    await settle(await mustLease(t, q)); // the oldest call: ids[0]
    const newestFirst = [...ids].reverse();
    t.same((await q.list()).map((r) => r.id), newestFirst);
    t.same((await q.list({ limit: 2 })).map((r) => r.id), newestFirst.slice(0, 2));
    t.same((await q.list({ functionName: 'a' })).map((r) => r.id), [ids[4], ids[2], ids[0]]);
    t.same((await q.list({ functionName: 'a', status: 'queued' })).map((r) => r.id), [ids[4], ids[2]]);
    t.same((await q.list({ status: ['succeeded', 'failed'] })).map((r) => r.id), [ids[0]]);
    t.same(await q.list({ functionName: 'nope' }), []);
    const [listed] = await q.list({ status: 'succeeded' });
    t.equal(listed!.result!.body, null, 'list leaves result bodies out');
    t.equal(listed!.result!.bodySize, 3);
  });

  test('depth counts calls by function and status', async (t) => {
    const q = await make(t, { ackWaitMs: 10_000 });
    for (const fn of ['a', 'a', 'a', 'b']) await q.enqueue(makeCall({ functionName: fn }));
    const first = await mustLease(t, q);
    await first.beginAttempt();
    const second = await mustLease(t, q);
    await settle(second, 'failed', 400);
    const depth = await q.depth();
    const count = (fn: string, status: string): number => depth.find((d) => d.functionName === fn && d.status === status)?.count ?? 0;
    t.equal(count('a', 'running'), 1);
    t.equal(count('a', 'failed'), 1);
    t.equal(count('a', 'queued'), 1);
    t.equal(count('b', 'queued'), 1);
    t.equal(depth.reduce((n, d) => n + d.count, 0), 4, 'nothing counted twice');
    t.notOk(depth.some((d) => d.count === 0), 'no zero rows');
  });

  test('a callback retry never re-invokes: the final record and result come back with the message', async (t) => {
    const q = await make(t, { ackWaitMs });
    const call = makeCall({ callbackUrl: 'http://127.0.0.1:9/hook' });
    await q.enqueue(call);
    const lease = await mustLease(t, q);
    await lease.beginAttempt();
    await lease.endAttempt({ statusCode: 201 });
    await lease.finish({ status: 'succeeded', result: { statusCode: 201, headers: {}, body: Buffer.from('made') } });
    await lease.callbackAttempt({ state: 'pending', error: 'connect ECONNREFUSED' });
    await lease.nak(50);
    t.equal((await q.get(call.id))!.status, 'succeeded', 'a callback retry keeps the final status');
    const again = await mustLease(t, q);
    t.equal(again.record.status, 'succeeded', 'the redelivered lease shows the call is final');
    t.equal(Buffer.from(again.record.result!.body!).toString(), 'made', 'with the result to deliver');
    await t.rejects(again.beginAttempt(), { code: 'QUEUE_ERR_CALL_STATE' }, 'and refuses a new invocation');
    await again.callbackAttempt({ state: 'delivered', statusCode: 204 });
    await again.ack();
    const record = (await q.get(call.id))!;
    t.match(record.callback, { state: 'delivered', attempts: 2, lastStatusCode: 204, lastError: null });
    t.equal(record.attempts.length, 1);
  });

  test('result bodies are kept up to maxResultBytes', async (t) => {
    const q = await make(t, { ackWaitMs, maxResultBytes: 8 });
    for (const [size, kept] of [[8, true], [9, false]] as const) {
      const call = makeCall();
      await q.enqueue(call);
      const lease = await mustLease(t, q);
      await lease.beginAttempt();
      await lease.finish({ status: 'succeeded', result: { statusCode: 200, headers: {}, body: Buffer.alloc(size, 120) } });
      await lease.ack();
      const result = (await q.get(call.id))!.result!;
      t.equal(result.bodySize, size);
      t.equal(result.body === null ? null : Buffer.from(result.body).length, kept ? size : null, `${size} bytes kept: ${kept}`);
    }
  });

  test('records and queued calls survive closing and reopening', async (t) => {
    const q1 = await make(t, { ackWaitMs });
    const done = makeCall();
    const waiting = makeCall();
    const leased = makeCall();
    for (const c of [done, leased, waiting]) await q1.enqueue(c); // FIFO: done, then leased
    await settle(await mustLease(t, q1));
    const held = await mustLease(t, q1);
    await held.beginAttempt();
    await q1.close();
    await t.rejects(q1.get(done.id), { code: 'QUEUE_ERR_CLOSED' });
    t.equal(await q1.next(), null, 'next on a closed queue is null');
    const q2 = await make(t, { ackWaitMs });
    const record = (await q2.get(done.id))!;
    t.match(record, { status: 'succeeded', lastStatusCode: 200 });
    t.equal(Buffer.from(record.result!.body!).toString(), 'out');
    const got = new Map<string, number>();
    for (let i = 0; i < 2; i++) {
      const lease = await mustLease(t, q2, ackWaitMs * 5);
      got.set(lease.request.id, lease.deliveryCount);
      await settle(lease);
    }
    t.same(Object.fromEntries(got), { [waiting.id]: 1, [leased.id]: 2 }, 'the queued call, then the lapsed one again');
  });

  test('next() resolves null on abort and on close', async (t) => {
    const q = await make(t, { ackWaitMs });
    const ac = new AbortController();
    const pending = q.next({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    t.equal(await pending, null);
    const waiting = q.next();
    await q.close();
    t.equal(await waiting, null);
    await t.rejects(q.enqueue(makeCall()), { code: 'QUEUE_ERR_CLOSED', status: 503 });
  });
}

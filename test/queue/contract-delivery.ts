// Queue contract, part 1: delivery. Enqueue, lease, ack, idempotency, nak delays, lease lapse and
// extension, and two instances sharing one store.

import { createHash } from 'node:crypto';
import type { Test } from 'tap';
import { requestDifferences, type Lease } from '../../router/queue/index.js';
import { makeCall } from '../helpers/calls.js';
import { mustLease, settle, since, type ContractOptions, type MakeQueue } from './contract-helpers.js';

/** Register the delivery tests. */
export function deliveryContract(t: Test, make: MakeQueue, opts: Required<ContractOptions>): void {
  const ackWaitMs = opts.ackWaitMs;
  const test = (name: string, fn: (t: Test) => Promise<void>): void => {
    t.test(name, { skip: opts.skip.includes(name) && 'skipped for this backend' }, fn);
  };

  test('enqueue, lease, ack: the request comes back whole and the record tells the story', async (t) => {
    const q = await make(t, { ackWaitMs });
    const call = makeCall({ callbackUrl: 'http://127.0.0.1:9/hook?x=1' });
    const { duplicate, record } = await q.enqueue(call);
    t.equal(duplicate, false);
    t.match(record, { id: call.id, functionName: 'echo', method: 'PUT', path: '/a/b', query: 'q=1&r=%20x', status: 'queued',
      bodySize: call.body.byteLength, callbackUrl: call.callbackUrl, attempts: [], result: null, round: 0 });
    t.same(record.headers, call.headers);
    t.equal(record.callback.state, 'pending');
    const lease = await mustLease(t, q);
    t.equal(lease.deliveryCount, 1);
    t.equal(lease.expired, false);
    t.same({ ...lease.request, body: Buffer.from(lease.request.body) }, { ...call, body: call.body }, 'request round-trips');
    t.equal(lease.record.status, 'queued', 'leased but not started is still queued');
    const attempt = await lease.beginAttempt();
    t.match(attempt, { number: 1, round: 0, finishedAt: null, statusCode: null });
    t.equal((await q.get(call.id))?.status, 'running');
    await lease.endAttempt({ statusCode: 200 });
    const final = await lease.finish({ status: 'succeeded', result: { statusCode: 200, headers: { 'x-out': '1' }, body: Buffer.from('result') } });
    t.equal(final.callback.state, 'pending', 'the callback is due once the result is stored');
    await t.rejects(lease.finish({ status: 'failed', result: null }), { code: 'QUEUE_ERR_CALL_STATE' }, 'finish is once');
    await lease.ack();
    const got = (await q.get(call.id))!;
    t.match(got, { status: 'succeeded', lastStatusCode: 200, error: null, nextAttemptAt: null });
    t.equal(got.attempts.length, 1);
    t.match(got.attempts[0], { number: 1, statusCode: 200, error: null });
    t.ok(got.acceptedAt <= got.startedAt! && got.startedAt! <= got.finishedAt!, 'timestamps in order');
    t.same(Buffer.from(got.result!.body!).toString(), 'result');
    t.same(got.result!.headers, { 'x-out': '1' });
    t.equal(await q.next({ timeoutMs: 300 }), null, 'an acked call is not delivered again');
    t.equal(await q.get('no-such-call'), null);
  });

  test('the same id twice is stored once and reported as duplicate', async (t) => {
    const q = await make(t, { ackWaitMs });
    const call = makeCall();
    const [a, b] = await Promise.all([q.enqueue(call), q.enqueue({ ...call, body: Buffer.from('other') })]);
    t.same([a.duplicate, b.duplicate].sort(), [false, true], 'one of two concurrent enqueues is the duplicate');
    const c = await q.enqueue(call);
    t.equal(c.duplicate, true);
    t.equal(c.record.id, call.id);
    const lease = await mustLease(t, q);
    t.equal(lease.request.id, call.id);
    await settle(lease);
    t.equal(await q.next({ timeoutMs: 300 }), null, 'only one message was queued');
    t.equal((await q.enqueue(call)).duplicate, true, 'still a duplicate after it completed');
    t.equal((await q.list()).length, 1);
  });

  test('a duplicate id with another request keeps the first request and says what differs', async (t) => {
    const q = await make(t, { ackWaitMs });
    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    const call = makeCall();
    const first = { ...call, bodySha256: sha(call.body) };
    t.equal((await q.enqueue(first)).record.bodySha256, first.bodySha256, 'the body hash is stored with the record');
    const other = { ...call, body: Buffer.from('another body'), bodySha256: sha(Buffer.from('another body')), path: '/c' };
    const dup = await q.enqueue(other);
    t.equal(dup.duplicate, true);
    t.equal(dup.record.bodySha256, first.bodySha256, 'the stored record is the first request\'s');
    t.same(requestDifferences(dup.record, other), ['path', 'body']);
    t.same(requestDifferences(dup.record, first), [], 'the same request again differs in nothing');
    const unhashed = { ...dup.record, bodySha256: undefined };
    t.same(requestDifferences(unhashed, { ...first, body: Buffer.alloc(call.body.byteLength) }), [], 'a record without a hash: same size is not told apart');
    t.same(requestDifferences(unhashed, { ...first, body: Buffer.alloc(1) }), ['body'], 'a record without a hash: another size differs');
    const lease = await mustLease(t, q);
    t.same(Buffer.from(lease.request.body), call.body, 'the first body is delivered');
    await settle(lease, 'failed', 400);
    await q.redrive(call.id);
    const again = await mustLease(t, q);
    t.same(Buffer.from(again.request.body), call.body, 'a redrive runs the first body, not the conflicting one');
    await settle(again);
  });

  test('nak with a delay hides the call until the delay passed', async (t) => {
    const q = await make(t, { ackWaitMs });
    const call = makeCall();
    await q.enqueue(call);
    const lease = await mustLease(t, q);
    await lease.beginAttempt();
    await lease.endAttempt({ statusCode: 503, error: 'function answered 503' });
    const delay = 800;
    const start = Date.now();
    await lease.nak(delay);
    const waiting = (await q.get(call.id))!;
    t.match(waiting, { status: 'queued', lastStatusCode: 503, error: 'function answered 503' });
    t.ok(waiting.nextAttemptAt! >= start + delay - 5, 'nextAttemptAt says when');
    t.equal(await q.next({ timeoutMs: delay / 2 }), null, 'not visible before the delay');
    const again = await mustLease(t, q);
    t.ok(since(start) >= delay - 20, `redelivered after ${since(start)} ms (delay ${delay})`);
    t.equal(again.deliveryCount, 2);
    t.equal(again.record.attempts.length, 1);
    t.equal((await again.beginAttempt()).number, 2);
    await again.endAttempt({ statusCode: 200 });
    await again.finish({ status: 'succeeded', result: null });
    await again.ack();
    t.equal((await q.get(call.id))!.attempts.length, 2);
  });

  test('a lease not extended lapses: the call is delivered again and the old lease is lost', async (t) => {
    const q = await make(t, { ackWaitMs });
    const call = makeCall();
    await q.enqueue(call);
    // Taken before the lease is asked for: the lease clock starts (or restarts) at an event the server sees
    // before our promise resolves, so a start taken after it would count client-side latency as early delivery.
    const start = Date.now();
    const first = await mustLease(t, q);
    await first.beginAttempt();
    const second = await mustLease(t, q, ackWaitMs * 5);
    t.ok(since(start) >= ackWaitMs - 50, `redelivered after ${since(start)} ms (ack_wait ${ackWaitMs})`);
    t.equal(second.request.id, call.id);
    t.equal(second.deliveryCount, 2);
    const attempt = await second.beginAttempt();
    t.equal(attempt.number, 2);
    const record = (await q.get(call.id))!;
    t.not(record.attempts[0]!.finishedAt, null, 'the dead worker\'s attempt was closed');
    t.match(record.attempts[0]!.error, /lease/);
    if (!opts.skip.includes('lost lease is fenced')) {
      await t.rejects(first.endAttempt({ statusCode: 200 }), { code: 'QUEUE_ERR_LEASE_LOST' }, 'the old holder cannot write');
      await t.rejects(first.working(), { code: 'QUEUE_ERR_LEASE_LOST' });
    }
    await second.endAttempt({ statusCode: 200 });
    await second.finish({ status: 'succeeded', result: null });
    await second.ack();
    t.equal((await q.get(call.id))!.status, 'succeeded');
  });

  test('working() keeps a lease alive past ack_wait: no redelivery', async (t) => {
    const q = await make(t, { ackWaitMs });
    await q.enqueue(makeCall());
    const lease = await mustLease(t, q);
    await lease.beginAttempt();
    const heartbeat = setInterval(() => { lease.working().catch((err) => t.fail(String(err))); }, ackWaitMs / 4);
    try {
      t.equal(await q.next({ timeoutMs: ackWaitMs * 3 }), null, `no redelivery during ${ackWaitMs * 3} ms of working()`);
    } finally {
      clearInterval(heartbeat);
    }
    await lease.endAttempt({ statusCode: 200 });
    await lease.finish({ status: 'succeeded', result: null });
    await lease.ack();
    t.equal(await q.next({ timeoutMs: ackWaitMs * 2 }), null, 'acked after the heartbeat: gone for good');
  });

  test('two instances on one store never hand one call to both', async (t) => {
    const q1 = await make(t, { ackWaitMs: 10_000 });
    const q2 = await make(t, { ackWaitMs: 10_000 });
    const total = 200;
    const ids = Array.from({ length: total }, () => makeCall().id);
    await Promise.all(ids.map((id, i) => (i % 2 === 0 ? q1 : q2).enqueue(makeCall({ id }))));
    const seen = new Map<string, string>();
    let done = 0;
    const consumer = async (q: typeof q1, name: string): Promise<void> => {
      while (done < total) {
        const lease: Lease | null = await q.next({ timeoutMs: 500 });
        if (lease === null) continue;
        const prev = seen.get(lease.request.id);
        if (prev !== undefined) t.fail(`${lease.request.id} leased by ${prev} and ${name}`);
        seen.set(lease.request.id, name);
        t.equal(lease.deliveryCount, 1);
        await settle(lease);
        done++;
      }
    };
    const runners = [1, 2, 3, 4].flatMap((n) => [consumer(q1, `q1#${n}`), consumer(q2, `q2#${n}`)]);
    await Promise.all(runners);
    t.equal(seen.size, total, 'every call was leased exactly once');
    const byQueue = [...seen.values()].reduce((acc, v) => acc.set(v.slice(0, 2), (acc.get(v.slice(0, 2)) ?? 0) + 1), new Map());
    t.comment(`leases per instance: ${JSON.stringify(Object.fromEntries(byQueue))}`);
    t.same((await q1.depth()).filter((d) => d.status !== 'succeeded'), [], 'nothing left queued or running');
  });
  test('next({ beginAttempt }): one attempt per lease whether the backend begins it or beginAttempt() does; a nak before it counts none', async (t) => {
    const q = await make(t, { ackWaitMs });
    const call = makeCall();
    await q.enqueue(call);
    const first = await q.next({ timeoutMs: 5000, beginAttempt: true });
    if (first === null) throw new Error('expected a call to lease');
    await first.nak(0);
    const back = (await q.get(call.id))!;
    t.equal(back.status, 'queued', 'handed back before it ran: queued');
    t.equal(back.attempts.length, 0, 'and no attempt counted');
    const second = await q.next({ timeoutMs: 5000, beginAttempt: true });
    if (second === null) throw new Error('expected the call again');
    t.equal(second.deliveryCount, 2);
    const attempt = await second.beginAttempt();
    t.equal(attempt.number, 1, 'the first attempt');
    t.equal((await q.get(call.id))?.status, 'running');
    await second.endAttempt({ statusCode: 200 });
    await second.finish({ status: 'succeeded', result: { statusCode: 200, headers: {}, body: Buffer.from('ok') } });
    await second.ack();
    const done = (await q.get(call.id))!;
    t.equal(done.attempts.length, 1, 'one attempt on record');
    t.equal(done.attempts[0]?.statusCode, 200);
  });
}

// Queue contract, part 3: time. max_event_age expiry and call_retention, with short real durations
// (backends with native TTLs cannot take a fake clock).

import type { Test } from 'tap';
import { makeCall } from '../helpers/calls.js';
import { waitFor } from '../helpers/wait.js';
import { mustLease, settle, type ContractOptions, type MakeQueue } from './contract-helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Register the expiry and retention tests. */
export function timeContract(t: Test, make: MakeQueue, opts: Required<ContractOptions>): void {
  const ackWaitMs = opts.ackWaitMs;
  const test = (name: string, fn: (t: Test) => Promise<void>): void => {
    t.test(name, { skip: opts.skip.includes(name) && 'skipped for this backend' }, fn);
  };

  test('a call not started within max_event_age expires without being invoked', async (t) => {
    const maxEventAgeMs = 400;
    const q = await make(t, { ackWaitMs, maxEventAgeMs });
    const stale = makeCall({ callbackUrl: 'http://127.0.0.1:9/hook' });
    await q.enqueue(stale);
    await sleep(maxEventAgeMs + 100);
    const lease = await mustLease(t, q);
    t.equal(lease.expired, true, 'the lease says so');
    await t.rejects(lease.beginAttempt(), { code: 'QUEUE_ERR_CALL_EXPIRED' }, 'and the queue refuses to start it');
    const record = await lease.finish({ status: 'expired', result: null, error: 'max_event_age exceeded' });
    t.equal(record.callback.state, 'pending', 'the callback can still report the expiry');
    await lease.ack();
    t.match(await q.get(stale.id), { status: 'expired', attempts: [], error: 'max_event_age exceeded', result: null });

    const fresh = makeCall();
    await q.enqueue(fresh);
    const started = await mustLease(t, q);
    t.equal(started.expired, false, 'a fresh call is not expired');
    await started.beginAttempt();
    await started.endAttempt({ statusCode: 503 });
    await started.nak(maxEventAgeMs + 100);
    const retry = await mustLease(t, q);
    t.equal(retry.expired, false, 'a call that started is retried even when older than max_event_age');
    await settle(retry);

    const again = await q.redrive(stale.id);
    t.equal(again.status, 'queued');
    const redriven = await mustLease(t, q);
    t.equal(redriven.expired, false, 'a redrive restarts the clock');
    await settle(redriven);
  });

  test('maxEventAgeMs 0 never expires', async (t) => {
    const q = await make(t, { ackWaitMs, maxEventAgeMs: 0 });
    await q.enqueue(makeCall());
    await sleep(100);
    const lease = await mustLease(t, q);
    t.equal(lease.expired, false);
    await settle(lease);
  });

  test('final records are removed after call_retention; queued calls are kept', async (t) => {
    const callRetentionMs = 500;
    const q = await make(t, { ackWaitMs, callRetentionMs });
    const done = makeCall();
    const queued = makeCall();
    await q.enqueue(done);
    await settle(await mustLease(t, q));
    await q.enqueue(queued);
    t.not(await q.get(done.id), null, 'kept right after it finished');
    await waitFor(async () => { await q.sweep(); return (await q.get(done.id)) === null; },
      callRetentionMs + opts.retentionSlackMs, 'the finished record to be removed', 50);
    t.pass('the finished record was removed');
    await sleep(callRetentionMs);
    await q.sweep();
    t.not(await q.get(queued.id), null, 'a queued call is never removed by retention');
  });

  test('a call whose callback is still pending outlives call_retention', async (t) => {
    const callRetentionMs = 300;
    const q = await make(t, { ackWaitMs: 30_000, callRetentionMs });
    const call = makeCall({ callbackUrl: 'http://127.0.0.1:9/hook' });
    await q.enqueue(call);
    const lease = await mustLease(t, q);
    await lease.beginAttempt();
    await lease.endAttempt({ statusCode: 200 });
    await lease.finish({ status: 'succeeded', result: null });
    await sleep(callRetentionMs * 2);
    await lease.working(); // still delivering the callback: the message stays leased
    await q.sweep();
    t.not(await q.get(call.id), null, 'kept while its message is in the queue');
    await lease.callbackAttempt({ state: 'delivered', statusCode: 200 });
    await lease.ack();
    await waitFor(async () => { await q.sweep(); return (await q.get(call.id)) === null; },
      callRetentionMs + opts.retentionSlackMs, 'the delivered record to be removed', 50);
    t.pass('removed once its callback was settled and retention passed');
  });
}

// A heartbeat (working()) reads the record while the call's own writes go on. A read answered with an
// older revision than the lease already holds must not replace it: the next step would act on a stale
// record (endAttempt on a `queued` record throws and the call is abandoned and invoked twice; settle
// with a `running` record posts a callback that says `running`). Found by the e2e SIGKILL test.

import t from 'tap';
import type { Delivery } from '../../router/queue/jetstream/jetstream-puller.js';
import { JetStreamLease, type LeaseStore, type Versioned } from '../../router/queue/jetstream/jetstream-lease.js';
import type { Envelope } from '../../router/queue/jetstream/jetstream-envelope.js';
import { newRecord, type NewCall } from '../../router/queue/record.js';

const call: NewCall = { id: 'race', functionName: 'echo', method: 'POST', path: '', query: '', headers: {}, body: Buffer.from('x'), callbackUrl: 'http://127.0.0.1:1/cb' };

/** An in-memory KV key with compare-and-set, whose reads the test can hold back. */
function fakeStore(): { store: LeaseStore; stored: () => Versioned; holdReads: () => () => void; wpi: number[] } {
  let current: Versioned = { env: { record: newRecord(call, 1), lease: null }, revision: 1 };
  let held: Array<() => void> | null = null;
  const wpi: number[] = [];
  const store: LeaseStore = {
    maxEventAgeMs: 0, maxResultBytes: 1024, ackWaitMs: 30_000, now: () => 2,
    read: async () => {
      const snapshot = current; // the value as of when the request left
      if (held !== null) await new Promise<void>((r) => held!.push(r));
      return snapshot;
    },
    write: async (_key: string, env: Envelope, revision: number) => {
      if (revision !== current.revision) return null;
      current = { env, revision: revision + 1 };
      return current.revision;
    },
    saveBody: async () => {},
    ack: async () => {},
    nak: () => {},
    working: () => { wpi.push(current.revision); },
  };
  return {
    store, stored: () => current, wpi,
    holdReads: () => { held = []; return () => { const h = held!; held = null; for (const r of h) r(); }; },
  };
}

t.test('a heartbeat answered late never rolls the lease back to an older revision', async (t) => {
  const { store, stored, holdReads, wpi } = fakeStore();
  const delivery = { msg: {} as Delivery['msg'], streamSeq: 7, deliveryCount: 1 };
  const lease = new JetStreamLease(store, 'race', delivery, 0, call, stored(), false);

  const release = holdReads();
  const beat = lease.working(); // reads revision 1 (queued) and is held back
  await lease.beginAttempt(); // revision 2: running
  release();
  await beat;
  t.equal(lease.record.status, 'running', 'the lease still sees its own write');
  t.same(wpi, [2], 'the beat still extended the lease');

  await lease.endAttempt({ statusCode: 200 });
  const release2 = holdReads();
  const beat2 = lease.working();
  const final = await lease.finish({ status: 'succeeded', result: { statusCode: 200, headers: {}, body: Buffer.from('ok') } });
  release2();
  await beat2;
  t.equal(final.status, 'succeeded');
  t.equal(lease.record.status, 'succeeded', 'settle (the callback) sees the final record, not the one the beat read');
  t.equal(lease.record.result?.statusCode, 200);
  t.equal(stored().revision, 3, 'begin, then end + finish in one write');
});

t.test('a heartbeat adopts a newer revision written by someone else', async (t) => {
  const { store, stored } = fakeStore();
  const delivery = { msg: {} as Delivery['msg'], streamSeq: 7, deliveryCount: 1 };
  const lease = new JetStreamLease(store, 'race', delivery, 0, call, stored(), false);
  await lease.beginAttempt();
  // A newer delivery of the same message took the call over: the beat must see the loss.
  await store.write('race', { record: stored().env.record, lease: { seq: 7, delivery: 2 } }, stored().revision);
  await t.rejects(lease.working(), { code: 'QUEUE_ERR_LEASE_LOST' });
});

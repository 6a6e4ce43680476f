// conclude() on jetstream: endAttempt + finish as one fenced KV write, then the ack. A call concluded
// without the ack (its callback still due) keeps its message; a worker gone after the write leaves a
// final record whose message comes back after ack_wait and is settled without being run again.

import t from 'tap';
import { createQueue, LeaseLostError } from '../../router/queue/index.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { call } from './jetstream-workers.js';

const ok = { status: 'succeeded' as const, result: { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('out') } };

t.test('conclude on jetstream', { timeout: 60_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const ackWaitMs = 1_000;

  await t.test('one write for the attempt and the result, then the ack; the record reads as after the three calls', async (t) => {
    const queue = await createQueue(node.url, { ackWaitMs, jetstream: { name: 'once' } });
    t.teardown(() => queue.close());
    await queue.enqueue(call('c1'));
    await queue.enqueue({ ...call('c2'), callbackUrl: 'http://127.0.0.1:9/cb' });
    for (const id of ['c1', 'c2']) {
      const lease = await queue.next({ timeoutMs: 2_000 });
      t.equal(lease?.request.id, id);
      t.ok(lease?.conclude, 'the jetstream lease offers conclude');
      await lease!.beginAttempt();
      const acked = lease!.record.callbackUrl === null;
      const record = await lease!.conclude!({ statusCode: 200 }, ok, acked);
      t.match(record, { status: 'succeeded', attempts: [{ number: 1, statusCode: 200 }] }, `${id}: final, its attempt closed`);
      t.not(record.attempts[0]!.finishedAt, null);
      if (!acked) {
        t.equal(record.callback.state, 'pending', 'a callback is still due: the message stays leased');
        await lease!.callbackAttempt({ state: 'delivered', statusCode: 200 });
        await lease!.ack();
      }
    }
    t.equal(Buffer.from((await queue.get('c1'))?.result?.body ?? []).toString(), 'out', 'the result body is stored');
    t.match(await queue.get('c2'), { status: 'succeeded', callback: { state: 'delivered' } });
    t.equal(await queue.next({ timeoutMs: 300 }), null, 'both calls left the queue');
  });

  await t.test('a worker gone after the write and before the ack: the call is settled, not run again', async (t) => {
    const queue = await createQueue(node.url, { ackWaitMs, jetstream: { name: 'gone' } });
    t.teardown(() => queue.close());
    await queue.enqueue(call('g1'));
    const lease = await queue.next({ timeoutMs: 2_000 });
    await lease!.beginAttempt();
    await lease!.conclude!({ statusCode: 200 }, ok, false); // the ack never follows
    t.equal(await queue.next({ timeoutMs: ackWaitMs * 4 }), null, 'the message came back after ack_wait and was acked without a lease');
    t.match(await queue.get('g1'), { status: 'succeeded', attempts: [{ number: 1 }] }, 'it ran once');
  });

  await t.test('a lease that lapsed cannot conclude: the newer delivery owns the call', async (t) => {
    const queue = await createQueue(node.url, { ackWaitMs, jetstream: { name: 'lapsed' } });
    t.teardown(() => queue.close());
    await queue.enqueue(call('l1'));
    const stale = await queue.next({ timeoutMs: 2_000 });
    await stale!.beginAttempt();
    const fresh = await queue.next({ timeoutMs: ackWaitMs * 4 }); // after ack_wait: delivered again
    t.equal(fresh?.deliveryCount, 2);
    await fresh!.beginAttempt();
    await t.rejects(stale!.conclude!({ statusCode: 200 }, ok, true), LeaseLostError, 'the lapsed lease writes nothing');
    const record = await fresh!.conclude!({ statusCode: 200 }, ok, true);
    t.equal(record.attempts.length, 2, 'the lapsed attempt and the new one');
    t.equal(await queue.next({ timeoutMs: 300 }), null);
  });
});

// An enqueue on jetstream is one publish whose Nats-Msg-Id is the call's id: a client retry after an
// enqueue that failed on the client's side but landed in the stream is the same call (202 duplicate,
// run once), and a repeat of an id after the stream's duplicate window is dropped when a worker leases
// it, leaving the first call's record alone.

import t, { type Test } from 'tap';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { createQueue, type Queue } from '../../router/queue/index.js';
import { callHeaders } from '../../router/queue/jetstream/jetstream-message.js';
import { callSubject, jetStreamNames, recordKey } from '../../router/queue/jetstream/jetstream-names.js';
import { newRecord } from '../../router/queue/record.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { call } from './jetstream-workers.js';

type Publish = (...args: unknown[]) => Promise<boolean>;

async function runToEnd(t: Test, queue: Queue, id: string): Promise<void> {
  const lease = await queue.next({ timeoutMs: 5_000 });
  t.equal(lease?.request.id, id, `a worker gets ${id}`);
  await lease!.beginAttempt();
  await lease!.finish({ status: 'succeeded', result: null });
  await lease!.ack();
  t.match(await queue.get(id), { status: 'succeeded', attempts: [{ number: 1 }] }, `${id} ran once`);
  t.equal(await queue.next({ timeoutMs: 300 }), null, 'nothing else left');
}

t.test('enqueue is one publish', { timeout: 60_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const open = async (name: string): Promise<Queue> => {
    const queue = await createQueue(node.url, { ackWaitMs: 5_000, jetstream: { name } });
    t.teardown(() => queue.close());
    return queue;
  };

  await t.test('a publish that landed but failed for the client: the retry is the same call', async (t) => {
    const queue = await open('once');
    const accept = (queue as unknown as { accept: { publish: Publish } }).accept;
    const real = accept.publish.bind(accept);
    accept.publish = async (...args) => { await real(...args); throw new Error('publish timed out (injected)'); };
    await t.rejects(queue.enqueue(call('landed')), /injected/, 'the first enqueue fails for the client');
    accept.publish = real;
    t.match(await queue.get('landed'), { status: 'queued' }, 'yet the call is stored (its message is its record)');
    t.match(await queue.enqueue(call('landed')), { duplicate: true, record: { id: 'landed', status: 'queued' } }, 'the retry is answered as a duplicate');
    await runToEnd(t, queue, 'landed');
  });

  await t.test('a repeat of an id after the duplicate window is dropped at lease', async (t) => {
    const queue = await open('late');
    t.match(await queue.enqueue(call('twice')), { duplicate: false });
    await runToEnd(t, queue, 'twice');
    // What a repeat after the 2-minute window looks like: the same call on its subject, another Nats-Msg-Id.
    const nc = await connect({ servers: node.url });
    t.teardown(() => nc.close());
    const names = jetStreamNames('late');
    const repeat = newRecord(call('twice'), Date.now());
    await jetstream(nc).publish(callSubject(names, repeat.functionName, recordKey('twice')), Buffer.from('again'), {
      msgID: 'after-the-window', headers: callHeaders(recordKey('twice'), repeat).headers,
    });
    const lease = await queue.next({ timeoutMs: 5_000 });
    t.ok(lease !== null, 'a worker is handed the repeat (nothing was read for a first delivery)');
    await t.rejects(lease!.beginAttempt(), { code: 'QUEUE_ERR_LEASE_LOST' }, 'its first write finds the stored call: the lease is lost');
    t.match(await queue.get('twice'), { status: 'succeeded', attempts: [{ number: 1 }] }, 'the first call\'s record is untouched');
    t.equal(await queue.next({ timeoutMs: 500 }), null, 'the repeat was acked: nothing comes back');
  });
});

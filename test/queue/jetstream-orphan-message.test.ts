// An enqueue that times out during a failover takes its record back, although its publish may have
// landed. The client posts again with the same X-Call-Id: the record is created anew and the publish
// (same Nats-Msg-Id) is de-duplicated into the first message. A worker that saw that message while the
// record was missing must not drop it, or the call that got its 202 would never run.

import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createQueue } from '../../router/queue/index.js';
import { recordKey } from '../../router/queue/jetstream/jetstream-names.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { call } from './jetstream-workers.js';

t.test('a message whose record is missing waits for the client retry instead of being dropped', { timeout: 60_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const queue = await createQueue(node.url, { ackWaitMs: 5_000, jetstream: { name: 'orphan' } });
  t.teardown(() => queue.close());
  await queue.enqueue(call('orphan'));
  // What the rollback of a timed-out enqueue does: delete the record, leave the message.
  const nc = await connect({ servers: node.url });
  t.teardown(() => nc.close());
  const kv = await new Kvm(jetstream(nc)).open('orphan-records');
  await kv.delete(recordKey('orphan'));
  t.equal(await queue.get('orphan'), null, 'the record is gone, the message is still in the stream');

  t.equal(await queue.next({ timeoutMs: 1_000 }), null, 'a worker gets nothing to run while the record is missing');
  t.match(await queue.enqueue(call('orphan')), { duplicate: false }, 'the client retry stores the call again');
  const lease = await queue.next({ timeoutMs: 10_000 });
  t.equal(lease?.request.id, 'orphan', 'the first message runs the call (the retry\'s publish was de-duplicated into it)');
  await lease?.beginAttempt();
  await lease?.finish({ status: 'succeeded', result: null });
  await lease?.ack();
  t.match(await queue.get('orphan'), { status: 'succeeded', attempts: [{ round: 0 }] });
  t.equal(await queue.next({ timeoutMs: 500 }), null, 'nothing else left');
});

// Upgrading over calls accepted by the earlier jetstream layout (record written to KV at the accept, a
// message carrying only the body on `<name>.calls.<function>`, one consumer over every subject): the
// queue replaces that consumer at start-up and those calls are still leased, run and acked.

import t from 'tap';
import { connect, headers } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createQueue } from '../../router/queue/index.js';
import { encodeEnvelope } from '../../router/queue/jetstream/jetstream-envelope.js';
import { escapeToken, recordKey } from '../../router/queue/jetstream/jetstream-names.js';
import { newRecord } from '../../router/queue/record.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { waitFor } from '../helpers/wait.js';
import { call } from './jetstream-workers.js';

t.test('calls accepted in the earlier layout are run after the upgrade', { timeout: 60_000 }, async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const name = 'old';
  // The stream and buckets are the same in both layouts: let the queue create them, then add what the
  // earlier version left behind.
  await (await createQueue(node.url, { ackWaitMs: 2_000, jetstream: { name } })).close();
  const nc = await connect({ servers: node.url });
  t.teardown(() => nc.close());
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(`${name}-calls`, { durable_name: `${name}-workers`, ack_policy: AckPolicy.Explicit, filter_subject: `${name}.calls.>` });
  const kv = await new Kvm(js).open(`${name}-records`);
  for (const id of ['old-1', 'old-2']) {
    const record = newRecord(call(id), Date.now());
    await kv.create(recordKey(id), encodeEnvelope({ record, lease: null }, 1024 * 1024));
    const h = headers();
    h.set('Whippet-Call', recordKey(id));
    h.set('Whippet-Round', '0');
    await js.publish(`${name}.calls.${escapeToken(record.functionName)}`, Buffer.from(`body of ${id}`), { msgID: `${recordKey(id)}:0`, headers: h });
  }

  const queue = await createQueue(node.url, { ackWaitMs: 2_000, jetstream: { name } });
  t.teardown(() => queue.close());
  t.equal(await jsm.consumers.info(`${name}-calls`, `${name}-workers`).then(() => true, () => false), false, 'the earlier consumer is gone');
  t.match(await queue.enqueue(call('new-1')), { duplicate: false }, 'new calls are accepted beside them');
  const seen = new Map<string, string>();
  for (let i = 0; i < 3; i++) {
    const lease = await queue.next({ timeoutMs: 5_000 });
    if (lease === null) break;
    seen.set(lease.request.id, Buffer.from(lease.request.body).toString());
    await lease.beginAttempt();
    await lease.finish({ status: 'succeeded', result: null });
    await lease.ack();
  }
  t.same(Object.fromEntries(seen), { 'old-1': 'body of old-1', 'old-2': 'body of old-2', 'new-1': 'new-1' }, 'every call leased once, with its body');
  for (const id of ['old-1', 'old-2', 'new-1']) t.match(await queue.get(id), { status: 'succeeded' }, `${id} succeeded`);
  t.equal(await queue.next({ timeoutMs: 500 }), null, 'nothing left');
  await waitFor(async () => !(await jsm.consumers.info(`${name}-calls`, `${name}-legacy`).then(() => true, () => false)),
    15_000, 'the consumer of the earlier layout to be removed once empty');
  t.pass('the consumer of the earlier layout is removed once it is empty');
});

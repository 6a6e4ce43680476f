// The queue contract on the jetstream backend, against a real nats-server (JetStream, temp store,
// free port). Each subtest gets its own stream, consumer and buckets (a fresh `name`); calls with the
// same `t` share them, as the suite expects.

import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { createQueue, type QueueOptions } from '../../router/queue/index.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { queueContract } from './contract.js';

if (requireNats(t)) {
  const node = await startNats(t);
  const names = new WeakMap<Test, string>();
  queueContract(t, async (t: Test, options?: QueueOptions) => {
    let name = names.get(t);
    if (name === undefined) { name = `c${randomUUID().slice(0, 8)}`; names.set(t, name); }
    const queue = await createQueue(node.url, { ...options, name });
    t.teardown(() => queue.close());
    return queue;
  }, { ackWaitMs: 1_000, retentionSlackMs: 5_000 });
}

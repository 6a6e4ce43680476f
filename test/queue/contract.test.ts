// The queue contract over every backend in the table (router/queue/backends.ts). Each harness below
// says how a test gets a fresh store of its backend; a backend in the table without one fails here,
// so a new backend cannot be added without passing the suite unmodified.

import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { BACKENDS, createQueue } from '../../router/queue/index.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { queueContract, type ContractOptions, type MakeQueue } from './contract.js';

/** A backend's way into the suite, or null when it cannot run here (the harness says why). */
type Harness = (t: Test) => Promise<{ readonly makeQueue: MakeQueue; readonly options?: ContractOptions } | null>;

const HARNESSES: Readonly<Record<string, Harness>> = {
  /** A real file in a temporary directory; the same `t` → the same file. */
  sqlite: async () => {
    const dirs = new WeakMap<Test, string>();
    return {
      makeQueue: async (t, options) => {
        let dir = dirs.get(t);
        if (dir === undefined) { dir = t.testdir(); dirs.set(t, dir); }
        const queue = await createQueue(`sqlite:${join(dir, 'queue.db')}`, { ...options, sqlite: { pollIntervalMs: 50 } });
        t.teardown(() => queue.close());
        return queue;
      },
    };
  },
  /** A real nats-server (JetStream, temporary store, free port); the same `t` → the same stream and buckets. */
  jetstream: async (t) => {
    if (!requireNats(t)) return null;
    const node = await startNats(t);
    const names = new WeakMap<Test, string>();
    return {
      makeQueue: async (t, options) => {
        let name = names.get(t);
        if (name === undefined) { name = `c${randomUUID().slice(0, 8)}`; names.set(t, name); }
        const queue = await createQueue(node.url, { ...options, jetstream: { name } });
        t.teardown(() => queue.close());
        return queue;
      },
      options: { ackWaitMs: 1_000, retentionSlackMs: 5_000 },
    };
  },
};

for (const backend of BACKENDS) {
  t.test(backend.name, async (t) => {
    const harness = HARNESSES[backend.name];
    if (harness === undefined) {
      t.fail(`the ${backend.name} backend has no harness in test/queue/contract.test.ts`);
      return;
    }
    const ready = await harness(t);
    if (ready !== null) queueContract(t, ready.makeQueue, ready.options);
  });
}

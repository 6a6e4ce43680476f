// The queue contract on the sqlite backend, on a real file in a temporary directory.

import t, { type Test } from 'tap';
import { join } from 'node:path';
import { createQueue, type QueueOptions } from '../../router/queue/index.js';
import { queueContract } from './contract.js';

const dirs = new WeakMap<Test, string>();

queueContract(t, async (t: Test, options?: QueueOptions) => {
  // Same t → same file: the suite reopens and shares stores that way.
  let dir = dirs.get(t);
  if (dir === undefined) { dir = t.testdir(); dirs.set(t, dir); }
  const queue = await createQueue(`sqlite:${join(dir, 'queue.db')}`, { pollIntervalMs: 50, ...options });
  t.teardown(() => queue.close());
  return queue;
});

// The queue's part of a worker's turn as the benchmarks drive it (bench/queue-load.ts): every call is leased
// with its attempt begun, concluded with the result and the ack in one write where the backend offers it, the
// steps one by one where it does not; the drain ends with the last ack and reports the CPU it took.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { drainLikeWorker } from '../../bench/queue-load.js';
import { createQueue, type Lease, type NextOptions, type Queue } from '../../router/queue/index.js';

t.test('on sqlite: every call succeeds with one attempt and leaves the queue', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'whippet-queue-load-'));
  const queue = await createQueue(`sqlite:${join(dir, 'q.db')}`);
  t.teardown(async () => { await queue.close(); rmSync(dir, { recursive: true, force: true }); });
  const ids = Array.from({ length: 120 }, (_, i) => `call-${i}`);
  for (const id of ids) {
    await queue.enqueue({ id, functionName: 'fast', method: 'POST', path: '', query: '', headers: { 'x-a': 'b' }, body: Buffer.from('ping'), callbackUrl: null });
  }
  const { ms, cpuUs } = await drainLikeWorker(queue, ids.length, 8, 1_000);
  t.ok(ms > 0 && cpuUs > 0, 'time and CPU per call reported');
  for (const id of ids) {
    const record = await queue.get(id);
    t.equal(record?.status, 'succeeded', `${id} succeeded`);
    t.equal(record?.attempts.length, 1, `${id}: one attempt`);
    t.equal(record?.attempts[0]?.statusCode, 200);
  }
  t.same((await queue.depth()).filter((d) => d.status === 'queued' || d.status === 'running'), [], 'nothing left queued or running');
  t.equal(await queue.next({ timeoutMs: 50 }), null, 'nothing left to lease');
});

t.test('a backend without conclude gets the steps one by one, and the leases are asked with the attempt begun', async (t) => {
  const steps: string[] = [];
  const asked: NextOptions[] = [];
  let left = 5;
  const lease = (): Lease => ({
    beginAttempt: async () => { steps.push('begin'); return {} as never; },
    endAttempt: async () => { steps.push('end'); },
    finish: async () => { steps.push('finish'); return {} as never; },
    ack: async () => { steps.push('ack'); },
  }) as unknown as Lease;
  const queue = {
    next: async (options: NextOptions) => {
      asked.push(options);
      return left-- > 0 ? lease() : null;
    },
  } as unknown as Queue;
  const { cpuUs } = await drainLikeWorker(queue, 5, 1, 10);
  t.ok(cpuUs > 0);
  t.same(steps, Array.from({ length: 5 }, () => ['begin', 'end', 'finish', 'ack']).flat());
  t.ok(asked.every((o) => o.beginAttempt === true && o.busy !== undefined), 'asked as the worker asks');
});

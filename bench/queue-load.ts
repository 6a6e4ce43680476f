// What the queue benchmarks (sqlite, jetstream) drive a Queue with: concurrent producers and a worker's
// lease → attempt → finish → ack loop, timed.

import { setMaxListeners } from 'node:events';
import type { NewCall, Queue } from '../router/queue/queue.js';

export const BODY = Buffer.alloc(512, 120); // a typical small JSON payload

export function benchCall(tag: string, i: number): NewCall {
  return {
    id: `bench-${tag}-${i}`, functionName: 'echo', method: 'POST', path: '', query: '',
    headers: { 'content-type': 'application/json' }, body: BODY, callbackUrl: null,
  };
}

/** Runs job(0 … total-1) on `n` concurrent loops; returns the milliseconds it took. */
export async function concurrently(total: number, n: number, job: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, async () => { while (next < total) await job(next++); }));
  return performance.now() - start;
}

/** `total` enqueues from `producers` concurrent producers; each resolves once durable. Milliseconds. */
export function enqueueAll(q: Queue, total: number, producers: number, tag: string): Promise<number> {
  return concurrently(total, producers, (i) => q.enqueue(benchCall(tag, i)));
}

/**
 * `slots` concurrent worker loops lease, attempt, finish and ack until `total` calls are done; the
 * milliseconds until the last one was acked. The loops still waiting in next() for calls that will not come
 * are aborted then. (Until 5 Dec 2026 the time ran to the end of every loop, so each run also counted the
 * last waits, up to `leaseTimeoutMs`, as draining: the queue API rows read up to 2 s too long.)
 */
export async function drainAll(q: Queue, total: number, slots: number, leaseTimeoutMs: number): Promise<number> {
  let done = 0;
  let finishedAt = 0;
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // every waiting next() listens on it
  const start = performance.now();
  await concurrently(slots, slots, async () => {
    while (done < total) {
      const lease = await q.next({ timeoutMs: leaseTimeoutMs, signal: stop.signal });
      if (lease === null) continue;
      await lease.beginAttempt();
      await lease.endAttempt({ statusCode: 200 });
      await lease.finish({ status: 'succeeded', result: { statusCode: 200, headers: {}, body: BODY } });
      await lease.ack();
      if (++done === total) { finishedAt = performance.now(); stop.abort(); }
    }
  });
  return finishedAt - start;
}

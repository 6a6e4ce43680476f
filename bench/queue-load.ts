// What the queue benchmarks (sqlite, jetstream, and the async section's queue alone) drive a Queue with:
// concurrent producers, the lease → attempt → finish → ack loop step by step, and the queue's part of
// `whippet worker`'s turn (drainLikeWorker), timed.

import { setMaxListeners } from 'node:events';
import type { Lease, NewCall, NextOptions, Queue } from '../router/queue/queue.js';

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
  const { ms } = await drainWith(q, total, slots, leaseTimeoutMs, {}, async (lease) => {
    await lease.beginAttempt();
    await lease.endAttempt({ statusCode: 200 });
    await lease.finish({ status: 'succeeded', result: { statusCode: 200, headers: {}, body: BODY } });
    await lease.ack();
  });
  return ms;
}

// What the function answered in drainLikeWorker: a call id, as the benchmark's function does.
const ANSWER = { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('5d546458-30e4-4f4e-8a69-d101d0b068cd') };

/**
 * The queue's part of `whippet worker`'s turn, without the call to the function: each of `slots` loops leases
 * a call with its attempt begun in the same write (NextOptions.beginAttempt, as the worker asks), confirms
 * the attempt, and ends it with the result and the ack in one write (Lease.conclude, as the worker does for a
 * call without a callback; the steps one by one on a backend without it). The milliseconds until the last
 * call was acked, and this process's CPU per call in µs (every thread: the queue's own included).
 */
export async function drainLikeWorker(q: Queue, total: number, slots: number, leaseTimeoutMs: number): Promise<{ ms: number; cpuUs: number }> {
  const ok = { statusCode: 200, error: null };
  const final = { status: 'succeeded' as const, result: ANSWER, error: null };
  return drainWith(q, total, slots, leaseTimeoutMs, { beginAttempt: true, busy: new Set<string>() }, async (lease) => {
    await lease.beginAttempt();
    if (lease.conclude !== undefined) { await lease.conclude(ok, final, true); return; }
    await lease.endAttempt(ok);
    await lease.finish(final);
    await lease.ack();
  });
}

/** `slots` loops lease (with `options`) and `work` each lease until `total` are done; the time and the CPU per call. */
async function drainWith(q: Queue, total: number, slots: number, leaseTimeoutMs: number, options: NextOptions, work: (lease: Lease) => Promise<void>): Promise<{ ms: number; cpuUs: number }> {
  let done = 0;
  let finishedAt = 0;
  let cpuUs = 0;
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // every waiting next() listens on it
  const cpu = process.cpuUsage();
  const start = performance.now();
  await concurrently(slots, slots, async () => {
    while (done < total) {
      const lease = await q.next({ ...options, timeoutMs: leaseTimeoutMs, signal: stop.signal });
      if (lease === null) continue;
      await work(lease);
      if (++done === total) {
        finishedAt = performance.now();
        const used = process.cpuUsage(cpu);
        cpuUs = (used.user + used.system) / total;
        stop.abort();
      }
    }
  });
  return { ms: finishedAt - start, cpuUs };
}

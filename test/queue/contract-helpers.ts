// Shared pieces of the queue contract suite: leasing, a settle-everything worker step, timing.

import type { Test } from 'tap';
import type { Lease, Queue, QueueOptions } from '../../router/queue/index.js';

/**
 * Opens a queue for a test. Calls with the same `t` must reach the same store (file, stream, bucket):
 * the suite opens a second instance to test reopening and sharing. Another `t` gets a fresh store.
 * The factory closes what it opens in t.teardown (close is idempotent).
 */
export type MakeQueue = (t: Test, options?: QueueOptions) => Promise<Queue>;

/** Per-backend knobs of the suite. */
export interface ContractOptions {
  /** Lease length the timing tests use; short, but long enough for a busy machine. Default 600 ms. */
  readonly ackWaitMs?: number;
  /** How long retention may take to remove a record after it is due (native TTLs are coarse). Default 5 s. */
  readonly retentionSlackMs?: number;
  /** Names of tests to skip, with the reason in the backend's test file. */
  readonly skip?: readonly string[];
}

/** Lease the next call or fail the test after `ms`. */
export async function mustLease(t: Test, queue: Queue, ms = 5000): Promise<Lease> {
  const lease = await queue.next({ timeoutMs: ms });
  if (lease === null) throw new Error(`expected a call to lease within ${ms} ms, got none`);
  t.ok(lease, 'leased a call');
  return lease;
}

/** Run a lease the way the worker does on success: one attempt answering 200, finish, ack. */
export async function settle(lease: Lease, status: 'succeeded' | 'failed' = 'succeeded', code = 200): Promise<void> {
  await lease.beginAttempt();
  await lease.endAttempt({ statusCode: code });
  await lease.finish({ status, result: { statusCode: code, headers: { 'content-type': 'text/plain' }, body: Buffer.from('out') } });
  await lease.ack();
}

/** Milliseconds since `start`. */
export function since(start: number): number {
  return Date.now() - start;
}

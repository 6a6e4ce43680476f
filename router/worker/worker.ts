// The queue-worker loop: lease calls while fewer than max_inflight run (and the function is under its
// own limit), work each one (run-call.ts), and stop gracefully: no new leases, in-flight calls get
// until the deadline, and whatever is still running then is abandoned so its lease lapses and another
// worker picks it up after ack_wait. Nothing accepted is lost by stopping.

import type { Queue } from '../queue/index.js';
import { runCall, type CallDeps } from './run-call.js';

export interface WorkerOptions extends CallDeps {
  readonly queue: Queue;
  readonly maxInflight: number;
  /** Optional per-function concurrency (e.g. from a stack file); undefined = only max_inflight. */
  readonly functionLimit?: (functionName: string) => number | undefined;
}

export interface Worker {
  /** Calls being worked right now. */
  inflight(): number;
  /** Stop leasing; wait up to graceMs for in-flight calls, then abandon them (their leases lapse). */
  stop(graceMs: number): Promise<void>;
}

// A call leased for a function at its own limit goes back for this long; short, so the function's
// next free slot is used soon, long enough not to spin on the queue.
const FUNCTION_BUSY_DELAY_MS = 200;
// After a queue failure (locked file, NATS away) the loop waits this long before leasing again.
const QUEUE_ERROR_PAUSE_MS = 500;

/** Start the worker loop at once. */
export function startWorker(o: WorkerOptions): Worker {
  const running = new Set<Promise<void>>();
  const perFunction = new Map<string, number>();
  const leasing = new AbortController();
  const abandon = new AbortController();
  let slotFreed: (() => void) | undefined;
  const ctl = { signal: abandon.signal, abandoned: () => abandon.signal.aborted };

  const waitForSlot = (): Promise<void> => running.size < o.maxInflight
    ? Promise.resolve()
    : new Promise<void>((resolve) => { slotFreed = resolve; });

  const loop = async (): Promise<void> => {
    while (!leasing.signal.aborted) {
      await waitForSlot();
      if (leasing.signal.aborted) break;
      let lease;
      try {
        lease = await o.queue.next({ signal: leasing.signal });
      } catch (err) {
        o.log.warn('could not lease a call', { reason: (err as Error).message });
        await pause(QUEUE_ERROR_PAUSE_MS, leasing.signal);
        continue;
      }
      if (lease === null) {
        // null without our abort means the queue closed under us: nothing more to do.
        if (!leasing.signal.aborted) o.log.warn('queue closed; worker stops leasing');
        break;
      }
      const name = lease.request.functionName;
      const limit = o.functionLimit?.(name);
      const busy = perFunction.get(name) ?? 0;
      if (limit !== undefined && limit > 0 && busy >= limit) {
        lease.nak(FUNCTION_BUSY_DELAY_MS).catch(() => { /* it lapses instead */ });
        continue;
      }
      perFunction.set(name, busy + 1);
      const p = runCall(lease, o, ctl).finally(() => {
        running.delete(p);
        const left = (perFunction.get(name) ?? 1) - 1;
        if (left === 0) perFunction.delete(name); else perFunction.set(name, left);
        const wake = slotFreed;
        slotFreed = undefined;
        wake?.();
      });
      running.add(p);
    }
  };
  const looping = loop();

  return {
    inflight: () => running.size,
    async stop(graceMs) {
      leasing.abort();
      slotFreed?.();
      await looping;
      if (running.size === 0) return;
      o.log.info('worker draining', { inflight: running.size, graceMs });
      const drained = Promise.allSettled([...running]).then(() => true);
      const timers = new AbortController();
      try {
        if (await Promise.race([drained, pause(graceMs, timers.signal).then(() => false)])) return;
        o.log.warn('worker stopped with calls unfinished; their leases lapse and they run again elsewhere', { inflight: running.size });
        abandon.abort();
        // Abandoned calls return at their next step; don't wait for a slow function to notice.
        await Promise.race([drained, pause(1_000, timers.signal)]);
      } finally {
        timers.abort();
      }
    },
  };
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); }
    signal?.addEventListener('abort', done, { once: true });
  });
}

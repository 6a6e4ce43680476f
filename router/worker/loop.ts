// The queue-worker loop: lease calls while fewer than max_inflight run (and the function is under its
// own limit), work each one (run-call.ts), and stop gracefully: no new leases, in-flight calls get
// until the deadline, and whatever is still running then is abandoned so its lease lapses and another
// worker picks it up after ack_wait. Nothing accepted is lost by stopping.

import type { Lease, Queue } from '../queue/index.js';
import type { WorkerConfig } from './options.js';
import { runCall, type CallControl, type CallDeps } from './run-call.js';

export interface LoopDeps extends Omit<CallDeps, 'config'> {
  readonly queue: Queue;
  /** Optional per-function concurrency (e.g. from a stack file); undefined = only max_inflight. */
  readonly functionLimit?: ((functionName: string) => number | undefined) | undefined;
}

// A call leased for a function at its own limit goes back for this long; short, so the function's
// next free slot is used soon, long enough not to spin on the queue.
const FUNCTION_BUSY_DELAY_MS = 200;
// After a queue failure (locked file, NATS away) the loop waits this long before leasing again.
const QUEUE_ERROR_PAUSE_MS = 500;
// Abandoned calls return at their next step; a slow function is not waited for longer than this.
const ABANDON_WAIT_MS = 1_000;

/** Counts calls per function, for the stack file's per-function limits. */
class FunctionSlots {
  private readonly busy = new Map<string, number>();

  constructor(private readonly limit: LoopDeps['functionLimit']) {}

  /** Take a slot for the function; false when it is at its limit. */
  take(name: string): boolean {
    const limit = this.limit?.(name);
    const busy = this.busy.get(name) ?? 0;
    if (limit !== undefined && limit > 0 && busy >= limit) return false;
    this.busy.set(name, busy + 1);
    return true;
  }

  release(name: string): void {
    const left = (this.busy.get(name) ?? 1) - 1;
    if (left === 0) this.busy.delete(name); else this.busy.set(name, left);
  }
}

/** The loop starts leasing as soon as it is constructed. */
export class WorkerLoop {
  private readonly running = new Set<Promise<void>>();
  private readonly slots: FunctionSlots;
  private readonly leasing = new AbortController();
  private readonly abandon = new AbortController();
  private readonly control: CallControl;
  private readonly callDeps: CallDeps;
  private slotFreed: (() => void) | undefined;
  private readonly looping: Promise<void>;

  constructor(private readonly config: Pick<WorkerConfig, 'maxInflight'> & CallDeps['config'], private readonly deps: LoopDeps) {
    this.slots = new FunctionSlots(deps.functionLimit);
    this.control = { signal: this.abandon.signal, abandoned: () => this.abandon.signal.aborted };
    this.callDeps = { ...deps, config };
    this.looping = this.loop();
  }

  /** Calls being worked right now. */
  inflight(): number {
    return this.running.size;
  }

  /** Stop leasing; wait up to graceMs for in-flight calls, then abandon them (their leases lapse). */
  async stop(graceMs: number): Promise<void> {
    this.leasing.abort();
    this.slotFreed?.();
    await this.looping;
    if (this.running.size === 0) return;
    this.deps.log.info('worker draining', { inflight: this.running.size, graceMs });
    const drained = Promise.allSettled([...this.running]).then(() => true);
    const timers = new AbortController();
    try {
      if (await Promise.race([drained, pause(graceMs, timers.signal).then(() => false)])) return;
      this.deps.log.warn('worker stopped with calls unfinished; their leases lapse and they run again elsewhere', { inflight: this.running.size });
      this.abandon.abort();
      await Promise.race([drained, pause(ABANDON_WAIT_MS, timers.signal)]);
    } finally {
      timers.abort();
    }
  }

  private async loop(): Promise<void> {
    const { signal } = this.leasing;
    while (!signal.aborted) {
      await this.waitForSlot();
      if (signal.aborted) break;
      let lease: Lease | null;
      try {
        lease = await this.deps.queue.next({ signal });
      } catch (err) {
        this.deps.log.warn('could not lease a call', { reason: (err as Error).message });
        await pause(QUEUE_ERROR_PAUSE_MS, signal);
        continue;
      }
      if (lease === null) {
        // null without our abort means the queue closed under us: nothing more to do.
        if (!signal.aborted) this.deps.log.warn('queue closed; worker stops leasing');
        break;
      }
      this.work(lease);
    }
  }

  private waitForSlot(): Promise<void> {
    return this.running.size < this.config.maxInflight
      ? Promise.resolve()
      : new Promise<void>((resolve) => { this.slotFreed = resolve; });
  }

  private work(lease: Lease): void {
    const name = lease.request.functionName;
    if (!this.slots.take(name)) {
      lease.nak(FUNCTION_BUSY_DELAY_MS).catch(() => { /* it lapses instead */ });
      return;
    }
    const call = runCall(lease, this.callDeps, this.control).finally(() => {
      this.running.delete(call);
      this.slots.release(name);
      const wake = this.slotFreed;
      this.slotFreed = undefined;
      wake?.();
    });
    this.running.add(call);
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); }
    signal?.addEventListener('abort', done, { once: true });
  });
}

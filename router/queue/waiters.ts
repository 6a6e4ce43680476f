// Waiting for work without hot-polling: next() callers wait in FIFO order; one pump hands out leases
// when woken (an enqueue or nak in this process), at the earliest known due time (a nak delay or a
// lease deadline), or at the poll interval (work written by other processes sharing the file).
// One pump serves every waiter it can inside one `batch` (sqlite: one transaction, one commit), so a
// worker with many next() calls pending gets many leases for the cost of one commit.

import { onAbort, type AnySignal } from '../../common/call-abort.js';

interface Waiter<L> {
  /** Function names this waiter cannot take now (NextOptions.busy); read at every attempt. */
  readonly busy: ReadonlySet<string> | undefined;
  readonly settle: (lease: L | null, err?: unknown) => void;
}

/** The source of work the pump drains. */
export interface WorkSource<L> {
  /** Lease one visible call of a function not in `busy`, or null when none is visible now. */
  tryLease(busy?: ReadonlySet<string>): L | null;
  /** Milliseconds until the next call of a function not in `busy` becomes visible, if known; null when nothing is scheduled. */
  msUntilDue(busy?: ReadonlySet<string>): number | null;
  /** Run several tryLease calls as one unit (one transaction); all or nothing. Default: just run them. */
  batch?<T>(fn: () => T): T;
}

const NONE: ReadonlySet<string> = new Set();

function isSubset(small: ReadonlySet<string>, big: ReadonlySet<string>): boolean {
  if (small.size > big.size) return false;
  for (const name of small) if (!big.has(name)) return false;
  return true;
}

/** FIFO of next() callers fed by one pump. */
export class Waiters<L> {
  private readonly queue: Waiter<L>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private scheduled: NodeJS.Immediate | null = null;
  private closed = false;

  constructor(private readonly source: WorkSource<L>, private readonly pollIntervalMs: number) {}

  /** Resolve with a lease, or null on abort, timeout or close. */
  wait(signal?: AnySignal, timeoutMs?: number, busy?: ReadonlySet<string>): Promise<L | null> {
    if (this.closed || signal?.aborted === true) return Promise.resolve(null);
    return new Promise<L | null>((resolve, reject) => {
      let deadline: NodeJS.Timeout | undefined;
      let stopListening = (): void => {};
      const waiter: Waiter<L> = {
        busy,
        settle: (lease, err) => {
          const at = this.queue.indexOf(waiter);
          if (at < 0) return; // settle once
          this.queue.splice(at, 1);
          clearTimeout(deadline);
          stopListening();
          if (err !== undefined) reject(err); else resolve(lease);
          if (this.queue.length === 0) this.stopTimer();
        },
      };
      this.queue.push(waiter);
      stopListening = onAbort(signal, () => waiter.settle(null));
      if (timeoutMs !== undefined) deadline = setTimeout(() => waiter.settle(null), timeoutMs);
      this.wake();
    });
  }

  /** Something may have become visible: pump soon (coalesced into one pump per event-loop turn). */
  wake(): void {
    if (this.scheduled !== null || this.closed || this.queue.length === 0) return;
    this.scheduled = setImmediate(() => { this.scheduled = null; this.pump(); });
  }

  /**
   * Run the pump now if one is scheduled for this turn; false when none is. A backend that commits
   * other writes of the turn can then do both in the pump's batch (sqlite: one transaction).
   */
  pumpIfScheduled(): boolean {
    if (this.scheduled === null || this.closed) return false;
    clearImmediate(this.scheduled);
    this.scheduled = null;
    this.pump();
    return true;
  }

  /** Resolve every waiter with null and stop. */
  close(): void {
    this.closed = true;
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    for (const w of [...this.queue]) w.settle(null);
    this.stopTimer();
  }

  private pump(): void {
    this.stopTimer();
    if (this.closed) return;
    let handed: Array<readonly [Waiter<L>, L]>;
    try {
      handed = this.lease();
    } catch (err) {
      // The batch rolled back: nobody got a lease. The head waiter sees the failure (a locked
      // database) and decides; the others are tried again at the next pump.
      this.queue[0]?.settle(null, err);
      handed = [];
    }
    // Settled only after the batch committed: a lease handed out is durable.
    for (const [waiter, lease] of handed) waiter.settle(lease);
    if (this.queue.length === 0 || this.closed) return;
    const due = this.source.msUntilDue(this.queue[0]!.busy);
    const delay = due === null ? this.pollIntervalMs : Math.min(this.pollIntervalMs, Math.max(1, due));
    this.timer = setTimeout(() => { this.timer = null; this.pump(); }, delay);
  }

  /** One lease per waiter, in FIFO order, while calls are visible to them. */
  private lease(): Array<readonly [Waiter<L>, L]> {
    const run = (): Array<readonly [Waiter<L>, L]> => {
      const out: Array<readonly [Waiter<L>, L]> = [];
      // Sets that found nothing: a waiter whose set holds one of them entirely finds nothing either.
      const empty: Array<ReadonlySet<string>> = [];
      for (const waiter of this.queue) {
        const busy = waiter.busy ?? NONE;
        if (empty.some((set) => isSubset(set, busy))) continue;
        const lease = this.source.tryLease(waiter.busy);
        if (lease !== null) out.push([waiter, lease]);
        else if (busy.size === 0) break; // nothing visible at all
        else empty.push(new Set(busy));
      }
      return out;
    };
    return this.source.batch === undefined ? run() : this.source.batch(run);
  }

  private stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

// Waiting for work without hot-polling: next() callers wait in FIFO order; one pump hands out leases
// when woken (an enqueue or nak in this process), at the earliest known due time (a nak delay or a
// lease deadline), or at the poll interval (work written by other processes sharing the file).

interface Waiter<L> {
  readonly settle: (lease: L | null, err?: unknown) => void;
}

/** The source of work the pump drains. */
export interface WorkSource<L> {
  /** Lease one visible call, or null when none is visible now. */
  tryLease(): L | null;
  /** Milliseconds until the next call becomes visible, if known; null when nothing is scheduled. */
  msUntilDue(): number | null;
}

/** FIFO of next() callers fed by one pump. */
export class Waiters<L> {
  private readonly queue: Waiter<L>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private scheduled: NodeJS.Immediate | null = null;
  private closed = false;

  constructor(private readonly source: WorkSource<L>, private readonly pollIntervalMs: number) {}

  /** Resolve with a lease, or null on abort, timeout or close. */
  wait(signal?: AbortSignal, timeoutMs?: number): Promise<L | null> {
    if (this.closed || signal?.aborted === true) return Promise.resolve(null);
    return new Promise<L | null>((resolve, reject) => {
      let deadline: NodeJS.Timeout | undefined;
      const onAbort = (): void => waiter.settle(null);
      const waiter: Waiter<L> = {
        settle: (lease, err) => {
          const at = this.queue.indexOf(waiter);
          if (at < 0) return; // settle once
          this.queue.splice(at, 1);
          clearTimeout(deadline);
          signal?.removeEventListener('abort', onAbort);
          if (err !== undefined) reject(err); else resolve(lease);
          if (this.queue.length === 0) this.stopTimer();
        },
      };
      this.queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) deadline = setTimeout(() => waiter.settle(null), timeoutMs);
      this.wake();
    });
  }

  /** Something may have become visible: pump soon (coalesced into one pump per event-loop turn). */
  wake(): void {
    if (this.scheduled !== null || this.closed || this.queue.length === 0) return;
    this.scheduled = setImmediate(() => { this.scheduled = null; this.pump(); });
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
    while (this.queue.length > 0 && !this.closed) {
      let lease: L | null;
      try {
        lease = this.source.tryLease();
      } catch (err) {
        this.queue[0]!.settle(null, err); // the worker sees the failure (a locked database) and decides
        continue;
      }
      if (lease === null) break;
      this.queue[0]!.settle(lease);
    }
    if (this.queue.length === 0 || this.closed) return;
    const due = this.source.msUntilDue();
    const delay = due === null ? this.pollIntervalMs : Math.min(this.pollIntervalMs, Math.max(1, due));
    this.timer = setTimeout(() => { this.timer = null; this.pump(); }, delay);
  }

  private stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

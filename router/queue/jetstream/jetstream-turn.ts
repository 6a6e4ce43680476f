// Writes to NATS gathered per event-loop turn. nats.js sends what was published within one microtask
// checkpoint as one socket write, but a worker's KV writes and acks start from separate events (each
// function response is its own socket read), so each became a write syscall of its own: ~15 % of a
// draining worker's CPU. Starting them together at setImmediate (after the turn's I/O callbacks) sends
// them in one write; the delay is the rest of the current turn.

/** Runs the functions given to it within one turn together, at the end of the turn. */
export class TurnBatch {
  private queued: Array<() => void> = [];

  /** Start `fn` at the end of this turn, with whatever else was queued in it; its result. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.send(() => { fn().then(resolve, reject); }));
  }

  /** Call `fn` (a send that needs no answer) at the end of this turn. */
  send(fn: () => void): void {
    if (this.queued.length === 0) setImmediate(this.flush);
    this.queued.push(fn);
  }

  /** Send what is queued now (before the connection closes). */
  readonly flush = (): void => {
    const queued = this.queued;
    this.queued = [];
    for (const fn of queued) {
      try { fn(); } catch { /* a send on a closed connection: the caller's promise says so */ }
    }
  };
}

// Group commit: everything submitted during one turn of the event loop is written in one transaction,
// so N concurrent accepts cost one commit instead of N. Each submitter's promise settles only after
// that transaction committed (sqlite's enqueue then waits for the file's sync, shared by the commits
// made before it started: sqlite-wal-sync.ts), so a 202 is never sent for a call that is not on disk.
//
// A batch may also ride in someone else's transaction: `take()` hands the pending items over, and the
// taker settles them once its transaction committed or rolled back (sqlite.ts: a worker's lease changes
// commit inside the lease pump's transaction when both are due in one turn).

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (out: O) => void;
  readonly reject: (err: unknown) => void;
}

/** Items taken out to be committed inside another transaction; settle exactly once after it. */
export interface TakenBatch<I, O> {
  readonly items: readonly I[];
  /** The transaction committed: one output per item, in order. */
  resolve(outs: readonly O[]): void;
  /** The transaction rolled back: nobody in it may be told "written". */
  reject(err: unknown): void;
}

/** Batches submissions made before the next setImmediate and commits them with `commit`. */
export class GroupCommit<I, O> {
  private pending: Pending<I, O>[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  /**
   * `commit` writes all items in one transaction and returns one output per item, in order; `due` runs
   * at the setImmediate after the first submit (default: flush), and may hand the batch to `take()`.
   */
  constructor(private readonly commit: (items: readonly I[]) => readonly O[], private readonly due: () => void = () => this.flush()) {}

  /** Queue an item; resolves with its output once its batch committed. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.scheduled === null) {
        this.idle = new Promise<void>((done) => { this.markIdle = done; });
        this.scheduled = setImmediate(() => { this.scheduled = null; this.due(); });
      }
    });
  }

  /** Resolves when nothing is waiting to be committed (used by close). */
  drained(): Promise<void> {
    return this.idle;
  }

  /** Everything pending now, for the caller's transaction; undefined when nothing is. */
  take(): TakenBatch<I, O> | undefined {
    this.unschedule();
    const markIdle = this.markIdle;
    if (this.pending.length === 0) { markIdle(); return undefined; }
    const batch = this.pending;
    this.pending = [];
    return {
      items: batch.map((p) => p.item),
      resolve: (outs) => { batch.forEach((p, i) => p.resolve(outs[i] as O)); markIdle(); },
      reject: (err) => { for (const p of batch) p.reject(err); markIdle(); },
    };
  }

  /** Commit whatever is pending now, in a transaction of its own (or nothing: a pump took it). */
  flush(): void {
    const taken = this.take();
    if (taken === undefined) return;
    let outs: readonly O[];
    try {
      outs = this.commit(taken.items);
    } catch (err) {
      // The whole transaction rolled back: nobody in it may be told "accepted".
      taken.reject(err);
      return;
    }
    taken.resolve(outs);
  }

  private unschedule(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
  }
}

// Lease changes waiting for their transaction. They are committed together at the next setImmediate,
// inside the lease pump's transaction when a pump is due in the same turn (sqlite.ts leaseBatch): under load
// a worker's attempt, result and ack writes and its next leases then share one BEGIN … COMMIT per
// event-loop turn instead of two. Each submitter's promise settles only after its transaction committed.

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (out: O) => void;
  readonly reject: (err: unknown) => void;
}

/** Changes taken out to be committed inside someone else's transaction; settle exactly once after it. */
export interface TakenChanges<I, O> {
  readonly items: readonly I[];
  /** The transaction committed: one output per item, in order. */
  resolve(outs: readonly O[]): void;
  /** The transaction rolled back: nobody in it may be told "written". */
  reject(err: unknown): void;
}

/** A group commit whose pending batch another transaction may take over. */
export class ChangeBatch<I, O> {
  private pending: Pending<I, O>[] = [];
  private scheduled: NodeJS.Immediate | null = null;

  /**
   * `commit` writes all items in one transaction and returns one output per item, in order; `due` runs
   * at the setImmediate after the first submit (default: flush), and may hand the batch to `take()`.
   */
  constructor(private readonly commit: (items: readonly I[]) => readonly O[], private readonly due: () => void = () => this.flush()) {}

  /** Queue an item; resolves with its output once its batch committed. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.scheduled ??= setImmediate(() => { this.scheduled = null; this.due(); });
    });
  }

  /** Everything pending now, for the caller's transaction; undefined when nothing is. */
  take(): TakenChanges<I, O> | undefined {
    if (this.pending.length === 0) return undefined;
    const batch = this.pending;
    this.pending = [];
    this.unschedule();
    return {
      items: batch.map((p) => p.item),
      resolve: (outs) => batch.forEach((p, i) => p.resolve(outs[i] as O)),
      reject: (err) => { for (const p of batch) p.reject(err); },
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

// Group commit: everything submitted during one turn of the event loop is written in one transaction,
// so N concurrent accepts cost one fsync instead of N. Each submitter's promise settles only after
// that transaction committed: a 202 is never sent for a call that is not on disk.

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (out: O) => void;
  readonly reject: (err: unknown) => void;
}

/** Batches submissions made before the next setImmediate and commits them with `commit`. */
export class GroupCommit<I, O> {
  private pending: Pending<I, O>[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  /** `commit` writes all items in one transaction and returns one output per item, in order. */
  constructor(private readonly commit: (items: readonly I[]) => readonly O[]) {}

  /** Queue an item; resolves with its output once its batch committed. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.scheduled === null) {
        this.idle = new Promise<void>((done) => { this.markIdle = done; });
        this.scheduled = setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves when nothing is waiting to be committed (used by close). */
  drained(): Promise<void> {
    return this.idle;
  }

  /** Commit whatever is pending now. */
  flush(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    const batch = this.pending;
    this.pending = [];
    try {
      const outs = batch.length === 0 ? [] : this.commit(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(outs[i] as O));
    } catch (err) {
      // The whole transaction rolled back: nobody in it may be told "accepted".
      for (const p of batch) p.reject(err);
    } finally {
      this.markIdle();
    }
  }
}

// The embedded backend: one sqlite file in WAL mode, shared by the router and any worker processes on
// the machine. Accepts are group-committed (one transaction per event-loop turn, the file synced off the
// event loop before they resolve); leases are
// taken with one atomic UPDATE … WHERE seq = (first visible row) … RETURNING, so two processes never
// lease the same call. Leases and lease changes are group-committed too: every next() served in one pump
// shares one transaction, and every lease change (attempt, result, ack, nak, heartbeat) submitted in one
// event-loop turn is written in one transaction; each caller's promise settles after that commit.
// Inside a change batch every row is still fenced by its own lease token: a change refused (lost lease,
// cancelled call) is refused alone and the rest of the batch commits.
//
// Durability: every transaction commits with synchronous=NORMAL (it survives kill -9), and an enqueue
// resolves only after the WAL file holding its batch was fdatasync'd on libuv's thread pool
// (sqlite-wal-sync.ts), so an accepted call survives kill -9 AND power loss without the router's thread
// waiting for the disk; a sync also covers every earlier commit. Leases and acks are not synced: power
// loss may undo the last of them, which at-least-once delivery turns into a redelivery, never a loss.
// Option synchronous='normal' skips the accepts' sync too (crash-safe only, faster on slow disks). A
// failed sync refuses every later accept and makes health() fail until a restart (`syncFailed`).
//
// A lock held by another process never blocks this thread (busy.ts): accepts and reads retry for up to
// a second and then fail with QueueBusyError (503 + Retry-After); a lease's writes retry for as long as
// the lease lasts (ack_wait); a lease attempt that meets the lock finds "nothing now" and looks again
// shortly; the sweeper and the watch poller skip a round.
//
// depth() counts on a read-only connection of its own, in slices that give the event loop a turn
// (sqlite-depth.ts): final records kept for call_retention made one GROUP BY per scrape a pause.
//
// Checkpoints (copying the WAL into the file, with two fsyncs) run on a thread of their own once the
// connection has committed a few hundred transactions (sqlite-checkpoint.ts), not inside a commit.

import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { CallNotFoundError, CallStateError, LeaseLostError, QueueBusyError, QueueClosedError, QueueUnavailableError } from '../errors.js';
import { GroupCommit, type TakenBatch } from '../group-commit.js';
import {
  listLimit, resolveQueueOptions,
  type CallChange, type DepthEntry, type EnqueueResult, type Lease, type ListFilter, type NextOptions, type Queue,
  type QueueHealth, type QueueOptions, type ResolvedQueueOptions,
} from '../queue.js';
import { isFinal, newRecord, type CallRecord, type NewCall } from '../record.js';
import { BusyBackoff, CLIENT_BUDGET_MS, retryWhileBusy } from './busy.js';
import { guarded } from './sqlite-errors.js';
import { SqliteCheckpointer } from './sqlite-checkpoint.js';
import { SqliteFile } from './sqlite-file.js';
import { SqliteList } from './sqlite-list.js';
import { CONCLUDE, RETRY_LATER, SqliteLease, type LeaseStore, type RowChange } from './sqlite-lease.js';
import { prepareStatements, type Statements } from './sqlite-statements.js';
import { decodeRecord, encodeRecord, openDb, resultBody, type CallRow, type Db } from './sqlite-store.js';
import * as step from '../transitions.js';
import { Waiters } from '../waiters.js';
import { SqliteWatch } from './sqlite-watch.js';
import { SqliteDepth } from './sqlite-depth.js';
import { WalSync } from './sqlite-wal-sync.js';
import type { SqliteLocation, SqliteOptions } from './backend.js';

/** How long a sync of the file may wait for the disk before health() says the queue is down. */
const SYNC_STALLED_MS = 10_000;

/** One lease change waiting for its batch. */
interface Mutation {
  readonly seq: number;
  readonly token: string;
  readonly op: string;
  readonly change: (r: CallRecord) => CallRecord;
  readonly message: RowChange;
}

/** What a lease change came to: the record as written, or why it was refused (nothing written). */
type MutationOutcome = { readonly record: CallRecord } | { readonly refused: unknown };

/** The WAL file SQLite uses for `db`: beside the database file it opened (a symlink's target, not the link). */
function walOf(db: Database.Database, path: string): string {
  const main = (db.pragma('database_list') as Array<{ name: string; file: string }>).find((d) => d.name === 'main');
  return `${main?.file || path}-wal`;
}

/** A better-sqlite3 failure (SQLITE_* code): the transaction cannot go on. */
function isDriverError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

/** The shared settings, the URL's location and sqlite's own. */
export type SqliteQueueOptions = QueueOptions & SqliteLocation & SqliteOptions;

/** Open the sqlite queue at options.path. */
export async function createSqliteQueue(options: SqliteQueueOptions): Promise<Queue> {
  return new SqliteQueue(options);
}

class SqliteQueue implements Queue, LeaseStore {
  readonly backend = 'sqlite';
  readonly maxEventAgeMs: number;
  readonly maxResultBytes: number;
  private readonly opts: ResolvedQueueOptions;
  private readonly db: Db;
  private readonly file: SqliteFile;
  private readonly st: Statements;
  /** One transaction wrapper, reused: building one per call costs more than the write itself. */
  private readonly tx: Database.Transaction<(fn: () => unknown) => unknown>;
  private readonly accepts: GroupCommit<NewCall, EnqueueResult>;
  private readonly changes: GroupCommit<Mutation, MutationOutcome>;
  private readonly waiters: Waiters<Lease>;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  private watcher: SqliteWatch | undefined;
  private readonly counter: SqliteDepth;
  private readonly lister: SqliteList;
  private readonly checkpoints: SqliteCheckpointer;
  private readonly leaseBusy = new BusyBackoff();
  /** Makes committed accepts durable off this thread; undefined with synchronous=normal. */
  private readonly walSync: WalSync | undefined;
  private syncing: { readonly sync: Promise<void>; readonly refusal: Promise<void> } | undefined;
  /**
   * Why accepts are refused for good: a sync of the file failed. After an I/O error Linux may drop the pages
   * it could not write and report the error only once, so a later sync that succeeds proves nothing about
   * them; only a restart (SQLite reading the file again) tells what is on disk.
   */
  private syncFailed: string | undefined;
  /**
   * The record each lease of this process last wrote (or leased), by seq, with its token. While the
   * row still carries that token nobody else has written it (every other writer, a lease, cancel,
   * redrive, replaces or clears the token, and the sweeper only removes rows without one), so a change
   * starts from this record and is written with an UPDATE fenced on the token: no read, no JSON.parse.
   * When the fenced UPDATE changes nothing, the entry is dropped and the change takes the reading path.
   */
  private readonly held = new Map<number, { readonly token: string; readonly record: CallRecord }>();
  /** The busy sets of next() calls that asked for NextOptions.beginAttempt. */
  private readonly beginOnLease = new WeakSet<ReadonlySet<string>>();

  constructor(private readonly options: SqliteQueueOptions) {
    this.opts = resolveQueueOptions(options);
    this.maxEventAgeMs = this.opts.maxEventAgeMs;
    this.maxResultBytes = this.opts.maxResultBytes;
    this.db = guarded(() => openDb(options.path));
    this.file = new SqliteFile(options.path);
    this.counter = new SqliteDepth(options.path);
    this.checkpoints = new SqliteCheckpointer(this.db, options.path, {
      onFallBack: (reason) => this.opts.log.warn('sqlite checkpoints are back on the serving connection', { path: options.path, reason }),
    });
    this.st = prepareStatements(this.db);
    this.walSync = options.synchronous === 'normal' ? undefined : new WalSync(walOf(this.db, options.path), options.syncFile);
    this.lister = new SqliteList(this.db);
    this.tx = this.db.transaction((fn: () => unknown) => fn());
    this.accepts = new GroupCommit((calls) => this.commitAccepts(calls));
    // A pump due in the same turn takes the changes into its transaction (leaseBatch); what it leaves (none
    // due, or backing off from a lock) commits alone.
    this.changes = new GroupCommit((batch) => this.commitChanges(batch), () => { this.waiters.pumpIfScheduled(); this.changes.flush(); });
    this.waiters = new Waiters<Lease>({
      tryLease: (busy) => this.tryLease(busy),
      msUntilDue: (busy) => this.msUntilDue(busy),
      batch: (fn) => this.leaseBatch(fn),
    }, options.pollIntervalMs ?? 100);
    // Retention needs no precision: a record may outlive call_retention by up to a minute.
    const every = Math.min(60_000, Math.max(1_000, this.opts.callRetentionMs / 2));
    this.sweeper = setInterval(() => { try { this.sweepNow(); } catch { /* busy: next round */ } }, every).unref();
  }

  now(): number {
    return this.opts.now();
  }

  async enqueue(call: NewCall): Promise<EnqueueResult> {
    this.checkOpen();
    const result = await retryWhileBusy(() => this.options.groupCommit === false ? this.commitAccepts([call])[0]! : this.accepts.submit(call), CLIENT_BUDGET_MS);
    // A duplicate waits too: the sync also covers the earlier accept it found, if that one's is still under way.
    await this.durable();
    return result;
  }

  /** Resolves once every accept committed so far is on disk (at once with synchronous=normal). */
  private durable(): Promise<void> {
    if (this.walSync === undefined) return Promise.resolve();
    const sync = this.walSync.sync();
    // The callers of one sync share one refusal (and one log line).
    if (this.syncing?.sync !== sync) {
      this.syncing = {
        sync,
        refusal: sync.catch((err: unknown) => {
          if (this.syncFailed === undefined && !this.closed) {
            this.syncFailed = `a sync of the queue file failed (${(err as Error).message}); accepts are refused until the router restarts`;
            this.opts.log.error('could not sync the sqlite queue file: accepts are refused from now on, restart the process', { path: this.options.path, err: err as Error });
          }
          throw new QueueUnavailableError(`could not sync the queue file: ${(err as Error).message}`, { cause: err });
        }),
      };
    }
    return this.syncing.refusal;
  }

  next(options: NextOptions = {}): Promise<Lease | null> {
    if (this.closed) return Promise.resolve(null);
    let busy = options.busy;
    // The waiter's busy set carries the wish to the pump (Waiters hands tryLease nothing else).
    if (options.beginAttempt === true) this.beginOnLease.add(busy ??= new Set());
    return this.waiters.wait(options.signal, options.timeoutMs, busy);
  }

  lookAgain(): void {
    this.waiters.wake();
  }

  async get(id: string): Promise<CallRecord | null> {
    this.checkOpen();
    const row = await this.read(() => this.st.byId.get(id));
    return row === undefined ? null : decodeRecord(row, true);
  }

  async list(filter: ListFilter = {}): Promise<CallRecord[]> {
    this.checkOpen();
    return this.read(() => this.lister.list(filter, listLimit(filter.limit)));
  }

  async cancel(id: string): Promise<CallRecord> {
    return retryWhileBusy(() => this.change(id, (r) => step.cancel(r, this.now()), null), CLIENT_BUDGET_MS);
  }

  async redrive(id: string): Promise<CallRecord> {
    const record = await retryWhileBusy(() => this.change(id, (r) => step.redrive(r, this.now()), this.now()), CLIENT_BUDGET_MS);
    this.waiters.wake();
    return record;
  }

  async depth(): Promise<DepthEntry[]> {
    this.checkOpen();
    return this.counter.depth();
  }

  async sweep(): Promise<number> {
    this.checkOpen();
    return retryWhileBusy(() => this.sweepNow(), CLIENT_BUDGET_MS);
  }

  async health(): Promise<QueueHealth> {
    if (this.closed) return { ok: false, backend: this.backend, detail: 'closed' };
    const broken = this.file.gone() ?? this.file.corrupt() ?? this.syncFailed ?? this.syncStalled();
    if (broken !== undefined) return { ok: false, backend: this.backend, detail: broken };
    try {
      await this.read(() => this.st.touch.get());
      return { ok: true, backend: this.backend, detail: this.options.path };
    } catch (err) {
      return { ok: false, backend: this.backend, detail: (err as Error).message };
    }
  }

  /** A sync that has waited for the disk this long makes the queue unhealthy: accepts wait for it. */
  private syncStalled(): string | undefined {
    const ms = this.walSync?.stalledMs() ?? 0;
    return ms < (this.options.syncStalledMs ?? SYNC_STALLED_MS) ? undefined : `a sync of the queue file has not returned for ${Math.round(ms / 1000)} s`;
  }

  watch(onChange: (change: CallChange) => void): Promise<() => void> {
    return (this.watcher ??= new SqliteWatch(this.db)).subscribe(onChange);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Changes and accepts already submitted are committed (or refused) before the file closes: an
    // accept waiting for this turn's commit gets it (commitAccepts refuses once closed is set).
    this.changes.flush();
    this.accepts.flush();
    this.closed = true;
    this.held.clear();
    this.counter.close();
    this.waiters.close();
    clearInterval(this.sweeper);
    await this.checkpoints.close();
    await this.walSync?.close();
    this.db.close();
    this.file.close(); // after the connection: closing a descriptor of the file drops this process's locks on it
  }

  released(): void {
    this.waiters.wake();
  }

  mutate(seq: number, token: string, op: string, change: (r: CallRecord) => CallRecord, message: RowChange): Promise<CallRecord> {
    // A worker's write is worth waiting for as long as its lease lasts: giving up means running the call again.
    return retryWhileBusy(() => this.mutateNow(seq, token, op, change, message), this.opts.ackWaitMs);
  }

  private async mutateNow(seq: number, token: string, op: string, change: (r: CallRecord) => CallRecord, message: RowChange): Promise<CallRecord> {
    this.checkOpen();
    const item: Mutation = { seq, token, op, change, message };
    const outcome = this.options.groupCommit === false ? this.commitChanges([item])[0]! : await this.changes.submit(item);
    if ('refused' in outcome) throw outcome.refused;
    return outcome.record;
  }

  /**
   * One transaction for a batch of lease changes. A change its own fence or transition refuses (lost
   * lease, call cancelled or expired) wrote nothing and is refused alone; a driver error (locked,
   * broken file) rolls the whole batch back and fails every change in it.
   */
  private commitChanges(batch: readonly Mutation[]): MutationOutcome[] {
    if (this.closed) throw new QueueClosedError();
    try {
      return guarded(() => this.inTx(true, () => this.applyChanges(batch)));
    } catch (err) {
      this.forgetHeld(batch);
      throw err;
    }
  }

  /** Inside a transaction: each change applied or refused alone; a driver error is thrown (the caller rolls back). */
  private applyChanges(batch: readonly Mutation[]): MutationOutcome[] {
    return batch.map((m): MutationOutcome => {
      try {
        return { record: this.applyChange(m) };
      } catch (err) {
        if (isDriverError(err)) throw err;
        return { refused: err };
      }
    });
  }

  /** Rolled back: what the batch put in `held` was never written. */
  private forgetHeld(batch: readonly Mutation[]): void {
    for (const m of batch) this.held.delete(m.seq);
  }

  private applyChange(m: Mutation): CallRecord {
    const { seq, token, change, message } = m;
    const held = this.held.get(seq);
    if (held !== undefined && held.token === token) {
      const next = change(held.record); // a refused transition throws here, nothing written
      const keepsLease = message.kind === 'keep' || message.kind === 'extend';
      const now = this.now();
      const written = this.st.updateHeld.run({
        seq, token, status: next.status, finished_at: isFinal(next.status) ? next.finishedAt : null, record: encodeRecord(next),
        result_body: resultBody(next), keep: message.kind === 'keep' ? 1 : 0,
        ready_at: message.kind === 'extend' ? now + this.opts.ackWaitMs : message.kind === 'release' ? now + message.delayMs : null,
        lease_token: keepsLease ? token : null,
      }).changes === 1;
      if (written) {
        if (keepsLease) this.held.set(seq, { token, record: next }); else this.held.delete(seq);
        return next;
      }
    }
    this.held.delete(seq);
    return this.applyRead(m);
  }

  /** A change read from the row: the lease's first write after a restart of the entry, or one that was refused. */
  private applyRead({ seq, token, op, change, message }: Mutation): CallRecord {
    const row = this.st.bySeq.get(seq);
    if (row === undefined) throw new LeaseLostError('(removed)');
    const record = decodeRecord(row, true);
    if (row.lease_token !== token) {
      // The message already left the queue (cancelled, or settled by a later lease): settling again is a no-op.
      if (row.ready_at === null && op !== CONCLUDE && op !== RETRY_LATER && (message.kind === 'remove' || message.kind === 'release')) return record;
      if (row.ready_at === null) throw new CallStateError(record.id, record.status, op);
      throw new LeaseLostError(record.id);
    }
    const next = change(record);
    const now = this.now();
    const readyAt = message.kind === 'keep' ? row.ready_at
      : message.kind === 'extend' ? now + this.opts.ackWaitMs
        : message.kind === 'release' ? now + message.delayMs : null;
    const keepsLease = message.kind === 'keep' || message.kind === 'extend';
    this.save(seq, next, readyAt, keepsLease ? token : null);
    if (keepsLease) this.held.set(seq, { token, record: next });
    return next;
  }
  private tryLease(busy: ReadonlySet<string> | undefined): Lease | null {
    if (this.closed) return null;
    const now = this.now();
    const token = randomUUID();
    if (this.leaseBusy.waitMs() > 0) return null; // the lock was met a moment ago: nothing to lease now
    if (busy !== undefined && this.beginOnLease.has(busy) && this.db.inTransaction) return guarded(() => this.leaseBegun(busy, now, token));
    const until = now + this.opts.ackWaitMs;
    let row: CallRow | undefined;
    try {
      row = guarded(() => {
        if (busy === undefined || busy.size === 0) return this.st.lease.get({ now, until, token });
        // Called inside the pump's transaction: the head chosen is still visible when leased.
        const head = this.firstHead(busy);
        return head === undefined || head.ready_at > now ? undefined : this.st.leaseSeq.get({ seq: head.seq, now, until, token });
      });
    } catch (err) {
      // Outside a transaction (leaseBatch skipped BEGIN while backing off, and the back-off ended between
      // its check and this one) the statement itself can meet the lock: lease nothing, as at BEGIN.
      if (!(err instanceof QueueBusyError)) throw err;
      this.leaseBusy.busy();
      return null;
    }
    if (row === undefined) return null;
    const record = decodeRecord(row, true);
    this.held.set(row.seq, { token, record });
    return this.leaseOf(row, record, token, now, undefined);
  }

  /**
   * A lease with its attempt begun in the same write (NextOptions.beginAttempt): the row is read, then
   * written once with the lease and the started record. Only inside the pump's transaction, where no
   * other process can change the row in between; null when nothing is visible.
   */
  private leaseBegun(busy: ReadonlySet<string>, now: number, token: string): Lease | null {
    const row = busy.size === 0 ? this.st.headRow.get({ now }) : this.headOf(busy, now);
    if (row === undefined) return null;
    const record = decodeRecord(row, true);
    const startable = !isFinal(record.status) && !step.isExpired(record, now, this.opts.maxEventAgeMs);
    const started = startable ? step.beginAttempt(record, now, this.opts.maxEventAgeMs) : record;
    this.st.leaseBegun.run({
      seq: row.seq, until: now + this.opts.ackWaitMs, token, status: started.status, record: startable ? encodeRecord(started) : row.record,
    });
    this.held.set(row.seq, { token, record: started });
    return this.leaseOf({ ...row, deliveries: row.deliveries + 1 }, started, token, now, startable ? record : undefined);
  }

  private headOf(busy: ReadonlySet<string>, now: number): CallRow | undefined {
    const head = this.firstHead(busy);
    return head === undefined || head.ready_at > now ? undefined : this.st.rowAt.get({ seq: head.seq, now });
  }

  /** The Lease object of a leased row; `leasedAs` is the record before an attempt begun with the lease. */
  private leaseOf(row: CallRow, record: CallRecord, token: string, now: number, leasedAs: CallRecord | undefined): Lease {
    const request: NewCall = {
      id: record.id, functionName: record.functionName, method: record.method, path: record.path,
      query: record.query, headers: record.headers, body: row.body, callbackUrl: record.callbackUrl,
    };
    const expired = leasedAs === undefined && step.isExpired(record, now, this.opts.maxEventAgeMs);
    return new SqliteLease(this, row.seq, token, request, record, row.deliveries, expired, leasedAs);
  }

  /** The first call in the queue (by ready_at, seq) of a function not in `busy`. */
  private firstHead(busy: ReadonlySet<string>): { seq: number; ready_at: number } | undefined {
    let best: { seq: number; ready_at: number } | undefined;
    for (const head of this.st.heads.all()) {
      if (busy.has(head.name)) continue;
      if (best === undefined || head.ready_at < best.ready_at || (head.ready_at === best.ready_at && head.seq < best.seq)) best = head;
    }
    return best;
  }

  private commitAccepts(calls: readonly NewCall[]): EnqueueResult[] {
    if (this.closed) throw new QueueClosedError();
    // A 202 must not go into a file the next start will not open.
    const gone = this.file.gone() ?? this.syncFailed;
    if (gone !== undefined) throw new QueueUnavailableError(gone);
    const now = this.now();
    // IMMEDIATE: a locked file fails the BEGIN, before any row is written, and the batch is tried again.
    const results = guarded(() => this.inTx(true, () => calls.map((call) => this.insert(call, now))));
    const fresh = results.some((r) => !r.duplicate);
    if (this.walSync === undefined) {
      if (fresh) this.waiters.wake();
    } else {
      this.walSync.wrote();
      // Waiters here look once the batch is on disk (the sync its enqueue calls wait for: no sync more).
      if (fresh) void this.walSync.sync().then(() => this.waiters.wake(), () => this.waiters.wake());
    }
    return results;
  }

  private insert(call: NewCall, now: number): EnqueueResult {
    const record = newRecord(call, now);
    const body = Buffer.from(call.body.buffer, call.body.byteOffset, call.body.byteLength);
    const info = this.st.insert.run({
      id: call.id, function_name: call.functionName, status: record.status, accepted_at: now, ready_at: now,
      record: encodeRecord(record), body,
    });
    if (info.changes === 1) return { duplicate: false, record };
    return { duplicate: true, record: decodeRecord(this.st.byId.get(call.id)!, true) };
  }

  /** Read-modify-write of a record by id outside any lease (cancel, redrive). */
  private change(id: string, fn: (r: CallRecord) => CallRecord, readyAt: number | null): CallRecord {
    this.checkOpen();
    return guarded(() => this.inTx(true, () => {
      const row = this.st.byId.get(id);
      if (row === undefined) throw new CallNotFoundError(id);
      const next = fn(decodeRecord(row, true));
      this.save(row.seq, next, readyAt, null, readyAt !== null);
      return next;
    }));
  }

  private save(seq: number, r: CallRecord, readyAt: number | null, token: string | null, resetDeliveries = false): void {
    this.st.update.run({
      seq, status: r.status, finished_at: isFinal(r.status) ? r.finishedAt : null, record: encodeRecord(r),
      result_body: resultBody(r), ready_at: readyAt, lease_token: token, reset: resetDeliveries ? 1 : 0,
    });
  }

  private inTx<T>(immediate: boolean, fn: () => T): T {
    // IMMEDIATE takes the write lock before the read of a read-modify-write: no other process can
    // change the row in between. Every transaction here writes, so every one is IMMEDIATE: a deferred
    // one that reads first and then writes fails with SQLITE_BUSY_SNAPSHOT when another process
    // committed in between, after work that must then be thrown away; IMMEDIATE meets a lock at BEGIN.
    const out = (immediate ? this.tx.immediate(fn) : this.tx(fn)) as T;
    this.checkpoints.committed();
    return out;
  }

  /** When the pump should look for work again: after a lease attempt met the lock, or when the next call (of a function not busy) is due. */
  private msUntilDue(busy: ReadonlySet<string> | undefined): number | null {
    const wait = this.leaseBusy.waitMs();
    if (wait > 0) return wait;
    try {
      const due = guarded(() => busy === undefined || busy.size === 0 ? this.st.nextDue.get()?.due ?? null : this.firstHead(busy)?.ready_at ?? null);
      return due === null ? null : due - this.now();
    } catch {
      return null; // unreadable now: the poll interval
    }
  }

  /**
   * The pump's batch of leases in one IMMEDIATE transaction. A lock held by another process is met at
   * BEGIN (nothing done yet): then this round leases nothing (every tryLease answers null while the
   * back-off lasts) and the pump looks again after msUntilDue, without the worker seeing an error.
   */
  private leaseBatch<T>(fn: () => T): T {
    if (this.leaseBusy.waitMs() > 0) return fn();
    // The lease changes of this turn ride in the same transaction (written before the new leases):
    // one BEGIN … COMMIT per turn instead of two. They settle only after the COMMIT.
    const taken: TakenBatch<Mutation, MutationOutcome> | undefined = this.closed ? undefined : this.changes.take();
    let outcomes: MutationOutcome[] = [];
    let out: T;
    try {
      out = guarded(() => this.inTx(true, () => {
        if (taken !== undefined) outcomes = this.applyChanges(taken.items);
        return fn();
      }));
    } catch (err) {
      // Rolled back: the changes are refused with the cause (a locked file is retried by mutate()).
      if (taken !== undefined) { this.forgetHeld(taken.items); taken.reject(err); }
      if (!(err instanceof QueueBusyError)) throw err;
      this.leaseBusy.busy(); // another process is writing: nothing to lease now, look again shortly
      return fn();
    }
    this.leaseBusy.clear();
    taken?.resolve(outcomes);
    return out;
  }

  /** A read that a lock held elsewhere delays (asynchronously) rather than fails. */
  private read<T>(fn: () => T): Promise<T> {
    return retryWhileBusy(() => guarded(fn), CLIENT_BUDGET_MS);
  }

  private sweepNow(): number {
    return guarded(() => this.st.sweep.run({ cutoff: this.now() - this.opts.callRetentionMs }).changes);
  }

  private checkOpen(): void {
    if (this.closed) throw new QueueClosedError();
  }

}

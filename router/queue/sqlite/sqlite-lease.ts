// A lease on one row of the sqlite queue. Every change is fenced by the lease token (and committed with
// the other changes of its event-loop turn), so a worker whose lease lapsed and was taken by another
// cannot overwrite the new holder's work.

import { QueueLease, type LeaseLimits, type MessageChange } from '../lease.js';
import type { Attempt, CallRecord, NewCall } from '../record.js';
import * as step from '../transitions.js';

/** A message change, or `extend`: the heartbeat moves the lease deadline. */
export type RowChange = MessageChange | { readonly kind: 'extend' };

/** The queue side a lease needs: one fenced read-modify-write. */
export interface LeaseStore extends LeaseLimits {
  /** Resolves once the change is committed (group-committed per event-loop turn); a lock held by another process is waited for without blocking (busy.ts). */
  mutate(seq: number, token: string, op: string, change: (r: CallRecord) => CallRecord, message: RowChange): Promise<CallRecord>;
  /** Called after a nak, so waiters in this process see the call when it is due. */
  released(): void;
}

/** The op name of conclude(): never settled by the "already left the queue" shortcut of ack. */
export const CONCLUDE = 'end the attempt and finish';
/** The op name of retryLater(): likewise (its attempt's end must be written, or refused). */
export const RETRY_LATER = 'end the attempt and retry later';
const KEEP: MessageChange = { kind: 'keep' };
const REMOVE: MessageChange = { kind: 'remove' };

/** The record without the attempt the lease began (the last one, never run): as it was leased. */
function withdrawn(r: CallRecord, before: CallRecord): CallRecord {
  return { ...r, status: before.status, startedAt: before.startedAt, nextAttemptAt: before.nextAttemptAt, attempts: r.attempts.slice(0, -1) };
}

/** A sqlite lease. */
export class SqliteLease extends QueueLease {
  constructor(
    private readonly store: LeaseStore,
    private readonly seq: number,
    private readonly token: string,
    request: NewCall,
    private current: CallRecord,
    readonly deliveryCount: number,
    expired: boolean,
    /** The record as leased, while the attempt begun with the lease (NextOptions.beginAttempt) is not yet confirmed. */
    private leasedAs?: CallRecord,
  ) {
    super(store, request, expired);
  }

  /** With an attempt begun by the lease: that attempt, confirmed (no write); else a write as on any backend. */
  override async beginAttempt(): Promise<Attempt> {
    if (this.leasedAs === undefined) return super.beginAttempt();
    this.leasedAs = undefined;
    return this.current.attempts.at(-1)!;
  }

  /** Given back before beginAttempt(): the attempt begun with the lease never ran, so it is withdrawn. */
  override async nak(delayMs = 0): Promise<void> {
    const before = this.leasedAs;
    if (before === undefined) return super.nak(delayMs);
    this.leasedAs = undefined;
    const delay = Math.max(0, delayMs);
    const store = this.store;
    await this.change('nak', (r) => step.nak(withdrawn(r, before), delay, store.now()), { kind: 'release', delayMs: delay });
  }

  get record(): CallRecord {
    return this.current;
  }

  /** endAttempt + finish (+ ack) in one fenced write: one row update instead of three. */
  conclude(attempt: step.AttemptOutcome, final: step.FinalOutcome, ack: boolean): Promise<CallRecord> {
    const store = this.store;
    return this.change(CONCLUDE, (r) => step.conclude(r, attempt, final, ack, store.now(), store.maxResultBytes), ack ? REMOVE : KEEP);
  }

  /** endAttempt + nak in one fenced write: a retry costs one row update after the lease, not two. */
  async retryLater(attempt: step.AttemptOutcome, delayMs: number): Promise<void> {
    const store = this.store;
    const delay = Math.max(0, delayMs);
    this.leasedAs = undefined;
    await this.change(RETRY_LATER, (r) => {
      const now = store.now();
      return step.nak(step.endAttempt(r, attempt, now), delay, now);
    }, { kind: 'release', delayMs: delay });
  }

  protected async renew(): Promise<void> {
    this.current = await this.store.mutate(this.seq, this.token, 'extend the lease', (r) => r, { kind: 'extend' });
  }

  protected async change(op: string, change: (r: CallRecord) => CallRecord, message: MessageChange): Promise<CallRecord> {
    this.current = await this.store.mutate(this.seq, this.token, op, change, message);
    if (message.kind === 'release') this.store.released();
    return this.current;
  }
}

// A lease on one row of the sqlite queue. Every method is one transaction fenced by the lease token,
// so a worker whose lease lapsed and was taken by another cannot overwrite the new holder's work.

import type { Lease } from './queue.js';
import type { Attempt, CallRecord, NewCall } from './record.js';
import * as step from './transitions.js';

/** What happens to the queue message in the same transaction as the record change. */
export type MessageChange =
  | { readonly kind: 'keep' }
  | { readonly kind: 'extend' }
  | { readonly kind: 'release'; readonly delayMs: number }
  | { readonly kind: 'remove' };

/** The queue side a lease needs: one fenced read-modify-write. */
export interface LeaseStore {
  readonly maxEventAgeMs: number;
  readonly maxResultBytes: number;
  now(): number;
  mutate(seq: number, token: string, op: string, change: (r: CallRecord) => CallRecord, message: MessageChange): CallRecord;
  /** Called after a nak, so waiters in this process see the call when it is due. */
  released(): void;
}

const KEEP: MessageChange = { kind: 'keep' };

/** A sqlite lease. */
export class SqliteLease implements Lease {
  constructor(
    private readonly store: LeaseStore,
    private readonly seq: number,
    private readonly token: string,
    readonly request: NewCall,
    private current: CallRecord,
    readonly deliveryCount: number,
    readonly expired: boolean,
  ) {}

  get record(): CallRecord {
    return this.current;
  }

  async working(): Promise<void> {
    this.apply('extend the lease', (r) => r, { kind: 'extend' });
  }

  async beginAttempt(): Promise<Attempt> {
    const s = this.store;
    const record = this.apply('begin an attempt', (r) => step.beginAttempt(r, s.now(), s.maxEventAgeMs), KEEP);
    return record.attempts.at(-1)!;
  }

  async endAttempt(outcome: step.AttemptOutcome): Promise<void> {
    this.apply('end an attempt', (r) => step.endAttempt(r, outcome, this.store.now()), KEEP);
  }

  async finish(outcome: step.FinalOutcome): Promise<CallRecord> {
    const s = this.store;
    return this.apply('finish', (r) => step.finish(r, outcome, s.now(), s.maxResultBytes), KEEP);
  }

  async callbackAttempt(outcome: step.CallbackOutcome): Promise<void> {
    this.apply('record a callback attempt', (r) => step.callbackAttempt(r, outcome, this.store.now()), KEEP);
  }

  async ack(): Promise<void> {
    this.apply('ack', step.ack, { kind: 'remove' });
  }

  async nak(delayMs = 0): Promise<void> {
    this.apply('nak', (r) => step.nak(r, delayMs, this.store.now()), { kind: 'release', delayMs: Math.max(0, delayMs) });
    this.store.released();
  }

  async term(reason: string): Promise<void> {
    this.apply('term', (r) => step.term(r, reason, this.store.now()), { kind: 'remove' });
  }

  private apply(op: string, change: (r: CallRecord) => CallRecord, message: MessageChange): CallRecord {
    this.current = this.store.mutate(this.seq, this.token, op, change, message);
    return this.current;
  }
}

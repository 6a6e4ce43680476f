// A lease on one delivery of one call message. The record lives in KV; every change is a
// compare-and-set on the key's revision, stamped with this delivery (`<streamSeq>:<deliveryCount>`).
// That is the fence: once a later delivery of the same message (the lease lapsed) or another message
// of the same call (a duplicate publish) has written the record, this lease can write nothing more.

import type { Delivery } from './jetstream-puller.js';
import type { Envelope, LeaseRef } from './jetstream-envelope.js';
import { CallStateError, LeaseLostError } from './errors.js';
import type { Lease } from './queue.js';
import type { Attempt, CallRecord, NewCall } from './record.js';
import * as step from './transitions.js';

/** A stored envelope and the KV revision it was read at. */
export interface Versioned {
  readonly env: Envelope;
  readonly revision: number;
}

/** What a lease needs from the queue. */
export interface LeaseStore {
  readonly maxEventAgeMs: number;
  readonly maxResultBytes: number;
  now(): number;
  /** The stored envelope, or null when the record was removed. */
  read(key: string): Promise<Versioned | null>;
  /** Compare-and-set; resolves the new revision, or null when `revision` is no longer the latest. */
  write(key: string, env: Envelope, revision: number): Promise<number | null>;
  ack(d: Delivery): Promise<void>;
  nak(d: Delivery, delayMs: number): void;
  working(d: Delivery): void;
}

/** Throw LeaseLostError unless `mine` may write a record last written by `stored`. */
export function fence(id: string, stored: LeaseRef | null, mine: LeaseRef, record: CallRecord, round: number): void {
  if (record.round !== round) throw new LeaseLostError(id); // redriven since: this message is stale
  if (stored === null) return;
  if (stored.seq !== mine.seq || stored.delivery > mine.delivery) throw new LeaseLostError(id);
}

/** A jetstream lease. */
export class JetStreamLease implements Lease {
  private readonly mine: LeaseRef;
  private current: Versioned;

  constructor(
    private readonly store: LeaseStore,
    private readonly key: string,
    private readonly delivery: Delivery,
    private readonly round: number,
    readonly request: NewCall,
    leased: Versioned,
    readonly expired: boolean,
  ) {
    this.mine = { seq: delivery.streamSeq, delivery: delivery.deliveryCount };
    this.current = leased;
  }

  get record(): CallRecord {
    return this.current.env.record;
  }

  get deliveryCount(): number {
    return this.delivery.deliveryCount;
  }

  async working(): Promise<void> {
    const latest = await this.store.read(this.key);
    if (latest === null) throw new LeaseLostError(this.request.id);
    fence(this.request.id, latest.env.lease, this.mine, latest.env.record, this.round);
    // A beat runs beside the call's own writes: a read that left before one of them landed returns the
    // older revision, and adopting it would make the next step (endAttempt, settle) act on a stale record.
    if (latest.revision > this.current.revision) this.current = latest;
    this.store.working(this.delivery);
  }

  async beginAttempt(): Promise<Attempt> {
    const s = this.store;
    const record = await this.apply((r) => step.beginAttempt(r, s.now(), s.maxEventAgeMs));
    return record.attempts.at(-1)!;
  }

  async endAttempt(outcome: step.AttemptOutcome): Promise<void> {
    await this.apply((r) => step.endAttempt(r, outcome, this.store.now()));
  }

  async finish(outcome: step.FinalOutcome): Promise<CallRecord> {
    const s = this.store;
    return this.apply((r) => step.finish(r, outcome, s.now(), s.maxResultBytes));
  }

  async callbackAttempt(outcome: step.CallbackOutcome): Promise<void> {
    await this.apply((r) => step.callbackAttempt(r, outcome, this.store.now()));
  }

  async ack(): Promise<void> {
    await this.apply(step.ack);
    await this.store.ack(this.delivery);
  }

  async nak(delayMs = 0): Promise<void> {
    const delay = Math.max(0, delayMs);
    await this.apply((r) => step.nak(r, delay, this.store.now()));
    this.store.nak(this.delivery, delay);
  }

  async term(reason: string): Promise<void> {
    await this.apply((r) => step.term(r, reason, this.store.now()));
    await this.store.ack(this.delivery);
  }

  /** Fenced read-modify-write; a lost compare-and-set (cancel, a newer lease) re-reads and re-checks. */
  private async apply(change: (r: CallRecord) => CallRecord): Promise<CallRecord> {
    for (let tries = 0; ; tries++) {
      const { env, revision } = this.current;
      fence(this.request.id, env.lease, this.mine, env.record, this.round);
      const next: Envelope = { record: change(env.record), lease: this.mine };
      const written = await this.store.write(this.key, next, revision);
      if (written !== null) {
        this.current = { env: next, revision: written };
        return next.record;
      }
      const latest = await this.store.read(this.key);
      if (latest === null) throw new LeaseLostError(this.request.id);
      if (tries >= 10) throw new CallStateError(this.request.id, latest.env.record.status, 'write: too many concurrent changes');
      this.current = latest;
    }
  }
}

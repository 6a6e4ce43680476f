// A lease on one delivery of one call message. The record lives in KV; every change is a
// compare-and-set on the key's revision, stamped with this delivery (`<streamSeq>:<deliveryCount>`).
// That is the fence: once a later delivery of the same message (the lease lapsed) or another message
// of the same call (a duplicate publish) has written the record, this lease can write nothing more.

import type { Delivery } from './jetstream-puller.js';
import type { Envelope, LeaseRef } from './jetstream-envelope.js';
import { CallStateError, LeaseLostError } from '../errors.js';
import { QueueLease, type LeaseLimits, type MessageChange } from '../lease.js';
import type { CallRecord, NewCall } from '../record.js';

/** A stored envelope and the KV revision it was read at. */
export interface Versioned {
  readonly env: Envelope;
  readonly revision: number;
}

/** What a lease needs from the queue. */
export interface LeaseStore extends LeaseLimits {
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
export class JetStreamLease extends QueueLease {
  private readonly mine: LeaseRef;
  private current: Versioned;

  constructor(
    private readonly store: LeaseStore,
    private readonly key: string,
    private readonly delivery: Delivery,
    private readonly round: number,
    request: NewCall,
    leased: Versioned,
    expired: boolean,
  ) {
    super(store, request, expired);
    this.mine = { seq: delivery.streamSeq, delivery: delivery.deliveryCount };
    this.current = leased;
  }

  get record(): CallRecord {
    return this.current.env.record;
  }

  get deliveryCount(): number {
    return this.delivery.deliveryCount;
  }

  protected async renew(): Promise<void> {
    const latest = await this.store.read(this.key);
    if (latest === null) throw new LeaseLostError(this.request.id);
    fence(this.request.id, latest.env.lease, this.mine, latest.env.record, this.round);
    // A beat runs beside the call's own writes: a read that left before one of them landed returns the
    // older revision, and adopting it would make the next step (endAttempt, settle) act on a stale record.
    if (latest.revision > this.current.revision) this.current = latest;
    this.store.working(this.delivery);
  }

  protected async change(op: string, change: (r: CallRecord) => CallRecord, message: MessageChange): Promise<CallRecord> {
    const record = await this.write(op, change);
    if (message.kind === 'release') this.store.nak(this.delivery, message.delayMs);
    if (message.kind === 'remove') await this.store.ack(this.delivery);
    return record;
  }

  /** Fenced read-modify-write; a lost compare-and-set (cancel, a newer lease) re-reads and re-checks. */
  private async write(op: string, change: (r: CallRecord) => CallRecord): Promise<CallRecord> {
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
      if (tries >= 10) throw new CallStateError(this.request.id, latest.env.record.status, `${op}: too many concurrent changes`);
      this.current = latest;
    }
  }
}

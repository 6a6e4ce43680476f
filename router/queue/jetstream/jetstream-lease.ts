// A lease on one delivery of one call message. The record lives in KV; every change is a
// compare-and-set on the key's revision, stamped with this delivery (`<streamSeq>:<deliveryCount>`).
// That is the fence: once a later delivery of the same message (the lease lapsed) or another message
// of the same call (a duplicate publish) has written the record, this lease can write nothing more.
//
// A call leased for the first time has no record in KV yet (the accept only published): its first
// write is a KV create. When the create finds a record, the call was cancelled meanwhile (the
// transition refuses, as for any cancelled call) or its id was used again after the duplicate window
// (another message owns it: this one is acked and the lease is lost).
// Writes per call are kept few while the lease is surely this worker's (well within ack_wait of the
// delivery or the last renewal): endAttempt is written with the next change (finish or nak; a crash
// in between only loses the attempt's end, closed as lapsed on redelivery), and an ack that changes
// nothing in the record only acks the message. Past that point every change is a fenced write.

import type { Delivery } from './jetstream-puller.js';
import type { Envelope, LeaseRef } from './jetstream-envelope.js';
import { CallStateError, LeaseLostError } from '../errors.js';
import { QueueLease, type LeaseLimits, type MessageChange } from '../lease.js';
import { REDRIVABLE_STATUSES, type CallRecord, type NewCall } from '../record.js';
import * as step from '../transitions.js';

/** A stored envelope and the KV revision it was read at (0: not in KV yet, only in the message). */
export interface Versioned {
  readonly env: Envelope;
  readonly revision: number;
  /** With revision 0: the stream sequence of the message it was read from. */
  readonly seq?: number;
}

/** What a lease needs from the queue. */
export interface LeaseStore extends LeaseLimits {
  /** The consumer's ack_wait: how long a delivery is this lease's without a renewal. */
  readonly ackWaitMs: number;
  /** The stored envelope, or null when the record was removed. */
  read(key: string): Promise<Versioned | null>;
  /** Compare-and-set (revision 0: create); resolves the new revision, or null when `revision` is no longer the latest. */
  write(key: string, env: Envelope, revision: number): Promise<number | null>;
  /** Keep the request body for a redrive (the message leaves the stream on ack). */
  saveBody(key: string, body: Uint8Array): Promise<void>;
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

type Change = (r: CallRecord) => CallRecord;

/** A jetstream lease. */
export class JetStreamLease extends QueueLease {
  private readonly mine: LeaseRef;
  private current: Versioned;
  /** Changes made but not written yet (endAttempt), applied again on top of whatever is read. */
  private deferred: Change[] = [];
  private shown: CallRecord;
  /** When the server's ack_wait last (re)started at the latest: the delivery, or the last renewal sent. */
  private renewedAt: number;

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
    this.shown = leased.env.record;
    this.renewedAt = delivery.receivedAt ?? Date.now();
  }

  get record(): CallRecord {
    return this.shown;
  }

  get deliveryCount(): number {
    return this.delivery.deliveryCount;
  }

  override async endAttempt(outcome: step.AttemptOutcome): Promise<void> {
    if (!this.surelyMine()) { await super.endAttempt(outcome); return; } // the write's fence says whether it still is
    const change: Change = (r) => step.endAttempt(r, outcome, this.store.now());
    fence(this.request.id, this.current.env.lease, this.mine, this.current.env.record, this.round);
    this.shown = change(this.shown);
    this.deferred.push(change);
  }

  /**
   * endAttempt + finish as one fenced KV write, then (when `ack`) the ack: one write per call instead
   * of two when the attempt's end could not be deferred. A crash between the write and the ack leaves
   * a final record whose message comes back and is acked without being handed out (jetstream-delivery.ts).
   */
  async conclude(attempt: step.AttemptOutcome, final: step.FinalOutcome, ack: boolean): Promise<CallRecord> {
    const now = this.store.now();
    const change: Change = (r) => step.conclude(r, attempt, final, ack, now, this.store.maxResultBytes);
    return this.change('conclude', change, ack ? { kind: 'remove' } : { kind: 'keep' });
  }

  override async ack(): Promise<void> {
    step.ack(this.shown); // only a final call leaves the queue by ack
    // The write before (finish, or the callback's) was fenced; an ack that changes nothing writes nothing.
    if (this.deferred.length === 0 && this.current.revision !== 0 && this.shown.nextAttemptAt === null && this.surelyMine()) {
      await this.store.ack(this.delivery);
      return;
    }
    await super.ack();
  }

  /**
   * True while no other worker can have this call: the server hands a delivery out again only after
   * ack_wait without a renewal (a margin covers the time the delivery or renewal was on the wire).
   */
  private surelyMine(): boolean {
    return Date.now() - this.renewedAt < this.store.ackWaitMs - Math.max(200, this.store.ackWaitMs / 5);
  }

  private renewed(): void {
    this.renewedAt = Date.now();
    this.store.working(this.delivery);
  }

  protected async renew(): Promise<void> {
    if (this.current.revision === 0) { this.renewed(); return; } // nothing in KV to check yet
    const latest = await this.store.read(this.key);
    if (latest === null) throw new LeaseLostError(this.request.id);
    fence(this.request.id, latest.env.lease, this.mine, latest.env.record, this.round);
    // A beat runs beside the call's own writes: a read that left before one of them landed returns the
    // older revision, and adopting it would make the next step (endAttempt, settle) act on a stale record.
    if (latest.revision > this.current.revision) this.adopt(latest);
    this.renewed();
  }

  protected async change(op: string, change: Change, message: MessageChange): Promise<CallRecord> {
    const record = await this.write(op, change);
    if (message.kind === 'release') this.store.nak(this.delivery, message.delayMs);
    if (message.kind === 'remove') await this.store.ack(this.delivery);
    return record;
  }

  /** Fenced read-modify-write; a lost compare-and-set (cancel, a newer lease) re-reads and re-checks. */
  private async write(op: string, change: Change): Promise<CallRecord> {
    for (let tries = 0; ; tries++) {
      const { env, revision } = this.current;
      fence(this.request.id, env.lease, this.mine, env.record, this.round);
      const record = change(this.deferred.reduce((r, c) => c(r), env.record));
      if (REDRIVABLE_STATUSES.includes(record.status) && !REDRIVABLE_STATUSES.includes(env.record.status)) {
        await this.store.saveBody(this.key, this.request.body); // before the record says it can be redriven
      }
      const next: Envelope = { record, lease: this.mine };
      const written = await this.store.write(this.key, next, revision);
      if (written !== null) {
        this.current = { env: next, revision: written };
        this.deferred = [];
        this.shown = record;
        return record;
      }
      const latest = await this.store.read(this.key);
      if (latest === null) throw new LeaseLostError(this.request.id);
      if (revision === 0 && this.ownedElsewhere(latest)) {
        // A repeat of an id stored long ago (or a round redriven since): the message goes.
        await this.store.ack(this.delivery).catch(() => { /* it comes back and is dropped then */ });
        throw new LeaseLostError(this.request.id);
      }
      if (tries >= 10) throw new CallStateError(this.request.id, latest.env.record.status, `${op}: too many concurrent changes`);
      this.adopt(latest);
    }
  }

  /** True when another message owns the stored call. A call cancelled meanwhile is not: its transition says so. */
  private ownedElsewhere(latest: Versioned): boolean {
    const { record, lease } = latest.env;
    return record.round !== this.round || (lease !== null && lease.seq !== this.mine.seq);
  }

  private adopt(latest: Versioned): void {
    this.current = latest;
    this.shown = this.deferred.reduce((r, c) => c(r), latest.env.record);
  }
}

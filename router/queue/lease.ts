// The mapping of a Lease's operations onto record transitions and queue-message changes, written once
// for every backend. A backend's lease supplies only the fenced write (`change`) and the heartbeat
// (`renew`): how it stores the record and moves the message is its own business.

import type { Lease } from './queue.js';
import type { Attempt, CallRecord, NewCall } from './record.js';
import * as step from './transitions.js';

/** What happens to the queue message in the same step as the record change. */
export type MessageChange =
  | { readonly kind: 'keep' }
  | { readonly kind: 'release'; readonly delayMs: number }
  | { readonly kind: 'remove' };

/** The queue settings a lease's transitions need. */
export interface LeaseLimits {
  readonly maxEventAgeMs: number;
  readonly maxResultBytes: number;
  now(): number;
}

const KEEP: MessageChange = { kind: 'keep' };

/** A lease on one call: the Lease vocabulary over a backend's fenced record write. */
export abstract class QueueLease implements Lease {
  constructor(private readonly limits: LeaseLimits, readonly request: NewCall, readonly expired: boolean) {}

  abstract readonly record: CallRecord;
  abstract readonly deliveryCount: number;

  /**
   * Apply `change` to the record, fenced by this lease (LeaseLostError once another holder wrote it),
   * and `message` to the queue message; the record as written. `op` names the operation for errors.
   */
  protected abstract change(op: string, change: (r: CallRecord) => CallRecord, message: MessageChange): Promise<CallRecord>;

  /** Extend the lease for another ackWait; LeaseLostError when it is no longer this lease's. */
  protected abstract renew(): Promise<void>;

  working(): Promise<void> {
    return this.renew();
  }

  async beginAttempt(): Promise<Attempt> {
    const limits = this.limits;
    const record = await this.change('begin an attempt', (r) => step.beginAttempt(r, limits.now(), limits.maxEventAgeMs), KEEP);
    return record.attempts.at(-1)!;
  }

  async endAttempt(outcome: step.AttemptOutcome): Promise<void> {
    await this.change('end an attempt', (r) => step.endAttempt(r, outcome, this.limits.now()), KEEP);
  }

  finish(outcome: step.FinalOutcome): Promise<CallRecord> {
    const limits = this.limits;
    return this.change('finish', (r) => step.finish(r, outcome, limits.now(), limits.maxResultBytes), KEEP);
  }

  async callbackAttempt(outcome: step.CallbackOutcome): Promise<void> {
    await this.change('record a callback attempt', (r) => step.callbackAttempt(r, outcome, this.limits.now()), KEEP);
  }

  async ack(): Promise<void> {
    await this.change('ack', step.ack, { kind: 'remove' });
  }

  async nak(delayMs = 0): Promise<void> {
    const delay = Math.max(0, delayMs);
    await this.change('nak', (r) => step.nak(r, delay, this.limits.now()), { kind: 'release', delayMs: delay });
  }

  async term(reason: string): Promise<void> {
    await this.change('term', (r) => step.term(r, reason, this.limits.now()), { kind: 'remove' });
  }
}

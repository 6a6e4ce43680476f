// A lease on one row of the sqlite queue. Every change is fenced by the lease token (and committed with
// the other changes of its event-loop turn), so a worker whose lease lapsed and was taken by another
// cannot overwrite the new holder's work.

import { QueueLease, type LeaseLimits, type MessageChange } from '../lease.js';
import type { CallRecord, NewCall } from '../record.js';

/** A message change, or `extend`: the heartbeat moves the lease deadline. */
export type RowChange = MessageChange | { readonly kind: 'extend' };

/** The queue side a lease needs: one fenced read-modify-write. */
export interface LeaseStore extends LeaseLimits {
  /** Resolves once the change is committed (group-committed per event-loop turn); a lock held by another process is waited for without blocking (busy.ts). */
  mutate(seq: number, token: string, op: string, change: (r: CallRecord) => CallRecord, message: RowChange): Promise<CallRecord>;
  /** Called after a nak, so waiters in this process see the call when it is due. */
  released(): void;
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
  ) {
    super(store, request, expired);
  }

  get record(): CallRecord {
    return this.current;
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

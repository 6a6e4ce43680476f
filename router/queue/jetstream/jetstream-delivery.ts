// A delivery becomes a lease, or is settled quietly when its call has nothing left to do (cancelled,
// stale rounds, duplicates). The first delivery of a freshly accepted call needs no read: its record
// is in the message, and the lease's first write (a KV create) finds out whether KV knew the id.

import { JetStreamLease, type Versioned } from './jetstream-lease.js';
import { readCallMessage } from './jetstream-message.js';
import { ackConfirmed, nakDelivery, type Delivery } from './jetstream-puller.js';
import { readEnvelope } from './jetstream-records.js';
import type { JetStreamStore } from './jetstream-store.js';
import type { Lease } from '../queue.js';
import { isFinal, type NewCall } from '../record.js';
import * as step from '../transitions.js';

/** How long a message of the earlier layout whose record is missing is kept for a client retry (2 min). */
const ORPHAN_WAIT_MS = 120_000;

/** Turn a delivery into a lease; null when it was settled instead. */
export async function toLease(store: JetStreamStore, d: Delivery): Promise<Lease | null> {
  const conn = store.link.ready();
  const call = readCallMessage(d.msg);
  const fresh = call?.record != null && call.round === 0 && d.deliveryCount === 1;
  let stored: Versioned | null = call === null || fresh ? null : await readEnvelope(conn.kv, call.key);
  if (stored === null && call?.record != null && call.round === 0) stored = { env: { record: call.record, lease: null }, revision: 0 };
  const record = stored?.env.record;
  if (record === undefined && call !== null && call.record === null && Date.now() - (d.publishedAt ?? 0) < ORPHAN_WAIT_MS) {
    // Earlier layout, no record for a fresh message: an enqueue that timed out took its record back
    // after the publish had in fact landed; the client's retry may still bring it back.
    nakDelivery(d, 2_000);
    return null;
  }
  const lease = stored?.env.lease;
  const stale = call === null || record === undefined // removed (or never a call of ours)
    || record.round !== call.round // an earlier round's message, redriven since
    || (isFinal(record.status) && record.callback.state !== 'pending') // nothing left to deliver
    || (lease != null && lease.seq !== d.streamSeq); // a duplicate publish: another message owns the call
  if (stale) {
    await ackConfirmed(conn.nc, d, store.setup.timeoutMs);
    return null;
  }
  const request: NewCall = {
    id: record.id, functionName: record.functionName, method: record.method, path: record.path,
    query: record.query, headers: record.headers, body: d.msg.data, callbackUrl: record.callbackUrl,
  };
  const expired = step.isExpired(record, store.now(), store.maxEventAgeMs);
  return new JetStreamLease(store, call.key, d, call.round, request, stored!, expired);
}

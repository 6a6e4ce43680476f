// The accept path: enqueue = KV create (permanent idempotency: the same id twice is stored once, for as
// long as the record exists, unlike the 2-minute Nats-Msg-Id window) + the body and the message with
// Nats-Msg-Id `<key>:<round>`. Also the publish of a redriven round.

import { headers } from '@nats-io/transport-node';
import { encodeEnvelope } from './jetstream-envelope.js';
import { callSubject, messageId, recordKey } from './jetstream-names.js';
import { isWrongLastSequence, readEnvelope, writeEnvelope } from './jetstream-records.js';
import type { Conn } from './jetstream-setup.js';
import type { JetStreamStore } from './jetstream-store.js';
import { CallTooLargeError, QueueUnavailableError } from '../errors.js';
import type { EnqueueResult } from '../queue.js';
import { newRecord, requestDifferences, type CallRecord, type NewCall } from '../record.js';

/** Stores new calls and publishes their messages. */
export class JetStreamAccept {
  constructor(private readonly store: JetStreamStore) {}

  async enqueue(call: NewCall): Promise<EnqueueResult> {
    const { link } = this.store;
    const conn = link.ready();
    if (call.body.byteLength > this.store.maxBodyBytes) throw new CallTooLargeError(call.body.byteLength, this.store.maxBodyBytes);
    return link.bounded(this.store.options.enqueueTimeoutMs ?? 1_500, async () => {
      const key = recordKey(call.id);
      for (let tries = 0; tries < 10; tries++) {
        const record = newRecord(call, this.store.now());
        const revision = await this.create(conn, key, record);
        if (revision === null) { // the id exists (or did a moment ago: then look again)
          const existing = await this.duplicate(conn, key, call);
          if (existing !== null) return existing;
          continue;
        }
        try {
          // The body is kept beside the record for redrives (the message leaves the stream on ack).
          await Promise.all([conn.bodies.put(key, call.body), this.publish(conn, key, record, call.body)]);
        } catch (err) {
          // Not accepted after all: take the record back so a retry with the same id is a new call. Only
          // at the revision created here: a retry that published since has claimed the record (see
          // duplicate()), or a worker holds it, and then the delete fails, as it must.
          conn.kv.delete(key, { previousSeq: revision }).catch(() => { /* NATS away: stays queued, see docs/queues.md, "A lost enqueue midway" */ });
          throw err;
        }
        this.store.changed();
        return { duplicate: false, record };
      }
      throw new QueueUnavailableError('the call kept changing while being enqueued; try again');
    });
  }

  /** Publish the message of the record's round. */
  async publish(conn: Conn, key: string, record: CallRecord, body: Uint8Array): Promise<void> {
    const h = headers();
    h.set('Whippet-Call', key);
    h.set('Whippet-Round', String(record.round));
    await conn.js.publish(callSubject(this.store.names, record.functionName), body, { msgID: messageId(key, record.round), headers: h });
  }

  /** A redrive needs the request body again; the first message left the stream when it was acked. */
  async requestBody(conn: Conn, key: string): Promise<Uint8Array> {
    const entry = await conn.bodies.get(key);
    return entry !== null && entry.operation === 'PUT' ? entry.value : new Uint8Array();
  }

  /**
   * An existing id: the stored call, published again first if it may never have been (an earlier
   * attempt failed midway). Before that publish the record is rewritten unchanged: the claim moves its
   * revision, so the rollback of the attempt that created it (a delete at that revision, which may land
   * late) can no longer remove a call this retry answers 202 for. A claim never rolls back. Null when
   * the record changed under the claim or is gone: the caller starts over.
   */
  private async duplicate(conn: Conn, key: string, call: NewCall): Promise<EnqueueResult | null> {
    const stored = await readEnvelope(conn.kv, key);
    if (stored === null) return null;
    const r = stored.env.record;
    const neverLeased = r.status === 'queued' && stored.env.lease === null && !r.attempts.some((a) => a.round === r.round);
    // Another request under this id (the router answers 409) must not replace the stored body.
    if (!neverLeased || requestDifferences(r, call).length > 0) return { duplicate: true, record: r };
    if ((await writeEnvelope(this.store.ctx(conn), key, stored.env, stored.revision)) === null) return null;
    // Nats-Msg-Id de-duplicates this inside the 2-minute window; later, next() drops the twin. The body is
    // stored again too: the attempt that failed midway may not have stored it, and a redrive needs it.
    await Promise.all([conn.bodies.put(key, call.body), this.publish(conn, key, r, call.body)]);
    return { duplicate: true, record: r };
  }

  /** KV create; the new revision, or null when the key exists. */
  private async create(conn: Conn, key: string, record: CallRecord): Promise<number | null> {
    try {
      return await conn.kv.create(key, encodeEnvelope({ record, lease: null }, this.store.ctx(conn).maxValueBytes));
    } catch (err) {
      if (isWrongLastSequence(err)) return null;
      throw err;
    }
  }
}

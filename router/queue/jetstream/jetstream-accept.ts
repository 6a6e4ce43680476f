// The accept path: an enqueue is one publish. The message carries the accepted record (headers) and
// the body (payload), on the call's own subject `<name>.calls.<function>.<key>`, with Nats-Msg-Id
// `<key>:<round>`: the stream drops a second publish of the same call within its duplicate window
// (2 min) and says so, which is the `duplicate` answer. The record reaches KV when a worker leases the
// call; a repeat of the id after the window is recognised there (the record exists) and dropped.
// Durable before it resolves: the publish resolves once the stream stored the message.

import { callHeaders } from './jetstream-message.js';
import { callSubject, messageId, recordKey } from './jetstream-names.js';
import { MSG_ID } from './jetstream-publish.js';
import { readCall } from './jetstream-records.js';
import type { Conn } from './jetstream-setup.js';
import type { JetStreamStore } from './jetstream-store.js';
import { CallTooLargeError, QueueUnavailableError } from '../errors.js';
import type { EnqueueResult } from '../queue.js';
import { newRecord, type CallRecord, type NewCall } from '../record.js';

/** Publishes calls: new ones, and the new round of a redriven one. */
export class JetStreamAccept {
  constructor(private readonly store: JetStreamStore) {}

  async enqueue(call: NewCall): Promise<EnqueueResult> {
    const { link } = this.store;
    const conn = link.ready();
    if (call.body.byteLength > this.store.maxBodyBytes) throw new CallTooLargeError(call.body.byteLength, this.store.maxBodyBytes);
    const record = newRecord(call, this.store.now());
    const key = recordKey(call.id);
    const message = callHeaders(key, record);
    const room = conn.maxPayload - message.bytes;
    if (call.body.byteLength > room) throw new CallTooLargeError(call.body.byteLength, Math.max(0, room));
    return link.bounded(this.store.options.enqueueTimeoutMs ?? 1_500, async () => {
      // Accepts of one turn (one per HTTP request) leave in one socket write (jetstream-turn.ts).
      if (!(await this.store.turn.run(() => this.publish(conn, key, record, call.body, message.headers)))) {
        this.store.changed();
        return { duplicate: false, record };
      }
      // Within the duplicate window: the call stored first is the one that stays.
      const existing = await readCall(this.store.ctx(conn), key);
      if (existing === null) throw new QueueUnavailableError('the call was stored but cannot be read back yet; try again');
      return { duplicate: true, record: existing.env.record };
    });
  }

  /**
   * Publish the message of the record's round (the first of a function in this process makes sure its
   * consumer exists). Resolves true when the stream had it already (a duplicate within the window).
   */
  async publish(conn: Conn, key: string, record: CallRecord, body: Uint8Array, headers = callHeaders(key, record).headers): Promise<boolean> {
    const subject = callSubject(this.store.names, record.functionName, key);
    headers.set(MSG_ID, messageId(key, record.round));
    const published = conn.pub.publish(subject, body, headers);
    const ensured = this.store.consumers.ensure(conn.jsm, record.functionName);
    if (ensured === true) return (await published).duplicate; // the common case: no second promise to wait on
    const [ack] = await Promise.all([published, ensured]);
    return ack.duplicate;
  }

  /** A redrive needs the request body again; the message left the stream when it was acked. */
  async requestBody(conn: Conn, key: string): Promise<Uint8Array> {
    const entry = await conn.bodies.get(key);
    return entry !== null && entry.operation === 'PUT' ? entry.value : new Uint8Array();
  }
}

// The call message. It carries everything an accept stores, so an enqueue is one publish: the request
// body as payload, and in headers the call's key, its round and the accepted record (JSON, without body).
// Messages of the earlier layout carry only key and round: their record was written to KV at the accept.

import { headers, type Msg, type MsgHdrs } from '@nats-io/transport-node';
import { isFinal, type CallRecord } from '../record.js';

const KEY = 'Whippet-Call';
const ROUND = 'Whippet-Round';
const RECORD = 'Whippet-Record';

/** What a call message says about its call. */
export interface CallMessage {
  readonly key: string;
  readonly round: number;
  /** The record as accepted (or as redriven); null for a message of the earlier layout. */
  readonly record: CallRecord | null;
}

/** The headers of a call's message for the record's round, and about how many bytes they take. */
export function callHeaders(key: string, record: CallRecord): { headers: MsgHdrs; bytes: number } {
  const json = JSON.stringify(record);
  const h = headers();
  h.set(KEY, key);
  h.set(ROUND, String(record.round));
  h.set(RECORD, json);
  return { headers: h, bytes: Buffer.byteLength(json) + key.length + 128 };
}

/** Read a call message's headers; null when it is no call message of ours. */
export function readCallMessage(msg: Pick<Msg, 'headers'>): CallMessage | null {
  const key = msg.headers?.get(KEY) ?? '';
  if (key === '') return null;
  const round = Number(msg.headers?.get(ROUND) ?? '0');
  const json = msg.headers?.get(RECORD) ?? '';
  let record: CallRecord | null = null;
  if (json !== '') {
    try {
      const parsed = JSON.parse(json) as CallRecord;
      if (typeof parsed?.id === 'string' && typeof parsed.status === 'string' && !isFinal(parsed.status)) record = parsed;
    } catch {
      record = null;
    }
    if (record === null) return null; // a record header that does not parse: not ours to run
  }
  return { key, round, record };
}

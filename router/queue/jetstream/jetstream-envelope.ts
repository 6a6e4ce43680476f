// The value stored under a call's KV key: the record (JSON), which delivery of which message holds the
// call (`lease`, for fencing), and the result body as raw bytes after the JSON (base64 would grow a
// body by a third and push it past NATS' max_payload sooner).
// Layout: 4-byte big-endian JSON length | JSON | result body (may be empty).

import { CALL_STATUSES, type CallRecord } from '../record.js';

/** Which delivery of which stream message last wrote the record: `<streamSeq>:<deliveryCount>`. */
export interface LeaseRef {
  readonly seq: number;
  readonly delivery: number;
}

/** What one KV value holds. */
export interface Envelope {
  readonly record: CallRecord;
  readonly lease: LeaseRef | null;
}

interface Stored {
  readonly record: CallRecord;
  readonly lease: LeaseRef | null;
  readonly body: boolean;
}

/**
 * Encode; when the whole would exceed `maxBytes` (what fits in one NATS message), the result body is
 * dropped (the record keeps bodySize, body null: "too large to keep").
 */
export function encodeEnvelope(env: Envelope, maxBytes: number): Uint8Array {
  const full = pack(env);
  if (full.byteLength <= maxBytes || env.record.result?.body == null) return full;
  return pack({ ...env, record: { ...env.record, result: { ...env.record.result, body: null } } });
}

/** Decode; `withBody` false leaves the result body out (list). Throws for a value that holds no call record. */
export function decodeEnvelope(value: Uint8Array, withBody = true): Envelope {
  const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const length = view.byteLength >= 4 ? view.readUInt32BE(0) : -1;
  if (length < 0 || 4 + length > view.byteLength) throw new Error(`undecodable record: length ${length} does not fit ${view.byteLength} bytes`);
  const stored = JSON.parse(view.subarray(4, 4 + length).toString('utf8')) as Partial<Stored> | null;
  if (!isRecord(stored?.record)) throw new Error('undecodable record: no call record in the value');
  const record = stored.record;
  const lease = stored.lease ?? null;
  if (record.result === null || !stored.body || !withBody) return { record, lease };
  const body = new Uint8Array(view.subarray(4 + length)); // a copy: the message buffer may be reused
  return { record: { ...record, result: { ...record.result, body } }, lease };
}

/** The fields every reader of a record relies on (listing, depth, sweep, leases). */
function isRecord(value: unknown): value is CallRecord {
  const r = value as Partial<CallRecord> | null | undefined;
  return typeof r === 'object' && r !== null && typeof r.id === 'string' && typeof r.functionName === 'string'
    && typeof r.status === 'string' && (CALL_STATUSES as readonly string[]).includes(r.status)
    && typeof r.acceptedAt === 'number' && typeof r.round === 'number' && Array.isArray(r.attempts)
    && (r.result === null || typeof r.result === 'object') && typeof r.callback === 'object' && r.callback !== null;
}

function pack(env: Envelope): Uint8Array {
  const body = env.record.result?.body ?? null;
  // The record is copied only to take the body out of its JSON; the JSON is written straight into the value.
  const { result } = env.record;
  const record = result === null || result.body === null ? env.record : { ...env.record, result: { ...result, body: null } };
  const json = JSON.stringify({ record, lease: env.lease, body: body !== null } satisfies Stored);
  const jsonBytes = Buffer.byteLength(json);
  const out = Buffer.allocUnsafe(4 + jsonBytes + (body?.byteLength ?? 0));
  out.writeUInt32BE(jsonBytes, 0);
  out.write(json, 4, 'utf8');
  if (body !== null) out.set(body, 4 + jsonBytes);
  return out;
}

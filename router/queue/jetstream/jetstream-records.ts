// Record operations that need no lease: get, list, cancel, redrive, depth, sweep. A call's record is
// in KV once a worker leased it (or it was cancelled); before that, only in its message (an accept is
// one publish), so every read looks at KV, then at the stream, then at KV again (a worker may have
// written the record and acked the message between the two reads).

import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { decodeEnvelope, encodeEnvelope, type Envelope } from './jetstream-envelope.js';
import { expectRevision, type StreamPublisher } from './jetstream-publish.js';
import type { Versioned } from './jetstream-lease.js';
import { idSubjects, recordKey, recordSubject, type JetStreamNames } from './jetstream-names.js';
import { scanRecords, type OnUndecodable } from './jetstream-scan.js';
import { newestStreamRecords, streamKeys, streamRecord } from './jetstream-stream.js';
import { CallNotFoundError, CallStateError } from '../errors.js';
import { listLimit, type DepthEntry, type ListFilter } from '../queue.js';
import { isFinal, type CallRecord, type CallStatus } from '../record.js';

/** What the record operations need. */
export interface RecordContext {
  readonly kv: KV;
  /** Request bodies, one key per record (kept for redrives). */
  readonly bodies: KV;
  /** Record writes are publishes to the bucket's stream, compare-and-set by header. */
  readonly pub: StreamPublisher;
  readonly jsm: JetStreamManager;
  readonly names: JetStreamNames;
  /** Largest value one KV message may hold. */
  readonly maxValueBytes: number;
  /** Told about a value in the bucket that is not a call record (it is skipped). */
  readonly onUndecodable: OnUndecodable;
}

/** True for a failed compare-and-set (KV create of an existing key, update at an old revision). */
export function isWrongLastSequence(err: unknown): boolean {
  return (err as { code?: unknown }).code === 10071 || /wrong last sequence/i.test(String((err as Error)?.message));
}

/** The stored envelope under `key`, or null (never written, or deleted). */
export async function readEnvelope(kv: KV, key: string, withBody = true): Promise<Versioned | null> {
  const entry = await kv.get(key);
  if (entry === null || entry.operation !== 'PUT') return null;
  return { env: decodeEnvelope(entry.value, withBody), revision: entry.revision };
}

/** The call under `key`: from KV, else from its message (revision 0: not in KV yet); null when unknown. */
export async function readCall(ctx: RecordContext, key: string): Promise<Versioned | null> {
  const stored = await readEnvelope(ctx.kv, key);
  if (stored !== null) return stored;
  const message = await streamRecord(ctx.jsm, ctx.names, key);
  if (message !== null) return { env: { record: message.record, lease: null }, revision: 0, seq: message.seq };
  return readEnvelope(ctx.kv, key);
}

/**
 * Compare-and-set (revision 0: create); the new revision, or null when someone wrote in between. The
 * write is what the library's kv.create / kv.update send (a publish to `$KV.<bucket>.<key>` expecting
 * the key's last revision), made by hand (jetstream-publish.ts). A create that finds the key deleted
 * (a record swept, its id used again) goes through the library, which writes over the delete marker.
 */
export async function writeEnvelope(ctx: RecordContext, key: string, env: Envelope, revision: number): Promise<number | null> {
  const value = encodeEnvelope(env, ctx.maxValueBytes);
  try {
    return (await ctx.pub.publish(recordSubject(ctx.names, key), value, expectRevision(revision))).seq;
  } catch (err) {
    if (!isWrongLastSequence(err)) throw err;
  }
  if (revision !== 0) return null;
  try {
    return await ctx.kv.create(key, value);
  } catch (err) {
    if (isWrongLastSequence(err)) return null;
    throw err;
  }
}

/** Change a record outside any lease (cancel, redrive); `resetLease` frees it for a new message. */
export async function changeRecord(
  ctx: RecordContext, id: string, change: (r: CallRecord) => CallRecord, resetLease: boolean,
): Promise<CallRecord> {
  const key = recordKey(id);
  for (let tries = 0; ; tries++) {
    const current = await readCall(ctx, key);
    if (current === null) throw new CallNotFoundError(id);
    const record = change(current.env.record);
    const env: Envelope = { record, lease: resetLease ? null : current.env.lease };
    if ((await writeEnvelope(ctx, key, env, current.revision)) !== null) {
      // Cancelled before any lease: the message goes too, so that no worker is handed it. (Should this
      // fail, a worker's first write finds the cancelled record and does not run the call.)
      if (current.seq !== undefined && isFinal(record.status)) {
        await ctx.jsm.streams.deleteMessage(ctx.names.stream, current.seq, false).catch(() => {});
      }
      return record;
    }
    if (tries >= 10) throw new CallStateError(id, record.status, 'change: too many concurrent changes');
  }
}

/** Records matching the filter, newest accepted first, without result bodies. */
export async function listRecords(ctx: RecordContext, filter: ListFilter): Promise<CallRecord[]> {
  const statuses = filter.status === undefined ? null : ([] as CallStatus[]).concat(filter.status);
  const limit = listLimit(filter.limit);
  const stored = (await scanRecords(ctx.kv, ctx.onUndecodable)).map((s) => s.env.record);
  const inKv = new Set(stored.map((r) => recordKey(r.id)));
  const onlyMessages = statuses !== null && !statuses.includes('queued') ? []
    : await newestStreamRecords(ctx.jsm, ctx.names, filter.functionName, limit, (key) => inKv.has(key));
  return [...stored, ...onlyMessages]
    .filter((r) => (filter.functionName === undefined || r.functionName === filter.functionName)
      && (statuses === null || statuses.includes(r.status)))
    .sort((a, b) => b.acceptedAt - a.acceptedAt)
    .slice(0, limit);
}

/** Counts by function and status: the records in KV, and the calls still only messages (queued). */
export async function countRecords(ctx: RecordContext): Promise<DepthEntry[]> {
  const counts = new Map<string, DepthEntry>();
  const add = (functionName: string, status: CallStatus): void => {
    const k = `${functionName}\u0000${status}`;
    counts.set(k, { functionName, status, count: (counts.get(k)?.count ?? 0) + 1 });
  };
  const [stored, messages] = await Promise.all([scanRecords(ctx.kv, ctx.onUndecodable), streamKeys(ctx.jsm, ctx.names)]);
  for (const { key, env: { record } } of stored) {
    add(record.functionName, record.status);
    messages.delete(key);
  }
  for (const functionName of messages.values()) add(functionName, 'queued');
  return [...counts.values()];
}

/** Delete final records whose callback is settled and whose retention passed; returns the count. */
export async function sweepRecords(ctx: RecordContext, now: number, callRetentionMs: number): Promise<number> {
  const kv = ctx.kv;
  let removed = 0;
  for (const { key, revision, env: { record } } of await scanRecords(kv, ctx.onUndecodable)) {
    if (!isFinal(record.status) || record.callback.state === 'pending') continue;
    if ((record.finishedAt ?? now) + callRetentionMs > now) continue;
    try {
      await kv.delete(key, { previousSeq: revision }); // a redrive in between wins
      // A call cancelled before any worker leased it still has its message: without the record it
      // would look freshly accepted.
      if (record.status === 'cancelled') await ctx.jsm.streams.purge(ctx.names.stream, { filter: idSubjects(ctx.names, key) });
      await ctx.bodies.purge(key);
      removed++;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
  }
  return removed;
}

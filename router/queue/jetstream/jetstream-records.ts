// Record operations that need no lease: get, list, cancel, redrive, depth, sweep. Each works on the
// KV bucket through a small context, so jetstream.ts stays about connections and leases.

import type { KV } from '@nats-io/kv';
import { decodeEnvelope, encodeEnvelope, type Envelope } from './jetstream-envelope.js';
import type { Versioned } from './jetstream-lease.js';
import { recordKey } from './jetstream-names.js';
import { scanRecords, type OnUndecodable } from './jetstream-scan.js';
import { CallNotFoundError, CallStateError } from '../errors.js';
import { listLimit, type DepthEntry, type ListFilter } from '../queue.js';
import { isFinal, type CallRecord, type CallStatus } from '../record.js';

/** What the record operations need. */
export interface RecordContext {
  readonly kv: KV;
  /** Request bodies, one key per record (kept for redrives). */
  readonly bodies: KV;
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

/** Compare-and-set; the new revision, or null when someone wrote in between. */
export async function writeEnvelope(ctx: RecordContext, key: string, env: Envelope, revision: number): Promise<number | null> {
  try {
    return await ctx.kv.update(key, encodeEnvelope(env, ctx.maxValueBytes), revision);
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
    const current = await readEnvelope(ctx.kv, key);
    if (current === null) throw new CallNotFoundError(id);
    const record = change(current.env.record);
    const env: Envelope = { record, lease: resetLease ? null : current.env.lease };
    if ((await writeEnvelope(ctx, key, env, current.revision)) !== null) return record;
    if (tries >= 10) throw new CallStateError(id, record.status, 'change: too many concurrent changes');
  }
}

/** Records matching the filter, newest accepted first, without result bodies. */
export async function listRecords(ctx: RecordContext, filter: ListFilter): Promise<CallRecord[]> {
  const statuses = filter.status === undefined ? null : ([] as CallStatus[]).concat(filter.status);
  return (await scanRecords(ctx.kv, ctx.onUndecodable))
    .map((s) => s.env.record)
    .filter((r) => (filter.functionName === undefined || r.functionName === filter.functionName)
      && (statuses === null || statuses.includes(r.status)))
    .sort((a, b) => b.acceptedAt - a.acceptedAt)
    .slice(0, listLimit(filter.limit));
}

/** Counts by function and status. */
export async function countRecords(ctx: RecordContext): Promise<DepthEntry[]> {
  const counts = new Map<string, DepthEntry>();
  for (const { env: { record } } of await scanRecords(ctx.kv, ctx.onUndecodable)) {
    const k = `${record.functionName}\u0000${record.status}`;
    const prev = counts.get(k);
    counts.set(k, { functionName: record.functionName, status: record.status, count: (prev?.count ?? 0) + 1 });
  }
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
      await ctx.bodies.purge(key);
      removed++;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
  }
  return removed;
}

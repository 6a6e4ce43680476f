// Reading every record at once (list, depth, sweep): one ordered consumer over the bucket's stream
// delivering the last value per key, stopped when the server says nothing is pending. O(records) per
// call, so depth() is cached briefly and the background sweep runs rarely.

import type { KV } from '@nats-io/kv';
import { decodeEnvelope } from './jetstream-envelope.js';
import type { Versioned } from './jetstream-lease.js';

/** One live record with its key and revision. */
export interface Scanned extends Versioned {
  readonly key: string;
}

/** Told about a value that holds no call record; the scan goes on without it. */
export type OnUndecodable = (key: string, revision: number, reason: string) => void;

/**
 * Every live record in the bucket, without result bodies. Bounded by `timeoutMs`. A value that is not
 * a call record is skipped and reported: one bad value must not hide every good one.
 */
export async function scanRecords(kv: KV, onUndecodable: OnUndecodable, timeoutMs = 10_000): Promise<Scanned[]> {
  const status = await kv.status();
  if (status.values === 0) return [];
  const out: Scanned[] = [];
  const watch = await kv.watch({ ignoreDeletes: false });
  const timer = setTimeout(() => watch.stop(), timeoutMs);
  try {
    for await (const e of watch) {
      if (e.operation === 'PUT') {
        try {
          out.push({ key: e.key, revision: e.revision, env: decodeEnvelope(e.value, false) });
        } catch (err) {
          onUndecodable(e.key, e.revision, (err as Error).message);
        }
      }
      if ((e.delta ?? 0) === 0) break; // the last value of the snapshot
    }
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
  return out;
}

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

/** Every live record in the bucket, without result bodies. Bounded by `timeoutMs`. */
export async function scanRecords(kv: KV, timeoutMs = 10_000): Promise<Scanned[]> {
  const status = await kv.status();
  if (status.values === 0) return [];
  const out: Scanned[] = [];
  const watch = await kv.watch({ ignoreDeletes: false });
  const timer = setTimeout(() => watch.stop(), timeoutMs);
  try {
    for await (const e of watch) {
      if (e.operation === 'PUT') out.push({ key: e.key, revision: e.revision, env: decodeEnvelope(e.value, false) });
      if ((e.delta ?? 0) === 0) break; // the last value of the snapshot
    }
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
  return out;
}

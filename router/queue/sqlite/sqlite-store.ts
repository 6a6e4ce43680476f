// The sqlite file: schema, pragmas, and the row <-> record codec. One row per call holds both the
// message (ready_at, lease_token, deliveries) and the record (JSON, plus the bodies as BLOBs).
// A row is "in the queue" while ready_at is set: visible when ready_at <= now, leased while a
// lease_token is set and ready_at (the lease deadline) is in the future.

import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { CallRecord } from '../record.js';

export type Db = Database.Database;

/** A row as read back. */
export interface CallRow {
  readonly seq: number;
  readonly id: string;
  readonly record: string;
  readonly body: Buffer;
  readonly result_body: Buffer | null;
  readonly ready_at: number | null;
  readonly lease_token: string | null;
  readonly deliveries: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS calls (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT    NOT NULL UNIQUE,
  function_name TEXT    NOT NULL,
  status        TEXT    NOT NULL,
  accepted_at   INTEGER NOT NULL,
  finished_at   INTEGER,
  ready_at      INTEGER,
  lease_token   TEXT,
  deliveries    INTEGER NOT NULL DEFAULT 0,
  record        TEXT    NOT NULL,
  body          BLOB    NOT NULL,
  result_body   BLOB
);
CREATE INDEX IF NOT EXISTS calls_ready ON calls (ready_at, seq) WHERE ready_at IS NOT NULL;
-- Each function's first call in the queue in a few seeks (leases that skip busy functions).
CREATE INDEX IF NOT EXISTS calls_ready_by_function ON calls (function_name, ready_at, seq) WHERE ready_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS calls_by_function ON calls (function_name, status, seq);
-- Earlier files had an index on (status, seq): every lease and every result rewrote an entry of it; list()
-- reads calls_by_function instead (sqlite-list.ts).
DROP INDEX IF EXISTS calls_by_status;
CREATE INDEX IF NOT EXISTS calls_finished ON calls (finished_at) WHERE finished_at IS NOT NULL;
`;

/**
 * mkdir -p, one level at a time from the nearest folder that exists: Node 20's recursive mkdirSync spins
 * forever on a path under /proc (`sqlite:/proc/x/q.db` hung the router at 100 % CPU); this fails with ENOENT.
 */
function makeFolders(folder: string): void {
  const missing: string[] = [];
  for (let f = folder; !existsSync(f) && dirname(f) !== f; f = dirname(f)) missing.unshift(f);
  for (const f of missing) mkdirSync(f);
}

/** Open (creating if needed) the queue file in WAL mode, ready for several processes. */
export function openDb(path: string): Db {
  makeFolders(dirname(path));
  const db = new Database(path);
  // Opening happens before the process serves anything, and two processes starting together on a new
  // file both create the schema: here waiting inside SQLite for the other's lock is harmless.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  // NORMAL: a commit survives a process crash (kill -9) because it is in the WAL in the OS page cache;
  // only power loss can drop the last commits. Enqueue batches switch to FULL (see sqlite.ts).
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  // From now on a lock held by another process must never stop this thread: SQLITE_BUSY at once,
  // retried asynchronously (busy.ts).
  db.pragma('busy_timeout = 0');
  return db;
}

/** The record as stored: JSON without the result body (that lives in its own BLOB column). */
export function encodeRecord(record: CallRecord): string {
  const result = record.result === null ? null : { ...record.result, body: null };
  return JSON.stringify({ ...record, result });
}

/** The record from a row; the result body is attached only when `withBody`. */
export function decodeRecord(row: Pick<CallRow, 'record' | 'result_body'>, withBody: boolean): CallRecord {
  const record = JSON.parse(row.record) as CallRecord;
  if (record.result === null || !withBody) return record;
  return { ...record, result: { ...record.result, body: row.result_body } };
}

/** The result body column for a record. */
export function resultBody(record: CallRecord): Buffer | null {
  const body = record.result?.body ?? null;
  return body === null ? null : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

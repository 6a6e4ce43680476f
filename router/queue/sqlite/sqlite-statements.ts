// Every SQL statement of the sqlite queue, prepared once per connection.

import type Database from 'better-sqlite3';
import type { CallRow, Db } from './sqlite-store.js';

type Stmt<P extends unknown[] | {}, R = unknown> = Database.Statement<P, R>;

/** The prepared statements. */
export interface Statements {
  readonly insert: Stmt<[InsertParams]>;
  readonly byId: Stmt<[string], CallRow>;
  /** The row without the request body: what a lease operation needs. */
  readonly bySeq: Stmt<[number], Omit<CallRow, 'body'>>;
  readonly lease: Stmt<[{ now: number; until: number; token: string }], CallRow>;
  /** lease, skipping the functions in `busy` (a JSON array of names). */
  readonly leaseExcept: Stmt<[{ now: number; until: number; token: string; busy: string }], CallRow>;
  readonly nextDue: Stmt<[], { due: number | null }>;
  readonly nextDueExcept: Stmt<[{ busy: string }], { due: number | null }>;
  readonly update: Stmt<[UpdateParams]>;
  readonly depth: Stmt<[], { function_name: string; status: string; count: number }>;
  readonly sweep: Stmt<[{ cutoff: number }]>;
  readonly touch: Stmt<[], { seq: number | null }>;
}

interface InsertParams {
  id: string; function_name: string; status: string; accepted_at: number; ready_at: number; record: string; body: Buffer;
}

interface UpdateParams {
  seq: number; status: string; finished_at: number | null; record: string; result_body: Buffer | null;
  ready_at: number | null; lease_token: string | null; reset: number;
}

const ROW = 'seq, id, record, body, result_body, ready_at, lease_token, deliveries';

/** Prepare the statements on an open queue database. */
export function prepareStatements(db: Db): Statements {
  return {
    // OR IGNORE on the UNIQUE id: the idempotency key. A duplicate changes nothing and reports 0 changes.
    insert: db.prepare(`INSERT OR IGNORE INTO calls (id, function_name, status, accepted_at, ready_at, record, body)
      VALUES (@id, @function_name, @status, @accepted_at, @ready_at, @record, @body)`),
    byId: db.prepare(`SELECT ${ROW} FROM calls WHERE id = ?`),
    bySeq: db.prepare('SELECT seq, id, record, result_body, ready_at, lease_token, deliveries FROM calls WHERE seq = ?'),
    // One statement = one write transaction: the row is chosen and claimed under the same lock, so
    // concurrent processes can never both claim it. The deadline doubles as the redelivery time.
    lease: db.prepare(`UPDATE calls SET ready_at = @until, lease_token = @token, deliveries = deliveries + 1
      WHERE seq = (SELECT seq FROM calls WHERE ready_at IS NOT NULL AND ready_at <= @now ORDER BY ready_at, seq LIMIT 1)
      RETURNING ${ROW}`),
    // The busy functions' calls stay where they are (not leased, deliveries unchanged); the scan walks
    // calls_ready past them, so a long backlog of a busy function costs a longer scan, not a lease.
    leaseExcept: db.prepare(`UPDATE calls SET ready_at = @until, lease_token = @token, deliveries = deliveries + 1
      WHERE seq = (SELECT seq FROM calls WHERE ready_at IS NOT NULL AND ready_at <= @now
        AND function_name NOT IN (SELECT value FROM json_each(@busy)) ORDER BY ready_at, seq LIMIT 1)
      RETURNING ${ROW}`),
    nextDue: db.prepare('SELECT MIN(ready_at) AS due FROM calls WHERE ready_at IS NOT NULL'),
    nextDueExcept: db.prepare(`SELECT MIN(ready_at) AS due FROM calls WHERE ready_at IS NOT NULL
      AND function_name NOT IN (SELECT value FROM json_each(@busy))`),
    update: db.prepare(`UPDATE calls SET status = @status, finished_at = @finished_at, record = @record,
      result_body = @result_body, ready_at = @ready_at, lease_token = @lease_token,
      deliveries = CASE WHEN @reset = 1 THEN 0 ELSE deliveries END
      WHERE seq = @seq`),
    depth: db.prepare(`SELECT function_name, status, COUNT(*) AS count FROM calls
      GROUP BY function_name, status ORDER BY function_name, status`),
    // Only final records whose message has left the queue (a pending callback keeps its record).
    sweep: db.prepare(`DELETE FROM calls WHERE finished_at IS NOT NULL AND finished_at < @cutoff AND ready_at IS NULL`),
    // Health reads the table itself (its b-tree's last page, O(log n)), not just the connection.
    touch: db.prepare('SELECT MAX(seq) AS seq FROM calls'),
  };
}

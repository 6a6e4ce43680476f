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
  /** lease of one row chosen by the caller (inside a transaction), if it is still visible. */
  readonly leaseSeq: Stmt<[{ seq: number; now: number; until: number; token: string }], CallRow>;
  /** The first visible row (by ready_at, seq), read inside the transaction that leases it. */
  readonly headRow: Stmt<[{ now: number }], CallRow>;
  /** The row at seq if it is visible now. */
  readonly rowAt: Stmt<[{ seq: number; now: number }], CallRow>;
  /** lease of a row read in the same transaction, with its attempt begun: one row write. */
  readonly leaseBegun: Stmt<[{ seq: number; until: number; token: string; status: string; record: string }]>;
  readonly nextDue: Stmt<[], { due: number | null }>;
  /** Every function's first call in the queue (by ready_at, seq): one index seek per function. */
  readonly heads: Stmt<[], { name: string; seq: number; ready_at: number }>;
  readonly update: Stmt<[UpdateParams]>;
  /** update of a row only while it carries the lease token; `keep` leaves ready_at (the lease deadline) as it is. */
  readonly updateHeld: Stmt<[UpdateHeldParams]>;
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

interface UpdateHeldParams {
  seq: number; token: string; status: string; finished_at: number | null; record: string; result_body: Buffer | null;
  keep: number; ready_at: number | null; lease_token: string | null;
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
    leaseSeq: db.prepare(`UPDATE calls SET ready_at = @until, lease_token = @token, deliveries = deliveries + 1
      WHERE seq = @seq AND ready_at IS NOT NULL AND ready_at <= @now
      RETURNING ${ROW}`),
    headRow: db.prepare(`SELECT ${ROW} FROM calls WHERE ready_at IS NOT NULL AND ready_at <= @now ORDER BY ready_at, seq LIMIT 1`),
    rowAt: db.prepare(`SELECT ${ROW} FROM calls WHERE seq = @seq AND ready_at IS NOT NULL AND ready_at <= @now`),
    leaseBegun: db.prepare(`UPDATE calls SET ready_at = @until, lease_token = @token, deliveries = deliveries + 1,
      status = @status, record = @record WHERE seq = @seq`),
    nextDue: db.prepare('SELECT MIN(ready_at) AS due FROM calls WHERE ready_at IS NOT NULL'),
    // The distinct names by skipping along calls_ready_by_function (a seek per name, not a scan of the
    // backlog), then each name's head: a busy function's backlog costs nothing to skip.
    heads: db.prepare(`WITH RECURSIVE fns(name) AS (
        SELECT (SELECT function_name FROM calls WHERE ready_at IS NOT NULL ORDER BY function_name LIMIT 1)
        UNION ALL
        SELECT (SELECT function_name FROM calls WHERE ready_at IS NOT NULL AND function_name > fns.name ORDER BY function_name LIMIT 1)
        FROM fns WHERE fns.name IS NOT NULL)
      SELECT fns.name AS name, c.seq AS seq, c.ready_at AS ready_at FROM fns JOIN calls c ON c.seq = (
        SELECT seq FROM calls WHERE function_name = fns.name AND ready_at IS NOT NULL ORDER BY ready_at, seq LIMIT 1)
      WHERE fns.name IS NOT NULL`),
    update: db.prepare(`UPDATE calls SET status = @status, finished_at = @finished_at, record = @record,
      result_body = @result_body, ready_at = @ready_at, lease_token = @lease_token,
      deliveries = CASE WHEN @reset = 1 THEN 0 ELSE deliveries END
      WHERE seq = @seq`),
    updateHeld: db.prepare(`UPDATE calls SET status = @status, finished_at = @finished_at, record = @record,
      result_body = @result_body, ready_at = CASE WHEN @keep = 1 THEN ready_at ELSE @ready_at END, lease_token = @lease_token
      WHERE seq = @seq AND lease_token = @token`),
    // Only final records whose message has left the queue (a pending callback keeps its record).
    sweep: db.prepare(`DELETE FROM calls WHERE finished_at IS NOT NULL AND finished_at < @cutoff AND ready_at IS NULL`),
    // Health reads the table itself (its b-tree's last page, O(log n)), not just the connection.
    touch: db.prepare('SELECT MAX(seq) AS seq FROM calls'),
  };
}

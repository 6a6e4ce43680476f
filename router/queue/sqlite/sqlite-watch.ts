// watch() for the sqlite queue. Record changes may come from any process sharing the file (workers),
// so they are logged in the database itself: triggers on `calls` append (id, status, previous status)
// to `call_changes` inside the very transaction that changed the record, and a watcher reads that log
// incrementally (`WHERE seq > cursor`, one indexed range read) only while somebody watches.
//
// The triggers are created by the first watch() on a file, so a queue nobody ever watched pays nothing.
// Afterwards each record change costs one small insert and a one-row delete that keeps the log at
// LOG_ROWS entries (no sweeper needed, nothing grows when nobody watches).

import type { CallChange } from '../queue.js';
import type { CallStatus } from '../record.js';
import { CLIENT_BUDGET_MS, retryWhileBusy } from './busy.js';
import { guarded } from './sqlite-errors.js';
import { decodeRecord, type Db } from './sqlite-store.js';

/** Changes kept in the log; a watcher more than this many changes behind one poll misses the oldest. */
const LOG_ROWS = 10_000;
/** How often a watcher reads the log: changes show up within this (the dashboard promises a second). */
const DEFAULT_POLL_MS = 100;
/** Changes read per poll; more wait for the next one. */
const BATCH = 1_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS call_changes (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT NOT NULL,
  function_name TEXT NOT NULL,
  status        TEXT NOT NULL,
  previous      TEXT
);
CREATE TRIGGER IF NOT EXISTS call_changes_on_insert AFTER INSERT ON calls BEGIN
  INSERT INTO call_changes (id, function_name, status, previous) VALUES (NEW.id, NEW.function_name, NEW.status, NULL);
  DELETE FROM call_changes WHERE seq <= last_insert_rowid() - ${LOG_ROWS};
END;
CREATE TRIGGER IF NOT EXISTS call_changes_on_update AFTER UPDATE OF record ON calls WHEN OLD.record IS NOT NEW.record BEGIN
  INSERT INTO call_changes (id, function_name, status, previous) VALUES (NEW.id, NEW.function_name, NEW.status, OLD.status);
  DELETE FROM call_changes WHERE seq <= last_insert_rowid() - ${LOG_ROWS};
END;
`;

interface ChangeRow {
  readonly seq: number;
  readonly id: string;
  readonly function_name: string;
  readonly status: string;
  readonly previous: string | null;
}

/** The watchers of one sqlite queue: one poll timer while there is at least one. */
export class SqliteWatch {
  private readonly subscribers = new Set<(change: CallChange) => void>();
  private timer: NodeJS.Timeout | null = null;
  private cursor = 0;
  private logged = false;

  constructor(private readonly db: Db, private readonly pollMs = DEFAULT_POLL_MS) {}

  /** Start following changes made from now on; resolves with the unsubscribe. */
  async subscribe(onChange: (change: CallChange) => void): Promise<() => void> {
    if (!this.logged) {
      // Creating the log and its triggers writes: a lock held by another process is waited for like an accept.
      await retryWhileBusy(() => guarded(() => this.db.exec(SCHEMA)), CLIENT_BUDGET_MS);
      this.logged = true;
    }
    if (this.subscribers.size === 0) this.start();
    this.subscribers.add(onChange);
    return () => {
      this.subscribers.delete(onChange);
      if (this.subscribers.size === 0) this.stop();
    };
  }

  private start(): void {
    // A read: in WAL mode it never waits for another process's write lock.
    this.cursor = guarded(() => this.db.prepare<[], { seq: number }>('SELECT COALESCE(MAX(seq), 0) AS seq FROM call_changes').get()!.seq);
    this.timer = setInterval(() => this.poll(), this.pollMs).unref();
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private poll(): void {
    if (!this.db.open) { this.stop(); return; } // the queue was closed
    let rows: ChangeRow[];
    const records = new Map<string, CallChange['record']>();
    try {
      rows = this.db.prepare<[number, number], ChangeRow>(
        'SELECT seq, id, function_name, status, previous FROM call_changes WHERE seq > ? ORDER BY seq LIMIT ?').all(this.cursor, BATCH);
      const byId = this.db.prepare<[string], { record: string }>('SELECT record FROM calls WHERE id = ?');
      for (const row of rows) {
        if (records.has(row.id)) continue;
        const found = byId.get(row.id);
        records.set(row.id, found === undefined ? null : decodeRecord({ record: found.record, result_body: null }, false));
      }
    } catch {
      return; // locked by another process (or unreadable): skip this round, the next poll reads the same changes
    }
    for (const row of rows) {
      this.cursor = row.seq;
      const change: CallChange = {
        id: row.id, functionName: row.function_name, status: row.status as CallStatus,
        previous: row.previous as CallStatus | null, record: records.get(row.id) ?? null,
      };
      for (const fn of this.subscribers) {
        try {
          fn(change);
        } catch {
          // one watcher's bug must not stop the others
        }
      }
    }
  }
}

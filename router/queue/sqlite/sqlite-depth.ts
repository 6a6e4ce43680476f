// depth() for the sqlite queue, counted without holding the event loop. The queue keeps every final
// record for call_retention (a week by default: a million rows is under 2 calls a second), and one
// GROUP BY over them ran on the router's one thread at every /metrics scrape and dashboard sample:
// 67-88 ms per million rows on a fast host, every request in the meantime waiting behind it.
//
// The count is split into slices: per (function, status), COUNT(*) over ranges of SPAN sequence numbers
// of calls_by_function (a covering index range: no row is read), yielding to the event loop after
// TURN_MS of them. A read transaction on a connection of its own keeps one snapshot over every slice,
// so the result is what one GROUP BY would have said at the count's start; in WAL mode that reader
// never waits for, nor stops, the writers. Concurrent depth() calls share the count under way.
// Kept counts (triggers on every status change) were measured first and left: they made each call's
// lease-and-result cycle cost ~20 µs (45 %) more CPU, for every call, to save work done per scrape.

import Database from 'better-sqlite3';
import { QueueClosedError } from '../errors.js';
import type { DepthEntry } from '../queue.js';
import type { CallStatus } from '../record.js';
import { CLIENT_BUDGET_MS, retryWhileBusy } from './busy.js';
import { guarded } from './sqlite-errors.js';
import type { Db } from './sqlite-store.js';

/** Sequence numbers per slice: at most this many index entries are counted in one statement. */
const SPAN = 50_000;
/** Slices run back to back for this long, then the event loop gets a turn. */
const TURN_MS = 4;

interface Group {
  readonly fn: string;
  readonly st: string;
}

interface Statements {
  readonly firstGroup: Database.Statement<[], Group>;
  readonly nextStatus: Database.Statement<[Group], Group>;
  readonly nextFunction: Database.Statement<[Group], Group>;
  readonly bounds: Database.Statement<[Group], { lo: number; hi: number }>;
  readonly slice: Database.Statement<[Group & { lo: number; hi: number }], { n: number }>;
}

// Each a seek on calls_by_function (function_name, status, seq). The lowest and highest seq are two
// subqueries: MIN and MAX in one SELECT would scan the whole group.
function prepare(db: Db): Statements {
  return {
    firstGroup: db.prepare('SELECT function_name AS fn, status AS st FROM calls ORDER BY function_name, status LIMIT 1'),
    nextStatus: db.prepare(`SELECT function_name AS fn, status AS st FROM calls WHERE function_name = @fn AND status > @st
      ORDER BY status LIMIT 1`),
    nextFunction: db.prepare('SELECT function_name AS fn, status AS st FROM calls WHERE function_name > @fn ORDER BY function_name, status LIMIT 1'),
    bounds: db.prepare(`SELECT (SELECT seq FROM calls WHERE function_name = @fn AND status = @st ORDER BY seq LIMIT 1) AS lo,
      (SELECT seq FROM calls WHERE function_name = @fn AND status = @st ORDER BY seq DESC LIMIT 1) AS hi`),
    slice: db.prepare('SELECT COUNT(*) AS n FROM calls WHERE function_name = @fn AND status = @st AND seq >= @lo AND seq < @hi'),
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The depth of one sqlite queue file, counted in slices on a read-only connection opened at the first count. */
export class SqliteDepth {
  private reader: { readonly db: Db; readonly st: Statements } | undefined;
  private counting: Promise<DepthEntry[]> | undefined;
  private closed = false;

  constructor(private readonly path: string) {}

  /** Calls by function and status (no rows with 0), ordered by function, then status. */
  depth(): Promise<DepthEntry[]> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    // A failed count is not shared with the next caller: it starts a count of its own.
    return this.counting ??= retryWhileBusy(() => this.count(), CLIENT_BUDGET_MS).finally(() => {
      this.counting = undefined;
      if (this.closed) this.shut();
    });
  }

  /** No new counts; a count under way stops at its next turn and the connection closes with it. */
  close(): void {
    this.closed = true;
    if (this.counting === undefined) this.shut();
  }

  private async count(): Promise<DepthEntry[]> {
    const { db, st } = this.reader ??= guarded(() => {
      const db = new Database(this.path, { readonly: true, fileMustExist: true });
      return { db, st: prepare(db) };
    });
    // The snapshot starts at the first read after BEGIN and holds until COMMIT.
    guarded(() => db.exec('BEGIN'));
    try {
      const out: DepthEntry[] = [];
      let since = performance.now();
      for (let g = guarded(() => st.firstGroup.get()); g !== undefined; g = guarded(() => st.nextStatus.get(g!) ?? st.nextFunction.get(g!))) {
        const group = g;
        const { lo, hi } = guarded(() => st.bounds.get(group)!);
        let count = 0;
        for (let from = lo; from <= hi; from += SPAN) {
          count += guarded(() => st.slice.get({ ...group, lo: from, hi: from + SPAN })!.n);
          if (performance.now() - since < TURN_MS) continue;
          await turn();
          if (this.closed) throw new QueueClosedError();
          since = performance.now();
        }
        if (count > 0) out.push({ functionName: group.fn, status: group.st as CallStatus, count });
      }
      return out;
    } finally {
      if (db.open && db.inTransaction) db.exec('COMMIT');
    }
  }

  private shut(): void {
    this.reader?.db.close();
    this.reader = undefined;
  }
}

// list() for the sqlite queue, newest first, without an index of its own.
//
// Every status change of a call rewrites its entry in each index that holds the status, and a call
// changes status at its lease and at its end: an index on (status, seq) beside calls_by_function
// (function_name, status, seq) cost a draining worker 0.4 WAL pages per call (2.2 → 1.8) and ~10 %
// of its SQL time, for a query the dashboard and `whippet calls list` make now and then. So list()
// reads calls_by_function alone: for each function (found by seeking from one name to the next) and
// each status asked for, the newest `limit` sequence numbers of that (function, status) range, read
// backwards from the index alone; the newest `limit` of those are the answer, and only their records
// are read. That is a few index seeks per (function, status) whatever the number of rows, where a
// filter by function alone used to sort all of the function's rows.

import type Database from 'better-sqlite3';
import type { ListFilter } from '../queue.js';
import { CALL_STATUSES, type CallRecord, type CallStatus } from '../record.js';
import { decodeRecord, type CallRow, type Db } from './sqlite-store.js';

type Stmt<P extends unknown[] | {}, R = unknown> = Database.Statement<P, R>;

interface ListStatements {
  /** No filter: the newest rows by the primary key. */
  readonly newest: Stmt<[number], Pick<CallRow, 'record' | 'result_body'>>;
  readonly firstName: Stmt<[], { name: string }>;
  readonly nextName: Stmt<[string], { name: string }>;
  /** The newest sequence numbers of one (function, status) range of calls_by_function. */
  readonly newestOf: Stmt<[string, string, number], { seq: number }>;
  readonly recordAt: Stmt<[number], Pick<CallRow, 'record' | 'result_body'>>;
}

/** The listing of one queue connection. */
export class SqliteList {
  private readonly st: ListStatements;
  /** One read transaction: the seeks and the records read see one snapshot (the sweeper may delete between statements). */
  private readonly read: (filter: ListFilter, limit: number) => CallRecord[];

  constructor(db: Db) {
    this.st = {
      newest: db.prepare('SELECT record, NULL AS result_body FROM calls ORDER BY seq DESC LIMIT ?'),
      firstName: db.prepare('SELECT function_name AS name FROM calls ORDER BY function_name LIMIT 1'),
      nextName: db.prepare('SELECT function_name AS name FROM calls WHERE function_name > ? ORDER BY function_name LIMIT 1'),
      newestOf: db.prepare('SELECT seq FROM calls WHERE function_name = ? AND status = ? ORDER BY seq DESC LIMIT ?'),
      recordAt: db.prepare('SELECT record, NULL AS result_body FROM calls WHERE seq = ?'),
    };
    this.read = db.transaction((filter: ListFilter, limit: number) => this.collect(filter, limit));
  }

  /** Records matching the filter, newest first, at most `limit`, without result bodies. */
  list(filter: ListFilter, limit: number): CallRecord[] {
    return this.read(filter, limit);
  }

  private collect(filter: ListFilter, limit: number): CallRecord[] {
    const asked = filter.status === undefined ? [] : ([] as CallStatus[]).concat(filter.status);
    if (filter.functionName === undefined && asked.length === 0) return this.st.newest.all(limit).map((row) => decodeRecord(row, false));
    const statuses = new Set(asked.length === 0 ? CALL_STATUSES : asked);
    const seqs: number[] = [];
    for (const name of filter.functionName === undefined ? this.names() : [filter.functionName]) {
      for (const status of statuses) for (const { seq } of this.st.newestOf.all(name, status, limit)) seqs.push(seq);
    }
    seqs.sort((a, b) => b - a);
    return seqs.slice(0, limit).map((seq) => decodeRecord(this.st.recordAt.get(seq)!, false));
  }

  /** Every function with a record, one index seek each. */
  private *names(): Generator<string> {
    for (let row = this.st.firstName.get(); row !== undefined; row = this.st.nextName.get(row.name)) yield row.name;
  }
}

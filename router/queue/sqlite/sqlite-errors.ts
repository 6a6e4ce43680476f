// better-sqlite3's failures in the queue's vocabulary. Only this folder knows SQLITE_* codes: the rest
// of the router sees QueueBusyError for a file another process holds locked (retried first, busy.ts),
// and QueueUnavailableError (503, retry later) for a file that is gone or broken.

import { QueueBusyError, QueueUnavailableError } from '../errors.js';

/** Driver codes that mean "the store cannot serve right now", with the reason a client is told. */
const UNAVAILABLE: ReadonlyArray<readonly [prefix: string, reason: string]> = [
  ['SQLITE_LOCKED', 'database is locked'],
  ['SQLITE_CORRUPT', 'database file is corrupt'],
  ['SQLITE_NOTADB', 'database file is corrupt'],
  ['SQLITE_IOERR', 'database file cannot be read or written'],
  ['SQLITE_READONLY', 'database file is read-only'],
  ['SQLITE_FULL', 'disk full'],
  ['SQLITE_CANTOPEN', 'database file cannot be opened'],
];

/** The queue error for a driver error, or the error itself when it is not the store's condition (a bug). */
export function queueErrorOf(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return err;
  // SQLITE_BUSY and its extended codes (_SNAPSHOT, _RECOVERY): another connection holds the lock.
  if (code.startsWith('SQLITE_BUSY')) return new QueueBusyError(0, { cause: err });
  const match = UNAVAILABLE.find(([prefix]) => code.startsWith(prefix));
  return match === undefined ? err : new QueueUnavailableError(match[1], { cause: err });
}

/** Run one database step; driver errors that mean "locked" or "unavailable" become QueueBusyError or QueueUnavailableError. */
export function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw queueErrorOf(err);
  }
}

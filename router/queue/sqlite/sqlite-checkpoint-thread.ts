// The checkpointer's thread (sqlite-checkpoint.ts): a connection of its own to the queue file that copies
// the WAL's committed pages into the database file with PASSIVE checkpoints. A PASSIVE checkpoint never
// waits for nor blocks a reader or a writer; its two fsyncs (the WAL before copying, the file after) wait
// here instead of on the event loop of the process serving calls.
//
// Rounds come every `activeMs` while the WAL moves and every `idleMs` once a round found nothing to copy.
// A round that fails (another connection is checkpointing: SQLITE_BUSY) is simply the next round's work.
// The thread ends when told to ("close") or when its connection cannot be opened ("failed" is posted and
// the process serving calls checkpoints on its own connection again).

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** What the owner passes. */
export interface CheckpointThreadData {
  readonly path: string;
  readonly activeMs: number;
  readonly idleMs: number;
}

/** One row of `PRAGMA wal_checkpoint`: frames in the WAL, and how many of them are in the file now. */
interface CheckpointRow {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

const port = parentPort!;
const { path, activeMs, idleMs } = workerData as CheckpointThreadData;

function open(): Database.Database | undefined {
  try {
    const db = new Database(path, { fileMustExist: true });
    // NORMAL: the WAL is synced before each checkpoint and the file after it, as on the serving connection.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 0');
    return db;
  } catch (err) {
    port.postMessage({ failed: (err as Error).message });
    return undefined;
  }
}

function serve(db: Database.Database): void {
  let last = '';
  let timer: NodeJS.Timeout | undefined;
  const round = (): void => {
    let seen = last;
    try {
      const [row] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointRow[];
      if (row !== undefined) seen = `${row.log}/${row.checkpointed}`;
    } catch {
      seen = ''; // busy (another checkpoint under way) or a passing I/O error: look again soon
    }
    const moved = seen !== last;
    last = seen;
    timer = setTimeout(round, moved ? activeMs : idleMs);
  };
  port.on('message', (message: unknown) => {
    if (message !== 'close') return;
    clearTimeout(timer);
    db.close();
    port.close();
  });
  port.postMessage({ ready: true });
  round();
}

const db = open();
if (db === undefined) port.close(); else serve(db);

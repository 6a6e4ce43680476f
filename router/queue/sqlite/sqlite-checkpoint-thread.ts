// The checkpointer's thread (sqlite-checkpoint.ts): a connection of its own to the queue file that copies
// the WAL's committed pages into the database file with PASSIVE checkpoints. A PASSIVE checkpoint never
// waits for nor blocks a reader or a writer; its two fsyncs (the WAL before copying, the file after) wait
// here instead of on the event loop of the process serving calls.
//
// The WAL starts again from its beginning only when a writer begins at a moment when every frame has been
// copied, and under a steady stream of commits a PASSIVE round never finds that moment (a drain of 60,000
// calls left a 530 MB WAL). So once the WAL holds `restartFrames` frames, the round is followed by a
// RESTART checkpoint: it takes the write lock (without waiting: if a commit holds it, the next round tries
// again within a millisecond), copies the few frames the PASSIVE round left, and makes the next writer start
// the WAL afresh.
// The serving connection meets that lock for a millisecond or two, as it would another process's commit.
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
  readonly restartFrames: number;
}

/** One row of `PRAGMA wal_checkpoint`: frames in the WAL, and how many of them are in the file now. */
interface CheckpointRow {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

/** The pause before another RESTART when one met the write lock, and how many such tries in a row. */
const RETRY_MS = 1;
const RETRIES = 20;

const port = parentPort!;
const { path, activeMs, idleMs, restartFrames } = workerData as CheckpointThreadData;

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
  let refused = 0;
  let timer: NodeJS.Timeout | undefined;
  const round = (): void => {
    let seen = '';
    let retry = false;
    try {
      const [row] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointRow[];
      seen = row === undefined ? '' : `${row.log}/${row.checkpointed}`;
      if (row !== undefined && row.log >= restartFrames) {
        const [restart] = db.pragma('wal_checkpoint(RESTART)') as CheckpointRow[];
        refused = restart !== undefined && restart.busy !== 0 ? refused + 1 : 0;
        // A commit held the write lock: the serving connection's transactions are short, so the next try comes
        // at once; a reader that keeps the WAL for longer is left to the rounds' pace.
        retry = refused > 0 && refused <= RETRIES;
      }
    } catch {
      // busy (another connection is checkpointing) or a passing I/O error: the next round's work
    }
    const moved = seen !== last;
    last = seen;
    timer = setTimeout(round, retry ? RETRY_MS : moved ? activeMs : idleMs);
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

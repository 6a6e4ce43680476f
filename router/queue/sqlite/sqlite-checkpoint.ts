// Checkpoints off the event loop. In WAL mode every commit appends pages to the WAL, and SQLite's own
// checkpoint (after a commit that takes the WAL past 1,000 pages) copies them into the database file inside
// that commit, with an fsync of the WAL and one of the file: on a busy worker that was one commit every
// ~300 calls holding the event loop for the copy and two fsyncs. On a 2-core VM (6 Dec 2026), a worker
// draining a backlog into a fast function went from 4,785-5,095 to 5,451-5,841 calls/s with this thread
// (alternating runs), and to 6,570 with no checkpoint at all (not an option: the WAL would grow forever).
//
// So once a connection has committed START_AFTER_COMMITS write transactions (a process that writes a few rows,
// a test, a CLI command, never pays for a thread), a worker thread (sqlite-checkpoint-thread.ts) opens the file
// and runs PASSIVE checkpoints, and the serving connection stops checkpointing (wal_autocheckpoint = 0).
// Nothing about durability changes: commits are synced as before and the checkpoint moves only committed
// pages; the thread restarts the WAL once it holds RESTART_FRAMES frames, so it stays bounded. If the thread cannot
// start, cannot open the file or stops, the serving connection checkpoints on its own again (the default 1,000
// pages), so the WAL never grows unchecked because of this.

import { Worker } from 'node:worker_threads';
import type { CheckpointThreadData } from './sqlite-checkpoint-thread.js';
import type { Db } from './sqlite-store.js';

/** Write transactions before the thread starts. */
export const START_AFTER_COMMITS = 200;
/** SQLite's default wal_autocheckpoint, restored when the thread is not there. */
const AUTOCHECKPOINT_PAGES = 1000;
/** How often the thread checkpoints while the WAL moves (at 6,000 calls/s, ~6 MB of WAL between rounds). */
const ACTIVE_MS = 50;
/** …and once a round found nothing new. */
const IDLE_MS = 1000;
/** A WAL this long (frames of one page, 4 KiB by default: 32 MB) is restarted (sqlite-checkpoint-thread.ts). */
export const RESTART_FRAMES = 8192;
/** close() waits this long for the thread to close its connection, then stops it. */
const CLOSE_WAIT_MS = 2000;

type State = 'waiting' | 'starting' | 'running' | 'fallen back' | 'closed';

/** Settings (the defaults above) and who hears of a fall-back. */
export interface CheckpointerOptions {
  readonly startAfter?: number;
  readonly restartFrames?: number;
  /** The thread could not start or stopped: the serving connection checkpoints again (logged by the queue). */
  readonly onFallBack?: (reason: string) => void;
}

/** The checkpointer of one serving connection. */
export class SqliteCheckpointer {
  private commits = 0;
  private thread: Worker | undefined;
  private state: State = 'waiting';
  /** Why the thread is not checkpointing (fallen back). */
  private why: string | undefined;

  constructor(private readonly db: Db, private readonly path: string, private readonly options: CheckpointerOptions = {}) {}

  /** Who checkpoints now: the serving connection (waiting, fallen back, closed) or the thread. */
  get mode(): { readonly thread: boolean; readonly state: State; readonly reason?: string } {
    return { thread: this.state === 'running', state: this.state, ...(this.why === undefined ? {} : { reason: this.why }) };
  }

  /** After each committed write transaction of the serving connection. */
  committed(): void {
    if (this.state === 'waiting' && ++this.commits >= (this.options.startAfter ?? START_AFTER_COMMITS)) this.start();
  }

  /** Stop the thread (its connection closed first); the serving connection is the caller's to close. */
  async close(): Promise<void> {
    this.state = 'closed';
    const thread = this.thread;
    this.thread = undefined;
    if (thread === undefined) return;
    const exited = new Promise((resolve) => thread.once('exit', resolve));
    thread.postMessage('close');
    const timer = setTimeout(() => void thread.terminate(), CLOSE_WAIT_MS);
    await exited;
    clearTimeout(timer);
  }

  private start(): void {
    this.state = 'starting';
    const workerData: CheckpointThreadData = {
      path: this.path, activeMs: ACTIVE_MS, idleMs: IDLE_MS, restartFrames: this.options.restartFrames ?? RESTART_FRAMES,
    };
    let thread: Worker;
    try {
      // execArgv: none of the process's flags or loaders; the thread runs one compiled module.
      thread = new Worker(new URL('./sqlite-checkpoint-thread.js', import.meta.url), { workerData, execArgv: [] });
    } catch (err) {
      this.fallBack((err as Error).message);
      return;
    }
    thread.unref();
    thread.on('message', (message: { ready?: boolean; failed?: string }) => {
      if (message.failed !== undefined) this.fallBack(message.failed);
      else if (message.ready === true && this.state === 'starting') {
        this.db.pragma('wal_autocheckpoint = 0');
        this.state = 'running';
      }
    });
    thread.on('error', (err) => this.fallBack(err.message));
    thread.on('exit', (code) => {
      if (this.thread === thread) this.thread = undefined;
      this.fallBack(`checkpoint thread exited (code ${code})`);
    });
    this.thread = thread;
  }

  /** The thread is gone or never ran: the serving connection checkpoints again. Never retried. */
  private fallBack(reason: string): void {
    if (this.state === 'closed' || this.state === 'fallen back') return;
    this.state = 'fallen back';
    this.why = reason;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    void this.thread?.terminate();
    this.options.onFallBack?.(reason);
  }
}

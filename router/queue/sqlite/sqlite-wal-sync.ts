// Accepts made durable off the event loop. SQLite's synchronous=FULL syncs the WAL inside COMMIT, on
// the thread that commits: the router's one thread then waited ~0.1 ms (this VM's fdatasync) per accept
// batch, and at a steady 7,000 accepts/s with its in-process worker that wait was the difference between
// a bounded backlog and one that grew (docs/performance.md). Instead an accept batch commits with NORMAL
// (its frames are in the WAL, in the OS page cache: a crash of the process keeps them) and then the WAL
// file is fdatasync'd on libuv's thread pool; the accepts resolve (the 202s go out) only after that
// sync. Same guarantee as FULL for every accept answered: a sync covers every frame written to the file
// before it started, and a checkpoint that moved frames into the database file synced that file before
// the WAL could be reused (every whippet connection checkpoints with NORMAL, which syncs at checkpoints).
//
// One sync runs at a time; commits made while it runs share the next one, so syncs come as often as the
// disk allows and no more (1,600 a second at 17,000 accepts/s on a VM whose fdatasync takes ~0.1 ms).

import { close, fdatasync, fstat, open } from 'node:fs';
import { promisify } from 'node:util';

const openAsync = promisify(open);
const closeAsync = promisify(close);
const fstatAsync = promisify(fstat);
const fdatasyncAsync = promisify(fdatasync);

/** Makes an fd's written data durable; fdatasync on the thread pool unless a test says otherwise. */
export type SyncFile = (fd: number) => Promise<void>;

/** Syncs of one database's WAL file, coalesced. */
export class WalSync {
  private fd: Promise<number> | undefined;
  /** Commits counted by wrote(); a sync covers those counted before it started. */
  private written = 0;
  private syncedUpTo = 0;
  private running: { readonly covers: number; readonly done: Promise<void>; readonly since: number } | null = null;
  private next: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly walPath: string, private readonly syncFile: SyncFile = fdatasyncAsync) {}

  /** A commit that must be made durable has just written the file. */
  wrote(): void {
    this.written++;
  }

  /**
   * Resolves once every commit counted by wrote() so far is on disk; rejects when the file cannot be
   * opened or synced (those commits did not get that guarantee; a later sync tries again).
   */
  sync(): Promise<void> {
    if (this.syncedUpTo >= this.written) return Promise.resolve();
    if (this.running !== null && this.running.covers >= this.written) return this.running.done;
    // A sync that has not started yet covers every commit so far (also between the end of one sync and
    // the start of the next, and while closing: close() waits for it).
    if (this.next !== null) return this.next;
    if (this.closed) return Promise.reject(new Error('the queue is closing'));
    if (this.running === null) return this.start();
    // The running sync started before the latest commits: one more after it, for all of them.
    this.next = this.running.done.then(noop, noop).then(() => {
      this.next = null;
      return this.start();
    });
    return this.next;
  }

  /** Wait for the syncs under way, then close the file. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.running?.done, this.next].map((p) => p?.catch(noop)));
    const fd = await this.fd?.catch(() => undefined);
    this.fd = undefined;
    if (fd !== undefined) await closeAsync(fd).catch(noop);
  }

  /** How long the running sync has been waiting for the disk (0 when none runs). */
  stalledMs(): number {
    return this.running === null ? 0 : performance.now() - this.running.since;
  }

  private start(): Promise<void> {
    const covers = this.written;
    const done = this.run().then(() => { this.syncedUpTo = Math.max(this.syncedUpTo, covers); }).finally(() => {
      if (this.running?.done === done) this.running = null;
    });
    this.running = { covers, done, since: performance.now() };
    return done;
  }

  private async run(): Promise<void> {
    // Opened at the first sync, after a commit has written the file. O_RDWR, though nothing is written
    // through it: some systems refuse to sync a file opened read-only. No lock is held on the WAL file
    // (SQLite locks the database and the -shm), so this second descriptor cannot release one.
    const fd = await this.opened();
    await this.syncFile(fd);
    // SQLite does not remove the WAL while this process has the database open; if anything else did, the
    // sync above went to a file nobody reads: the file at the path now gets one.
    if ((await fstatAsync(fd)).nlink === 0) {
      this.fd = undefined;
      await closeAsync(fd).catch(noop);
      await this.syncFile(await this.opened());
    }
  }

  private async opened(): Promise<number> {
    const opening = this.fd ??= openAsync(this.walPath, 'r+');
    try {
      return await opening;
    } catch (err) {
      if (this.fd === opening) this.fd = undefined; // tried again at the next sync
      throw err;
    }
  }
}

function noop(): void {}

// The lock file $TMPDIR/.lock: written once the watchdog serves, removed when it drains. Exec probes of the
// OpenFaaS era check for it; /_/health checks it too unless suppress_lock is set.
// Watchdogs may share a TMPDIR (and so one .lock): the lock holds its owner's PID, a watchdog removes only a
// lock it owns, and its health depends only on its own lock. A survivor takes the lock over once its owner
// removed it, so the exec probe keeps passing while any of them serves.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LockFile {
  readonly path: string;
  /** Take the lock, unless a live process holds it. */
  write(): void;
  /** Remove the lock if it is ours. */
  remove(): void;
  /** False only when our own lock is gone (someone deleted it to fail the probe). */
  healthy(): boolean;
}

/** The PID in the lock file, NaN when it holds something else, undefined when there is none. */
function holder(path: string): number | undefined {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { return undefined; }
  return /^\d+\n?$/.test(text) ? Number(text) : NaN;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/** The lock file in `dir` (default: os.tmpdir(), which honours TMPDIR). */
export function createLockFile(dir: string = tmpdir(), pid: number = process.pid): LockFile {
  const path = join(dir, '.lock');
  let owned = false;
  /** Create the lock with our PID; a lock that names a live process other than us is left alone. */
  const take = (): void => {
    try {
      writeFileSync(path, `${pid}\n`, { flag: 'wx' });
      owned = true;
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const other = holder(path);
    if (other === pid || other === undefined || Number.isNaN(other) || !alive(other)) {
      writeFileSync(path, `${pid}\n`); // ours already, gone meanwhile, or stale: an old crash left it
      owned = true;
    }
  };
  return {
    path,
    write: take,
    remove: () => {
      if (owned && holder(path) === pid) rmSync(path, { force: true });
      owned = false;
    },
    healthy: () => {
      if (owned) return holder(path) === pid;
      // Another process's lock is no business of our health; once it is gone, it becomes ours.
      if (holder(path) === undefined) {
        try { take(); } catch { /* a read-only TMPDIR: nothing to probe either */ }
      }
      return true;
    },
  };
}

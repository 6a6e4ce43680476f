// One `whippet up` per stack: .whippet/up.lock holds the pid (and, once it listens, the router URL) of
// the up that owns the stack's state (.whippet/up/, the queue). Taken with O_EXCL before anything is
// built, so a second `up` or `npm start` is refused with who owns it instead of rebuilding the folders
// under the running watchdogs. A lock whose process is gone (up was killed with -9) is taken over.
// The port is checked next, also before anything is built (a free-port probe on the router's host).

import { readFileSync, renameSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../common/log.js';
import { PortInUseError, StackBusyError } from './errors.js';
import { shown, stateDir } from './build-folder.js';
import type { Stack } from './stack-file.js';

interface LockRecord { pid: number; url?: string; stack: string }

export interface UpLock {
  /** Add the router's URL once it listens (what a refused second `up` is told). */
  listening(url: string): void;
  /** Remove the lock if it is still this process's. */
  release(): void;
}

/** Take the stack's lock or throw StackBusyError naming the up that holds it. */
export function acquireUpLock(stack: Stack, log: Logger): UpLock {
  const file = join(stateDir(stack), 'up.lock');
  mkdirSync(stateDir(stack), { recursive: true });
  const mine: LockRecord = { pid: process.pid, stack: stack.file };
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(mine), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const held = readLock(file);
    if (held !== undefined && runsUp(held.pid)) throw new StackBusyError(held.pid, held.url, shown(file));
    // Stale (or unreadable: an up killed while writing it). Remove it and try once more; a second up
    // racing for the same stale lock loses at the O_EXCL write and reads the winner's pid.
    if (attempt > 0) throw new StackBusyError(held?.pid ?? 0, held?.url, shown(file));
    log.warn('taking over a stale lock', { lock: shown(file), pid: held?.pid, why: 'the up that wrote it is gone' });
    try { unlinkSync(file); } catch { /* another up removed it first */ }
  }
  const write = (record: LockRecord): void => {
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(record));
    renameSync(tmp, file);
  };
  let released = false;
  return {
    listening: (url) => { if (readLock(file)?.pid === process.pid) write({ ...mine, url }); },
    release: () => {
      if (released) return;
      released = true;
      if (readLock(file)?.pid === process.pid) {
        try { unlinkSync(file); } catch { /* gone already */ }
      }
    },
  };
}

function readLock(file: string): LockRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockRecord>;
    return typeof record.pid === 'number' ? { pid: record.pid, url: record.url, stack: String(record.stack) } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live process running `up` (a pid reused by something else after a kill -9 is not). */
function runsUp(pid: number): boolean {
  if (pid === process.pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('up');
  } catch {
    return true; // no /proc to ask: a live pid is taken at its word
  }
}

/** Refuse a port something listens on, before anything is built. Port 0 is always free. */
export async function checkPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, host, { cause: err }) : err);
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

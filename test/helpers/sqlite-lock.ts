// Another process holding a sqlite queue file's write lock (test/fixtures/hold-sqlite-write-lock.mjs),
// started by a test and always released and stopped in its teardown.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/hold-sqlite-write-lock.mjs', import.meta.url));

interface Teardown { teardown(fn: () => unknown): void }

export interface HeldLock {
  /** Roll back, close, and resolve once the holder exited (the lock is free). */
  release(): Promise<void>;
}

/** Resolves once another process holds the write lock of the database at `path` (BEGIN IMMEDIATE). */
export async function holdWriteLock(t: Teardown, path: string): Promise<HeldLock> {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  const child = spawn(process.execPath, [FIXTURE, path], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const release = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.stdin!.end();
    await exited;
  };
  t.teardown(release);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('locked\n')) resolve();
    });
    void exited.then(() => reject(new Error(`the lock holder exited before taking the lock:\n${stderr}`)));
  });
  return { release };
}

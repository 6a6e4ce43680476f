// The lock file $TMPDIR/.lock: written once the watchdog serves, removed when it drains. Exec probes of the
// OpenFaaS era check for it; /_/health checks it too unless suppress_lock is set.

import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LockFile {
  readonly path: string;
  write(): void;
  remove(): void;
  /** True when the file is present (someone may delete it to fail the probe). */
  present(): boolean;
}

/** The lock file in `dir` (default: os.tmpdir(), which honours TMPDIR). */
export function createLockFile(dir: string = tmpdir()): LockFile {
  const path = join(dir, '.lock');
  return {
    path,
    write: () => writeFileSync(path, `${process.pid}\n`),
    remove: () => rmSync(path, { force: true }),
    present: () => existsSync(path),
  };
}

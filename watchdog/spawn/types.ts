// The one interface both spawn paths implement: posix_spawn (native addon) and node:child_process.
// The runners never touch child_process directly; they get a SpawnBackend chosen in spawn/select.ts.

import type { Readable, Writable } from 'node:stream';

export interface SpawnOptions {
  /** Program to run; looked up on PATH when it has no slash. */
  readonly file: string;
  /** Arguments after the program name. */
  readonly args: readonly string[];
  /** The complete environment of the child (nothing is inherited implicitly). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface ExitStatus {
  /** Exit code, or null when the process ended by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running child that leads its own process group (pgid === pid). */
export interface SpawnedProcess {
  readonly pid: number;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles once the child has exited and been reaped. Never rejects. */
  readonly exited: Promise<ExitStatus>;
  /** Send a signal to the whole process group (grandchildren too); ignores ESRCH. */
  killGroup(signal: NodeJS.Signals): void;
}

export type SpawnBackendName = 'posix_spawn' | 'child_process';

export interface SpawnBackend {
  readonly name: SpawnBackendName;
  /** Resolves once the child runs; rejects with an Error carrying `code` (ENOENT, EACCES…) when it cannot start. */
  spawn(options: SpawnOptions): Promise<SpawnedProcess>;
}

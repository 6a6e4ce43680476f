// The one interface both spawn paths implement: native (the addon in native/) and node:child_process.
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
  /**
   * The child (and its process group) dies with this process, however it ends, SIGKILL included: for a child
   * that outlives a request (http mode's function process), which would otherwise keep running and hold its port.
   */
  readonly dieWithParent?: boolean;
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
  /**
   * Send a signal to the whole process group (grandchildren too); ignores ESRCH. native SIGKILLs the group
   * itself just before it reaps the child, and then makes this a no-op (the pgid may be reused after the reap).
   */
  killGroup(signal: NodeJS.Signals): void;
}

export type SpawnBackendName = 'native' | 'child_process';

export interface SpawnBackend {
  readonly name: SpawnBackendName;
  /** How processes are made: for native `clone3`, `clone` or `posix_spawn` (native/whippet_clone.c). */
  readonly method?: string;
  /** Resolves once the child runs; rejects with an Error carrying `code` (ENOENT, EACCES…) when it cannot start. */
  spawn(options: SpawnOptions): Promise<SpawnedProcess>;
}

/** One invocation driven to its end by the backend: spawn, stdin, output, exit (see SpawnBackend.run). */
export interface RunOptions {
  readonly file: string;
  readonly args: readonly string[];
  /** The base environment, the same object for many runs: a backend may prepare it once. */
  readonly env: Readonly<Record<string, string>>;
  /** This run's own variables, set over `env`. */
  readonly extraEnv: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** `buffer`: stdout (and stderr when combined) is collected and handed to onDone; `emit`: chunks go to onData. */
  readonly output: 'buffer' | 'emit';
  /**
   * true: stderr is output like stdout (the same buffer, or onData) and onDone waits for it too.
   * false: stderr chunks go to onData(2, …) then onEnd(2), also after onDone.
   */
  readonly combine: boolean;
  /**
   * After the exit, how long the awaited pipes may stay open (held by an escaped grandchild); -1: no limit.
   * An uncombined stderr is cut after as long too (onEnd), even when onDone came first.
   */
  readonly lingerMs: number;
}

/** What a run reports; at most one of onError / onDone, and none once kill() was called. */
export interface RunEvents {
  /** Output (stream 1 = stdout, 2 = stderr) as it comes, for the streams that are emitted. */
  onData(stream: 1 | 2, chunk: Buffer): void;
  /** An emitted, uncombined stderr ended (it may outlive the exit). */
  onEnd(stream: 2): void;
  /** stdin took everything after write() returned false (or the handler is gone). */
  onDrain(): void;
  /** The handler exited (and its group was killed) and the awaited output ended; `output` in buffer mode. */
  onDone(status: ExitStatus, output: readonly Buffer[]): void;
  /** The handler could not be started (err.code ENOENT, EACCES, …), or its buffered output was lost (ENOMEM). */
  onError(err: NodeJS.ErrnoException): void;
}

/** Controls a run. Writes after the handler exited (or closed stdin) are accepted and dropped. */
export interface RunHandle {
  /** Feed stdin; false: wait for onDrain before writing more. */
  write(chunk: Buffer): boolean;
  /** Close stdin once everything written has gone in. */
  end(): void;
  /** Stop / restart reading emitted output (backpressure from a slow client). */
  pause(): void;
  resume(): void;
  /** SIGKILL to the whole group (unless already reaped) and cut the pipes; returns the pid (0 if not started). */
  kill(): number;
}

/** A backend that can drive whole runs (both backends can: see spawn/run-streams.ts for the stream-based one). */
export interface RunBackend extends SpawnBackend {
  /** Start a run; events arrive later (never before run() returns). */
  run(options: RunOptions, events: RunEvents): RunHandle;
}

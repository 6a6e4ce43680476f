// The native spawn path: a small N-API addon (native/, layered as whippet_addon.c says) makes children with
// vfork semantics (clone3, clone, or glibc's posix_spawn), so the cost does not grow with the Node heap, and
// reaps through a pidfd so libuv's children are untouched. Whole runs are driven in C (whippet_run.c); for
// spawn(), the parent-side pipe ends become net.Socket streams (libuv pipe handles: non-blocking, backpressure).

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { getSystemErrorName } from 'node:util';
import { killGroupWhenParentDies } from './parent-death.js';
import type { SpawnMethodChoice } from '../config.js';
import type {
  ExitStatus, RunBackend, RunEvents, RunHandle, RunOptions, SpawnedProcess, SpawnOptions,
} from './types.js';

/** What the addon (native/whippet_addon.c) exports. */
interface Addon {
  /**
   * argv/envp are NUL-joined. Without onSpawn: spawns now and returns the result. With onSpawn: spawns on a
   * libuv pool thread and passes the result to onSpawn. Result: [pid, stdinFd, stdoutFd, stderrFd] or an errno.
   */
  spawn(
    file: string,
    argv: string,
    argc: number,
    envp: string,
    envc: number,
    cwd: string | null,
    flags: number,
    onExit: (code: number, signal: number) => void,
    onSpawn?: (result: SpawnResult) => void,
  ): SpawnResult | undefined;
  /** kill(-pgid, signal); returns 0 or the errno. */
  killGroup(pgid: number, signal: number): number;
  /** 0 when pidfd_open works here, else the errno. */
  probe(): number;
  /** How children are made here under the flags' cap: clone3, clone or posix_spawn. */
  method(flags: number): SpawnMethod;
  // The run path (native/whippet_run.c).
  init(dispatch: (this: NativeRun, type: number, a: number, b: unknown, c: unknown) => void): void;
  prepare(vector: string, count: number): Prepared;
  run(file: string, argv: Prepared, env: Prepared, extra: string, extraCount: number, cwd: string | null,
    flags: number, lingerMs: number, handle: NativeRun): number;
  write(id: number, chunk: Buffer): number;
  end(id: number): void;
  pause(id: number): void;
  resume(id: number): void;
  kill(id: number): number;
  flags: {
    OFF_LOOP: number; EMIT: number; COMBINE: number; DIE_WITH_PARENT: number; CAP_CLONE: number; CAP_POSIX_SPAWN: number;
  };
}

/** How the addon makes children, best first. */
export type SpawnMethod = 'clone3' | 'clone' | 'posix_spawn';

/** A NUL-separated vector copied into C once (argv, the base environment). */
type Prepared = { readonly __prepared: unique symbol };

type SpawnResult = [pid: number, stdinFd: number, stdoutFd: number, stderrFd: number] | number;

export interface NativeOptions {
  /** Where the compiled addon is; by default native/build/Release/ under the package root. */
  readonly addonPath?: string;
  /** The best method a spawn may use (spawn_method): auto takes the best this kernel allows. */
  readonly method?: SpawnMethodChoice;
  /**
   * Spawn on a libuv pool thread (default) so the event loop keeps serving while the child execs;
   * false spawns on the loop thread (fewer hops, but the loop waits ~0.3-2 ms for every exec).
   */
  readonly offLoop?: boolean;
}

const ADDON = 'native/build/Release/whippet_spawn.node';

// Source (watchdog/spawn/) and compiled (dist/watchdog/spawn/) sit at different depths below the package root.
const candidates = (): string[] =>
  ['../../', '../../../'].map((up) => fileURLToPath(new URL(up + ADDON, import.meta.url)));

const ESRCH = constants.errno.ESRCH;

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, num]) => [num, name as NodeJS.Signals]),
);

/** The addon, checked for what this kernel must offer; throws with the reason when it cannot be used. */
function loadAddon(addonPath?: string): Addon {
  if (process.platform !== 'linux') throw new Error(`native spawn needs Linux (pidfd), not ${process.platform}`);
  const path = addonPath ?? candidates().find((p) => existsSync(p));
  if (path === undefined) {
    throw new Error(`native addon not built (${ADDON} missing; run \`npm run build:native\`)`);
  }
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(path) as Addon;
  } catch (err) {
    throw new Error(`native addon ${path} failed to load: ${(err as Error).message}`, { cause: err });
  }
  const probe = addon.probe();
  if (probe !== 0) throw new Error(`native spawn unusable: pidfd_open failed with ${getSystemErrorName(-probe)}`);
  return addon;
}

/** The flag bits that cap the method at `choice`. */
function capFlags(addon: Addon, choice: SpawnMethodChoice): number {
  if (choice === 'posix_spawn') return addon.flags.CAP_POSIX_SPAWN;
  return choice === 'clone' ? addon.flags.CAP_CLONE : 0;
}

/** What `spawn_backend=auto` would use here, in words (for --help): `native (clone3)`, or child_process and why. */
export function describeSpawnPath(method: SpawnMethodChoice = 'auto'): string {
  try {
    const addon = loadAddon();
    return `native (${addon.method(capFlags(addon, method))})`;
  } catch (err) {
    return `child_process (${(err as Error).message})`;
  }
}

/** Loads the addon; rejects with the reason when it is missing, unloadable or unusable on this kernel. */
export async function loadNativeBackend(options: NativeOptions = {}): Promise<RunBackend> {
  const { addonPath, offLoop = true, method: choice = 'auto' } = options;
  const addon = loadAddon(addonPath);
  const cap = capFlags(addon, choice);
  const method = addon.method(cap);
  addon.init(dispatch);
  const runner = new NativeRunner(addon, offLoop, cap);
  return {
    name: 'native',
    method,
    spawn: (spawnOptions) => spawnWith(addon, spawnOptions, { offLoop, cap, method }),
    run: (o, events) => runner.run(o, events),
  };
}

const EV_ERROR = 1, EV_DATA = 2, EV_END = 3, EV_DRAIN = 4, EV_DONE = 5;

/** Events from C arrive here with the run's handle as `this` (one function for all runs: no closure each). */
function dispatch(this: NativeRun, type: number, a: number, b: unknown, c: unknown): void {
  switch (type) {
    case EV_DATA: this.events.onData(a as 1 | 2, b as Buffer); break;
    case EV_DONE:
      // A number instead of the output: the buffered output was lost (out of memory, larger than a Buffer).
      if (typeof c === 'number') this.events.onError(systemError(c, 'read', `read output of ${this.file}`));
      else this.events.onDone(exitStatus(a, b as number), c === undefined ? [] : [c as Buffer]);
      break;
    case EV_DRAIN: this.events.onDrain(); break;
    case EV_END: this.events.onEnd(2); break;
    case EV_ERROR: this.events.onError(spawnError(this.file, this.args, a)); break;
  }
}

function exitStatus(code: number, signal: number): ExitStatus {
  return { code: code >= 0 ? code : null, signal: signal > 0 ? (signalNames.get(signal) ?? null) : null };
}

/** A run in C: the handle JS holds, and the receiver of its events. */
class NativeRun implements RunHandle {
  id = 0;
  constructor(private readonly addon: Addon, readonly events: RunEvents, readonly file: string, readonly args: readonly string[]) {}
  write(chunk: Buffer): boolean { return this.addon.write(this.id, chunk) !== 0; }
  end(): void { this.addon.end(this.id); }
  pause(): void { this.addon.pause(this.id); }
  resume(): void { this.addon.resume(this.id); }
  kill(): number { return this.addon.kill(this.id); }
}

interface PreparedEnv { readonly block: Prepared; readonly keys: ReadonlySet<string> }

/** Starts native runs; the argv and base environment are copied into C once per object, not per request. */
class NativeRunner {
  private readonly argvs = new WeakMap<readonly string[], { readonly file: string; readonly block: Prepared }>();
  private readonly envs = new WeakMap<object, PreparedEnv>();
  private readonly flags: number;

  constructor(private readonly addon: Addon, offLoop: boolean, cap: number) {
    this.flags = (offLoop ? addon.flags.OFF_LOOP : 0) | cap;
  }

  run(o: RunOptions, events: RunEvents): RunHandle {
    const { addon } = this;
    const handle = new NativeRun(addon, events, o.file, o.args);
    let argv = this.argvs.get(o.args);
    if (argv?.file !== o.file) {
      const all = [o.file, ...o.args];
      for (const s of all) if (s.includes('\0')) throw invalidArg(o.file, s);
      argv = { file: o.file, block: addon.prepare(all.join('\0'), all.length) };
      this.argvs.set(o.args, argv);
    }
    let base = this.prepareEnv(o.env);
    let extra = '';
    let count = 0;
    for (const key in o.extraEnv) {
      if (base.keys.has(key)) { // a request variable replaces a variable of the watchdog's own: merge in JS
        base = this.prepareEnv({ ...o.env, ...o.extraEnv }, false);
        extra = '';
        count = 0;
        break;
      }
      const value = o.extraEnv[key]!;
      if (key.includes('\0') || value.includes('\0')) throw invalidArg(o.file, `${key}=${value}`);
      extra += `${key}=${value}\0`;
      count++;
    }
    if (o.cwd?.includes('\0')) throw invalidArg(o.file, o.cwd);
    const flags = this.flags | (o.output === 'emit' ? addon.flags.EMIT : 0) | (o.combine ? addon.flags.COMBINE : 0);
    const id = addon.run(o.file, argv.block, base.block, extra, count, o.cwd ?? null, flags, o.lingerMs, handle);
    if (id < 0) {
      const err = spawnError(o.file, o.args, -id);
      process.nextTick(() => events.onError(err));
    } else {
      handle.id = id;
    }
    return handle;
  }

  private prepareEnv(env: Readonly<Record<string, string>>, cache = true): PreparedEnv {
    let prepared = this.envs.get(env);
    if (prepared !== undefined) return prepared;
    const entries = Object.entries(env).map(([key, value]) => `${key}=${value}`);
    for (const e of entries) if (e.includes('\0')) throw invalidArg('env', e);
    prepared = { block: this.addon.prepare(entries.join('\0'), entries.length), keys: new Set(Object.keys(env)) };
    if (cache) this.envs.set(env, prepared);
    return prepared;
  }
}

interface SpawnSettings { readonly offLoop: boolean; readonly cap: number; readonly method: SpawnMethod }

async function spawnWith(addon: Addon, options: SpawnOptions, settings: SpawnSettings): Promise<SpawnedProcess> {
  const { file, args, env, cwd, dieWithParent = false } = options;
  const argv = [file, ...args];
  const envp = Object.entries(env).map(([key, value]) => `${key}=${value}`);
  for (const s of [...argv, ...envp, cwd ?? '']) {
    if (s.includes('\0')) throw invalidArg(file, s);
  }
  let stdin: Socket | undefined;
  let settle!: (status: ExitStatus) => void;
  let reaped = false;
  let watcher: { stop(): void } | undefined;
  const exited = new Promise<ExitStatus>((resolve) => (settle = resolve));
  const onExit = (code: number, signal: number): void => {
    reaped = true;
    watcher?.stop();
    // As child_process does: nobody is left to read stdin, so pending writes end now instead of hanging.
    stdin?.destroy();
    settle({ code: code >= 0 ? code : null, signal: signal > 0 ? (signalNames.get(signal) ?? null) : null });
  };

  // dieWithParent: the clone methods set PR_SET_PDEATHSIG in the child. It fires when the THREAD that made the
  // child exits, so such a child is made here, on the loop (main) thread, whose end is the process's end; a pool
  // thread would do in practice (libuv never ends them early), but nothing promises that.
  const offLoop = settings.offLoop && !dieWithParent;
  const flags = settings.cap | (dieWithParent ? addon.flags.DIE_WITH_PARENT : 0);
  const call = (onSpawn?: (result: SpawnResult) => void): SpawnResult | undefined =>
    addon.spawn(file, argv.join('\0'), argv.length, envp.join('\0'), envp.length, cwd ?? null, flags, onExit, onSpawn);
  const result = offLoop ? await new Promise<SpawnResult>((resolve) => call(resolve)) : call()!;
  if (typeof result === 'number') throw spawnError(file, args, result);
  const [pid, stdinFd, stdoutFd, stderrFd] = result;
  // PDEATHSIG reaches only the child itself (and glibc's posix_spawn method cannot set it at all); what the
  // child started in its group (a script's server) needs the group killed, which only the watcher does.
  if (dieWithParent && !reaped) watcher = killGroupWhenParentDies(pid);
  stdin = new Socket({ fd: stdinFd, readable: false, writable: true });
  return {
    pid,
    stdin,
    stdout: new Socket({ fd: stdoutFd, readable: true, writable: false }),
    stderr: new Socket({ fd: stderrFd, readable: true, writable: false }),
    exited,
    killGroup(signal) {
      const signum = constants.signals[signal] as number | undefined;
      if (signum === undefined) throw Object.assign(new TypeError(`Unknown signal: ${signal}`), { code: 'ERR_UNKNOWN_SIGNAL' });
      // The addon killed the group just before reaping the leader; after that the pgid may be reused.
      if (reaped) return;
      const errno = addon.killGroup(pid, signum);
      // ESRCH: the group is already gone, nothing left to signal.
      if (errno !== 0 && errno !== ESRCH) throw systemError(errno, 'kill', `kill ${-pid} ${signal}`);
    },
  };
}

/** Shaped like child_process's spawn errors, so callers can treat both paths alike. */
function spawnError(file: string, args: readonly string[], errno: number): NodeJS.ErrnoException {
  return Object.assign(systemError(errno, `spawn ${file}`, `spawn ${file}`), { path: file, spawnargs: [...args] });
}

function systemError(errno: number, syscall: string, what: string): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno);
  return Object.assign(new Error(`${what} ${code}`), { errno: -errno, code, syscall });
}

function invalidArg(file: string, value: string): NodeJS.ErrnoException {
  const shown = JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  return Object.assign(new TypeError(`spawn ${file}: strings must not contain null bytes, got ${shown}`), {
    code: 'ERR_INVALID_ARG_VALUE',
  });
}

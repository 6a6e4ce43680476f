// SpawnBackend.run on top of spawn() and its streams: the child_process path (and any backend without a run of
// its own). Same contract as the addon's native run (native/whippet_run.c), event for event.

import type {
  RunBackend, RunEvents, RunHandle, RunOptions, SpawnBackend, SpawnedProcess,
} from './types.js';

/** stdin bytes a run may hold before it is spawned, before write() asks the caller to wait. */
const PENDING_HIGH_WATER = 64 * 1024;

function ignore(): void {}

class StreamRun implements RunHandle {
  private proc: SpawnedProcess | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ending = false;
  private killed = false;
  private exited = false;
  private waitingDrain = false;
  private paused = false;
  private readonly chunks: Buffer[] = [];
  /** The linger clocks after the exit; stopped while the output is paused. */
  private readonly lingers: Linger[] = [];

  constructor(private readonly o: RunOptions, private readonly events: RunEvents) {}

  start(backend: SpawnBackend): void {
    const { o } = this;
    backend.spawn({ file: o.file, args: o.args, env: { ...o.env, ...o.extraEnv }, cwd: o.cwd }).then(
      (proc) => this.started(proc),
      (err: NodeJS.ErrnoException) => { if (!this.killed) this.events.onError(err); },
    );
  }

  private started(proc: SpawnedProcess): void {
    this.proc = proc;
    proc.stdin.on('error', ignore); // EPIPE: a handler may exit without reading its input
    if (this.killed) {
      this.cut(proc);
      return;
    }
    for (const chunk of this.pending) proc.stdin.write(chunk);
    this.pending = [];
    if (this.ending) proc.stdin.end();
    if (this.waitingDrain) this.afterDrain(proc);
    const { o, events } = this;
    const buffer = o.output === 'buffer';
    const onOut = (stream: 1 | 2) => (chunk: Buffer): void => {
      if (buffer && (stream === 1 || o.combine)) this.chunks.push(chunk);
      else events.onData(stream, chunk);
    };
    proc.stdout.on('data', onOut(1));
    proc.stderr.on('data', onOut(2));
    if (!o.combine) {
      // 'close' too: a stderr cut after the linger (settleOutput) closes without 'end'.
      let endSent = false;
      const onEnd = (): void => {
        if (endSent || this.killed) return;
        endSent = true;
        events.onEnd(2);
      };
      proc.stderr.once('end', onEnd);
      proc.stderr.once('close', onEnd);
    }
    if (this.paused) this.pause();
    void this.waitForExit(proc);
  }

  private async waitForExit(proc: SpawnedProcess): Promise<void> {
    const status = await proc.exited;
    this.exited = true;
    // Whatever the handler left running in its group ends with it. (native killed the group before it
    // reaped the leader and makes this a no-op; child_process has no such hook, so this is the best it gets.)
    proc.killGroup('SIGKILL');
    if (this.killed) return;
    proc.stdin.destroy();
    if (this.waitingDrain) this.drained();
    const awaited = this.o.combine ? [proc.stdout, proc.stderr] : [proc.stdout];
    // An emitted stderr is not awaited, but an escaped grandchild holding it must not keep it open forever.
    if (!this.o.combine) void settleOutput([proc.stderr], this.linger());
    await settleOutput(awaited, this.linger());
    if (!this.killed) this.events.onDone(status, this.chunks);
  }

  private linger(): Linger | undefined {
    if (this.o.lingerMs < 0) return undefined;
    const linger = new Linger(this.o.lingerMs, this.paused);
    this.lingers.push(linger);
    return linger;
  }

  write(chunk: Buffer): boolean {
    if (this.killed || this.exited || this.ending) return true;
    if (this.proc === undefined) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < PENDING_HIGH_WATER) return true;
      this.waitingDrain = true;
      return false;
    }
    if (this.proc.stdin.destroyed || this.proc.stdin.write(chunk)) return true;
    this.waitingDrain = true;
    this.afterDrain(this.proc);
    return false;
  }

  private afterDrain(proc: SpawnedProcess): void {
    proc.stdin.once('drain', () => { if (this.waitingDrain) this.drained(); });
  }

  private drained(): void {
    this.waitingDrain = false;
    this.events.onDrain();
  }

  end(): void {
    if (this.ending) return;
    this.ending = true;
    if (this.proc !== undefined && !this.killed) this.proc.stdin.end();
  }

  pause(): void {
    this.paused = true;
    this.proc?.stdout.pause();
    this.proc?.stderr.pause();
    for (const l of this.lingers) l.pause();
  }

  resume(): void {
    this.paused = false;
    this.proc?.stdout.resume();
    this.proc?.stderr.resume();
    for (const l of this.lingers) l.resume();
  }

  kill(): number {
    if (this.killed) return 0;
    this.killed = true;
    if (this.proc === undefined) return 0;
    this.cut(this.proc);
    return this.proc.pid;
  }

  private cut(proc: SpawnedProcess): void {
    if (!this.exited) proc.killGroup('SIGKILL');
    proc.stdin.destroy();
    proc.stdout.destroy();
    proc.stderr.destroy();
  }
}

/** Resolves when `stream` has ended, closed or failed. */
function ended(stream: NodeJS.ReadableStream & { readableEnded: boolean; destroyed: boolean }): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', resolve);
  });
}

/**
 * How long the pipes may stay open after the exit. The clock bounds an escaped holder of the pipes, not a slow
 * client: it stops while the output is paused (what is left in the pipe would be cut unread) and starts over
 * once it flows again.
 */
class Linger {
  private timer: NodeJS.Timeout | undefined;
  private expire!: () => void;
  readonly expired = new Promise<void>((resolve) => { this.expire = resolve; });
  private over = false;
  constructor(private readonly ms: number, paused: boolean) { if (!paused) this.resume(); }
  pause(): void { clearTimeout(this.timer); }
  resume(): void {
    clearTimeout(this.timer);
    if (!this.over) this.timer = setTimeout(this.expire, this.ms);
  }
  /** The streams settled: no clock any more. */
  stop(): void {
    this.over = true;
    clearTimeout(this.timer);
  }
}

/** Wait for the streams to end, at most as long as `linger` allows (undefined: no limit), then cut them. */
async function settleOutput(streams: SpawnedProcess['stdout'][], linger: Linger | undefined): Promise<void> {
  if (linger === undefined) {
    await Promise.all(streams.map(ended));
    return;
  }
  try {
    await Promise.race([Promise.all(streams.map(ended)), linger.expired]);
  } finally {
    linger.stop();
    for (const s of streams) if (!s.readableEnded) s.destroy();
  }
}

/** Run through `backend.spawn` and its streams. */
export function runWithStreams(backend: SpawnBackend, options: RunOptions, events: RunEvents): RunHandle {
  const run = new StreamRun(options, events);
  run.start(backend);
  return run;
}

/** `backend` itself, given the stream-based run when it has no run of its own (the same object, if extensible). */
export function withRun(backend: SpawnBackend): RunBackend {
  if (typeof (backend as Partial<RunBackend>).run === 'function') return backend as RunBackend;
  const run = (o: RunOptions, e: RunEvents): RunHandle => runWithStreams(backend, o, e);
  if (Object.isExtensible(backend)) return Object.assign(backend, { run });
  return { name: backend.name, method: backend.method, spawn: (o) => backend.spawn(o), run };
}

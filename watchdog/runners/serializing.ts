// serializing mode: fork per request, buffer the output, status from the exit code (classic watchdog).
// exit 0 → 200 with the output; non-zero → 500 with the exit status and the output; exec_timeout → 504.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExecTimeoutError, durationSeconds, toResponse } from '../errors.js';
import { pipeToLog } from '../function-log.js';
import type { ExitStatus, SpawnedProcess } from '../spawn/types.js';
import { describeExit, drainOutput, exitCode, forkFor } from './fork.js';
import type { Runner, RunnerDeps } from './types.js';

export class SerializingRunner implements Runner {
  constructor(private readonly deps: RunnerDeps) {}
  async start(): Promise<void> {}
  ready(): boolean { return true; }
  async stop(): Promise<void> {}

  handle(req: IncomingMessage, res: ServerResponse, startedAt: number): void {
    forkFor(this.deps, req).then(
      (proc) => new SerializingCall(this.deps, req, res, startedAt, proc).run(),
      (err: Error) => {
        this.deps.log.error('cannot start function', { err });
        toResponse(res, err, startedAt);
      },
    );
  }
}

function onExecTimeout(call: SerializingCall): void { call.stop('timeout'); }

/** One request's process: collects output, settles once (finished, timed out or abandoned by the client). */
class SerializingCall {
  private reason: 'timeout' | 'aborted' | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly startedAt: number,
    private readonly proc: SpawnedProcess,
  ) {}

  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.size += chunk.length;
  };

  private readonly onClose = (): void => {
    if (!this.res.writableFinished) this.stop('aborted');
  };

  /** Kill the whole group; a timeout answers 504 at once, without waiting for the pipes. */
  stop(reason: 'timeout' | 'aborted'): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.proc.killGroup('SIGKILL');
    this.proc.stdout.destroy();
    this.proc.stderr.destroy();
    this.req.unpipe();
    this.deps.log.warn('function killed', { reason, pid: this.proc.pid });
    if (reason === 'timeout') toResponse(this.res, new ExecTimeoutError(this.deps.config.execTimeoutMs), this.startedAt);
  }

  async run(): Promise<void> {
    const { proc, res, deps } = this;
    const { config } = deps;
    res.once('close', this.onClose);
    if (res.destroyed) this.stop('aborted');
    proc.stdout.on('data', this.onData);
    if (config.combineOutput) proc.stderr.on('data', this.onData);
    else pipeToLog(proc.stderr, 'stderr', deps.output);
    const timer = config.execTimeoutMs > 0 ? setTimeout(onExecTimeout, config.execTimeoutMs, this) : undefined;
    let status: ExitStatus;
    try {
      status = await proc.exited;
    } finally {
      clearTimeout(timer);
    }
    // Whatever the handler left running in its group ends with it.
    proc.killGroup('SIGKILL');
    if (this.reason !== undefined) return;
    await drainOutput(config.combineOutput ? [proc.stdout, proc.stderr] : [proc.stdout]);
    if (this.reason !== undefined) return;
    this.respond(status);
  }

  private respond(status: ExitStatus): void {
    const { res, deps } = this;
    if (deps.config.writeDebug) deps.log.info('function response', { body: Buffer.concat(this.chunks, this.size).toString() });
    if (status.code === 0) {
      res.writeHead(200, {
        'Content-Type': deps.config.contentType ?? this.req.headers['content-type'] ?? 'application/octet-stream',
        'Content-Length': this.size,
        'X-Duration-Seconds': durationSeconds(this.startedAt),
      });
    } else {
      const head = Buffer.from(`${describeExit(status)}\n`);
      const code = exitCode(status);
      deps.log.warn('function failed', { exitCode: code, signal: status.signal ?? undefined });
      res.writeHead(500, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': head.length + this.size,
        'X-Exit-Code': code,
        'X-Duration-Seconds': durationSeconds(this.startedAt),
      });
      res.write(head);
    }
    // Chunk by chunk: a 200 MB answer is not copied once more into one buffer.
    const last = this.chunks.length - 1;
    for (let i = 0; i < last; i++) res.write(this.chunks[i]);
    res.end(last >= 0 ? this.chunks[last] : undefined);
  }
}

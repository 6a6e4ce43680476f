// streaming mode: fork per request, stdout streams to the client with backpressure both ways.
// 200 goes out with the first byte; a failure after that is reported in the trailer X-Exit-Code and the log.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExecTimeoutError, durationSeconds, toResponse } from '../errors.js';
import { pipeToLog } from '../function-log.js';
import type { ExitStatus, SpawnedProcess } from '../spawn/types.js';
import { describeExit, ended, exitCode, forkFor } from './fork.js';
import type { Runner, RunnerDeps } from './types.js';

const TRAILERS = 'X-Exit-Code, X-Duration-Seconds, X-Watchdog-Error';
/** Exit code reported in the trailer when exec_timeout killed the group (128 + SIGKILL). */
const KILLED_EXIT_CODE = 137;

export class StreamingRunner implements Runner {
  constructor(private readonly deps: RunnerDeps) {}
  async start(): Promise<void> {}
  ready(): boolean { return true; }
  async stop(): Promise<void> {}

  handle(req: IncomingMessage, res: ServerResponse, startedAt: number): void {
    forkFor(this.deps, req).then(
      (proc) => new StreamingCall(this.deps, req, res, startedAt, proc).run(),
      (err: Error) => {
        this.deps.log.error('cannot start function', { err });
        toResponse(res, err, startedAt);
      },
    );
  }
}

function onExecTimeout(call: StreamingCall): void { call.stop('timeout'); }

class StreamingCall {
  private reason: 'timeout' | 'aborted' | undefined;
  private readonly sources: SpawnedProcess['stdout'][];

  constructor(
    private readonly deps: RunnerDeps,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly startedAt: number,
    private readonly proc: SpawnedProcess,
  ) {
    this.sources = deps.config.combineOutput ? [proc.stdout, proc.stderr] : [proc.stdout];
    this.trailers = req.httpVersionMinor >= 1 && req.method !== 'HEAD';
  }

  private readonly trailers: boolean;

  private readonly onData = (chunk: Buffer): void => {
    const { res } = this;
    if (!res.headersSent) {
      res.setHeader('Content-Type', this.deps.config.contentType ?? this.req.headers['content-type'] ?? 'application/octet-stream');
      // Trailers need chunked encoding: HTTP/1.1 and a body.
      if (this.trailers) res.setHeader('Trailer', TRAILERS);
      res.writeHead(200);
    }
    if (!res.write(chunk)) {
      for (const s of this.sources) s.pause();
      res.once('drain', this.onDrain);
    }
  };

  private readonly onDrain = (): void => {
    for (const s of this.sources) s.resume();
  };

  private readonly onClose = (): void => {
    if (!this.res.writableFinished) this.stop('aborted');
  };

  stop(reason: 'timeout' | 'aborted'): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.proc.killGroup('SIGKILL');
    for (const s of this.sources) s.destroy();
    this.req.unpipe();
    this.deps.log.warn('function killed', { reason, pid: this.proc.pid });
    if (reason !== 'timeout') return;
    if (!this.res.headersSent) {
      toResponse(this.res, new ExecTimeoutError(this.deps.config.execTimeoutMs), this.startedAt);
      return;
    }
    this.finish({ 'X-Exit-Code': String(KILLED_EXIT_CODE), 'X-Watchdog-Error': 'WD_ERR_EXEC_TIMEOUT' });
  }

  async run(): Promise<void> {
    const { proc, res, deps } = this;
    const { config } = deps;
    res.once('close', this.onClose);
    if (res.destroyed) this.stop('aborted');
    for (const s of this.sources) s.on('data', this.onData);
    if (!config.combineOutput) pipeToLog(proc.stderr, 'stderr', deps.output);
    const timer = config.execTimeoutMs > 0 ? setTimeout(onExecTimeout, config.execTimeoutMs, this) : undefined;
    let status: ExitStatus;
    try {
      status = await proc.exited;
    } finally {
      clearTimeout(timer);
    }
    proc.killGroup('SIGKILL');
    if (this.reason !== undefined) return;
    // No linger bound here, unlike serializing: a slow client keeps the pipe paused on purpose.
    // write_timeout and client disconnects bound this wait.
    await Promise.all(this.sources.map(ended));
    if (this.reason !== undefined) return;
    const code = exitCode(status);
    if (code !== 0) deps.log.warn('function failed', { exitCode: code, signal: status.signal ?? undefined, streamed: res.headersSent });
    if (res.headersSent) {
      this.finish({ 'X-Exit-Code': String(code) });
    } else if (code === 0) {
      res.writeHead(200, {
        'Content-Type': config.contentType ?? this.req.headers['content-type'] ?? 'application/octet-stream',
        'Content-Length': 0,
        'X-Duration-Seconds': durationSeconds(this.startedAt),
      });
      res.end();
    } else {
      const body = `${describeExit(status)}\n`;
      res.writeHead(500, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'X-Exit-Code': code,
        'X-Duration-Seconds': durationSeconds(this.startedAt),
      });
      res.end(body);
    }
  }

  private finish(trailers: Record<string, string>): void {
    if (this.trailers) this.res.addTrailers({ ...trailers, 'X-Duration-Seconds': durationSeconds(this.startedAt) });
    this.res.end();
  }
}

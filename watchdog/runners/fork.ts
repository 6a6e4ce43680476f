// What the fork modes share: start the handler for one request (CGI env, stdin fed from the body with
// backpressure), stop it (kill the whole group) on exec_timeout or a client that went away, and describe how
// it ended. The spawn backend drives the process (SpawnBackend.run): natively in C on the posix_spawn path,
// through streams on the child_process path; the runners see the same events either way.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants } from 'node:os';
import { requestVariables } from '../cgi-env.js';
import { BodyTooLargeError, ExecTimeoutError, SpawnError, toResponse } from '../errors.js';
import { LineLog } from '../function-log.js';
import { MarshalEncoder, marshalHeader } from '../marshal.js';
import type { ExitStatus, RunEvents, RunHandle } from '../spawn/types.js';
import type { Runner, RunnerDeps } from './types.js';

/**
 * After the handler exits, how long its pipes may stay open (both fork modes). Its process group is killed at
 * exit, so only a process that left the group (setsid) can hold them; the response must not wait on that.
 * The backends stop this clock while emitted output is paused by a slow client.
 */
export const OUTPUT_LINGER_MS = 1000;

/** The fprocess split once per runner: the backend prepares `args` once per array. */
export interface Command { readonly file: string; readonly args: readonly string[] }

export function commandOf(deps: RunnerDeps): Command {
  const [file, ...args] = deps.config.fprocess;
  return { file: file!, args };
}

function onExecTimeout(call: ForkCall): void { call.stop('timeout'); }

/** The runner of both fork modes: one ForkCall per request, made by `Call`, with the mode's output and linger. */
export class ForkRunner implements Runner {
  private readonly command: Command;
  constructor(
    private readonly deps: RunnerDeps,
    private readonly Call: new (deps: RunnerDeps, req: IncomingMessage, res: ServerResponse, startedAt: number) => ForkCall,
    private readonly output: 'buffer' | 'emit',
    private readonly lingerMs: number,
  ) { this.command = commandOf(deps); }
  async start(): Promise<void> {}
  ready(): boolean { return true; }
  async stop(): Promise<void> {}

  handle(req: IncomingMessage, res: ServerResponse, startedAt: number): void {
    new this.Call(this.deps, req, res, startedAt).start(this.command, this.output, this.lingerMs);
  }
}

/** One request's handler process; subclasses say what its output becomes. Settles once. */
export abstract class ForkCall implements RunEvents {
  protected reason: 'timeout' | 'aborted' | 'failed' | undefined;
  protected run: RunHandle | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** combine_output=false: stderr goes to the log line by line. */
  private stderrLog: LineLog | undefined;
  /** marshal_request: the body goes in as base64 inside the envelope. */
  private marshal: MarshalEncoder | undefined;
  /** max_request_body when the body is re-encoded (marshal_request), else 0: a streamed body has no limit. */
  private limit = 0;
  private received = 0;

  constructor(
    protected readonly deps: RunnerDeps,
    protected readonly req: IncomingMessage,
    protected readonly res: ServerResponse,
    protected readonly startedAt: number,
  ) {}

  /** Spawn the handler and feed it the body. */
  start(command: Command, output: 'buffer' | 'emit', lingerMs: number): void {
    const { deps, req, res } = this;
    const { config } = deps;
    if (config.marshalRequest) {
      this.limit = config.maxRequestBodyBytes;
      // A declared length over the limit is refused before anything starts.
      if (this.limit > 0 && Number(req.headers['content-length']) > this.limit) { this.refuseBody(); return; }
    }
    if (!config.combineOutput) this.stderrLog = new LineLog(deps.output, 'stderr');
    try {
      this.run = deps.backend!.run({
        file: command.file, args: command.args, env: deps.env, extraEnv: requestVariables(req),
        output, combine: config.combineOutput, lingerMs,
      }, this);
    } catch (err) {
      this.onError(err as NodeJS.ErrnoException);
      return;
    }
    res.once('close', this.onClose);
    if (config.execTimeoutMs > 0) this.timer = setTimeout(onExecTimeout, config.execTimeoutMs, this);
    if (config.marshalRequest) {
      this.marshal = new MarshalEncoder(marshalHeader(req));
      if (!this.run.write(this.marshal.head())) req.pause();
    }
    req.on('data', this.onBody);
    req.once('end', this.onBodyEnd);
  }

  private readonly onBody = (chunk: Buffer): void => {
    if (this.limit > 0 && (this.received += chunk.length) > this.limit) { this.refuseBody(); return; }
    // A full stdin pipe pauses the body until the handler has read it (onDrain).
    if (!this.run!.write(this.marshal === undefined ? chunk : this.marshal.push(chunk))) this.req.pause();
  };

  /** The body is over max_request_body: 413 (or a cut, if output already went out), the rest read and dropped. */
  private refuseBody(): void {
    const { req } = this;
    req.off('data', this.onBody);
    req.off('end', this.onBodyEnd);
    // Read the rest into nothing (read_timeout bounds it), so the 413 is not lost to a reset on close.
    req.resume();
    if (this.reason !== undefined) return;
    this.reason = 'failed';
    clearTimeout(this.timer);
    this.run?.kill();
    this.deps.log.warn('request body over max_request_body', { limit: this.limit, path: req.url });
    toResponse(this.res, new BodyTooLargeError(this.limit), this.startedAt);
  }

  private readonly onBodyEnd = (): void => {
    if (this.marshal !== undefined) this.run!.write(this.marshal.end());
    this.run!.end();
  };

  private readonly onClose = (): void => {
    if (!this.res.writableFinished) this.stop('aborted');
  };

  onDrain(): void { this.req.resume(); }

  onError(err: NodeJS.ErrnoException): void {
    this.reason = 'failed';
    clearTimeout(this.timer);
    const error = new SpawnError(this.deps.config.fprocess[0]!, err);
    this.deps.log.error('cannot start function', { err: error });
    toResponse(this.res, error, this.startedAt);
  }

  onData(stream: 1 | 2, chunk: Buffer): void {
    if (stream === 2 && this.stderrLog !== undefined) this.stderrLog.push(chunk);
    else this.output(chunk);
  }

  onEnd(): void { this.stderrLog?.end(); }

  onDone(status: ExitStatus, output: readonly Buffer[]): void {
    clearTimeout(this.timer);
    if (this.reason === undefined) this.finished(status, output);
  }

  /** Kill the whole group and cut its pipes; a timeout answers at once, without waiting for the pipes. */
  stop(reason: 'timeout' | 'aborted'): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    clearTimeout(this.timer);
    const pid = this.run!.kill();
    this.req.off('data', this.onBody);
    this.deps.log.warn('function killed', { reason, pid: pid > 0 ? pid : undefined });
    if (reason === 'timeout') this.timedOut(new ExecTimeoutError(this.deps.config.execTimeoutMs));
  }

  /** Emitted output (stdout, and stderr when combined). */
  protected abstract output(chunk: Buffer): void;
  /** The handler exited and its awaited output ended. */
  protected abstract finished(status: ExitStatus, output: readonly Buffer[]): void;
  protected abstract timedOut(err: ExecTimeoutError): void;
}

/** The exit code the shell would report: the code, or 128 + signal number. */
export function exitCode(status: ExitStatus): number {
  if (status.code !== null) return status.code;
  return 128 + (status.signal !== null ? constants.signals[status.signal] ?? 0 : 0);
}

/** `exit status 3` / `signal: SIGSEGV`, as Go's exec package words it. */
export function describeExit(status: ExitStatus): string {
  return status.code !== null ? `exit status ${status.code}` : `signal: ${status.signal}`;
}

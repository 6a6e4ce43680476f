// One function's watchdog under `whippet up`: start it (port 0, read the `listening` line), forward its
// log lines tagged with the function name, restart it with backoff when it dies, stop it on demand.
// The pieces are the watchdog's own, so `up` and a function image behave alike: the child_process spawn
// path (each watchdog leads its own process group, so a terminal's Ctrl-C reaches only `up`, which stops
// things in order, and a dead watchdog's leftovers can be killed), the http mode's restart backoff, the
// line splitter of its function log, and its --run-healthcheck probe.

import type { Logger } from '../common/log.js';
import { LineLog } from '../watchdog/function-log.js';
import { checkHealth } from '../watchdog/healthcheck.js';
import { restartDelayMs, STABLE_RUN_MS } from '../watchdog/runners/http-process.js';
import { createChildProcessBackend } from '../watchdog/spawn/child-process.js';
import type { ExitStatus, SpawnedProcess } from '../watchdog/spawn/types.js';
import { WatchdogStartError } from './errors.js';
import { listeningPort, tagLine } from './lines.js';
import { killProcessTree } from './process-tree.js';

export interface SupervisorOptions {
  readonly name: string;
  /** The build folder: the watchdog's cwd. */
  readonly cwd: string;
  /** argv of the watchdog (e.g. [process.execPath, '.../main.js', 'watchdog']). */
  readonly command: readonly string[];
  /** The environment for each start (called again on a restart: http mode gets a fresh upstream port). */
  env(): Promise<Record<string, string>>;
  readonly log: Logger;
  /** Where the watchdog's (tagged) log lines go. */
  readonly output: (line: string) => void;
  /** Each line the watchdog wrote, untagged, with its pid (GET /system/logs and the dashboard's tail). */
  readonly onLine?: (line: string, pid: number) => void;
  /** Called each time a (re)started watchdog listens. */
  readonly onReady: (url: URL, pid: number) => void;
  /** What a watchdog that listens but is not healthy yet is waiting for, said every few seconds. */
  readonly waitingFor?: (env: Readonly<Record<string, string>>) => string;
  readonly startTimeoutMs?: number;
}

const DEFAULT_START_TIMEOUT_MS = 30_000;
/** Lines kept for the error of a watchdog that did not come up: enough for a stack trace's head. */
const TAIL_LINES = 20;
/** How often /_/health is asked while a function comes up: quick enough that `up` feels instant. */
const HEALTH_POLL_MS = 50;
/** How often `up` says what a function that is not healthy yet is waiting for. */
const WAITING_REPORT_MS = 3_000;
/** How long a watchdog that exited before listening may take to deliver its last lines. */
const OUTPUT_AFTER_EXIT_MS = 500;

const spawnBackend = createChildProcessBackend();

export class Supervisor {
  private child: SpawnedProcess | undefined;
  private running = false;
  private stopping = false;
  /** Set once the first start succeeded: from then on a death means a restart. */
  private supervised = false;
  private quickFailures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Every watchdog pid this supervisor started (tests check they are all gone). */
  readonly pids: number[] = [];
  restarts = 0;

  constructor(private readonly opts: SupervisorOptions) {}

  get pid(): number | undefined { return this.child?.pid; }

  /** First start: resolves once the watchdog listens, rejects with WatchdogStartError when it cannot. */
  async start(): Promise<void> {
    await this.spawnOnce();
    this.supervised = true;
  }

  private async spawnOnce(): Promise<void> {
    const { name, log } = this.opts;
    const startTimeoutMs = this.opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const env = await this.opts.env();
    if (this.stopping) throw new WatchdogStartError(name, 'was not started: stopping', '');
    const [file, ...args] = this.opts.command;
    let child: SpawnedProcess;
    try {
      child = await spawnBackend.spawn({ file: file!, args, env, cwd: this.opts.cwd });
    } catch (err) {
      throw new WatchdogStartError(name, `could not start (${(err as Error).message})`, '');
    }
    this.child = child;
    this.running = true;
    this.pids.push(child.pid);
    child.stdin.end();
    const startedAt = Date.now();
    const tail: string[] = [];
    let onListening: ((port: number) => void) | undefined;
    const onLine = (line: string): void => {
      if (onListening !== undefined) {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        const port = listeningPort(line);
        if (port !== undefined) onListening(port);
      }
      this.opts.output(tagLine(name, line));
      this.opts.onLine?.(line, child.pid);
    };
    const outputEnded = Promise.all([forwardLines(child.stdout, onLine), forwardLines(child.stderr, onLine)]);
    let timer: NodeJS.Timeout | undefined;
    const listening = new Promise<number>((resolve, reject) => {
      onListening = (port) => { onListening = undefined; resolve(port); };
      timer = setTimeout(() => reject(new WatchdogStartError(name, `did not listen within ${startTimeoutMs} ms`, tail.join('\n'))), startTimeoutMs);
      void child.exited.then(async (status) => {
        // The exit can come before the last lines are read: they say why, so wait for them (briefly:
        // a grandchild may hold the pipes open).
        await Promise.race([outputEnded, new Promise((resolve) => setTimeout(resolve, OUTPUT_AFTER_EXIT_MS).unref())]);
        reject(new WatchdogStartError(name, `exited with ${describeExit(status)} before listening`, tail.join('\n')));
      });
    });
    void child.exited.then((status) => this.exited(child, status, Date.now() - startedAt));
    try {
      const port = await listening;
      onListening = undefined;
      clearTimeout(timer);
      // http mode: the watchdog listens before its process does; /_/health says when calls can go through.
      if (!await this.untilHealthy(port, env, startTimeoutMs)) {
        log.warn('function not healthy yet; calls may fail until it is', { function: name, port });
      }
      this.opts.onReady(new URL(`http://127.0.0.1:${port}`), child.pid);
      log.info('function ready', { function: name, url: `http://127.0.0.1:${port}`, pid: child.pid });
    } catch (err) {
      clearTimeout(timer);
      child.killGroup('SIGKILL');
      throw err;
    }
  }

  /** Polls the watchdog's own health probe; says what it waits for every few seconds meanwhile. */
  private async untilHealthy(port: number, env: Readonly<Record<string, string>>, timeoutMs: number): Promise<boolean> {
    const startedAt = Date.now();
    let reportAt = startedAt + WAITING_REPORT_MS;
    while (Date.now() - startedAt < timeoutMs && this.running) {
      const problem = await checkHealth(port);
      if (problem === undefined) return true;
      if (Date.now() >= reportAt) {
        reportAt += WAITING_REPORT_MS;
        this.opts.log.info('waiting for function', {
          function: this.opts.name, waited: `${Math.round((Date.now() - startedAt) / 1000)}s`, health: problem,
          waitingFor: this.opts.waitingFor?.(env),
        });
      }
      await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
    }
    return false;
  }

  private exited(child: SpawnedProcess, status: ExitStatus, ranMs: number): void {
    // Whatever the watchdog left in its group (an http-mode process) goes with it.
    child.killGroup('SIGKILL');
    if (child !== this.child) return;
    this.running = false;
    if (this.stopping || !this.supervised) return;
    if (ranMs >= STABLE_RUN_MS) this.quickFailures = 0;
    const delayMs = restartDelayMs(this.quickFailures++);
    this.opts.log.warn('watchdog exited, restarting', {
      function: this.opts.name, pid: child.pid, code: status.code ?? undefined, signal: status.signal ?? undefined, restartInMs: delayMs,
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.restarts++;
      this.spawnOnce().catch((err: Error) => {
        this.opts.log.error('watchdog restart failed', { function: this.opts.name, reason: err.message.split('\n')[0] });
      });
    }, delayMs);
  }

  /** SIGKILL the watchdog and its function processes now (process-tree.ts), no drain, no restart. */
  killNow(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    if (this.child !== undefined && this.running) killProcessTree(this.child.pid);
  }

  /** Stop for good: SIGINT (drain without the health wait), SIGKILL to it and its function processes after graceMs. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined || !this.running) return;
    // SIGINT to the watchdog alone: it drains, then stops its own http-mode process in order.
    try {
      process.kill(child.pid, 'SIGINT');
    } catch {
      // it exited a moment ago: `exited` settles at once
    }
    const timer = setTimeout(() => killProcessTree(child.pid), graceMs);
    try {
      await child.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The watchdog's own line splitter (whole lines, long lines cut) with nothing added to each line; settles at the end. */
function forwardLines(source: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  // LineLog formats each line for a log; without prefix and in text form that is the line plus '\n'.
  const lines = new LineLog({ format: 'text', prefix: false, write: (line) => onLine(line.slice(0, -1)) }, 'stderr');
  source.on('data', (chunk: Buffer) => lines.push(chunk));
  return new Promise((resolve) => {
    source.on('end', () => { lines.end(); resolve(); });
    source.on('error', () => resolve());
  });
}

function describeExit(status: ExitStatus): string {
  return status.code !== null ? `code ${status.code}` : `signal ${status.signal}`;
}

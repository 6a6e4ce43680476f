// One function's watchdog under `whippet up`: start it (port 0, read the `listening` line), forward its
// log lines tagged with the function name, restart it with backoff when it dies, stop it on demand.
// Each watchdog leads its own process group, so a terminal's Ctrl-C reaches only `up`, which stops
// things in order (router first, then the functions), and a dead watchdog's leftovers can be killed.

import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import type { Logger } from '../../common/log.js';
import { lineSplitter, listeningPort, tagLine } from './lines.js';

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
  /** Each line the watchdog wrote, untagged, with its pid (GET /system/logs under `up`). */
  readonly onLine?: (line: string, pid: number | undefined) => void;
  /** Called each time a (re)started watchdog listens. */
  readonly onReady: (url: URL, pid: number) => void;
  readonly startTimeoutMs?: number;
}

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;
// A watchdog that ran this long before dying is restarted at once again, not after the last backoff.
const STABLE_MS = 10_000;

/** A watchdog that did not come up: its exit and the last lines it wrote. */
export class WatchdogStartError extends Error {
  readonly code = 'WATCHDOG_START_FAILED';
  constructor(name: string, reason: string, readonly tail: string) {
    super(`function ${name}: the watchdog ${reason}${tail === '' ? '' : `:\n${tail}`}`);
    this.name = 'WatchdogStartError';
  }
}

export class Supervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  /** Set once the first start succeeded: from then on a death means a restart. */
  private supervised = false;
  private backoffMs = FIRST_BACKOFF_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
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
    const env = await this.opts.env();
    if (this.stopping) throw new WatchdogStartError(name, 'was not started: stopping', '');
    const [cmd, ...args] = this.opts.command;
    const child = spawn(cmd!, args, { cwd: this.opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.startedAt = Date.now();
    if (child.pid !== undefined) this.pids.push(child.pid);
    const tail: string[] = [];
    let ready = false;
    const onLine = (line: string): void => {
      if (!ready) { tail.push(line); if (tail.length > 20) tail.shift(); }
      this.opts.output(tagLine(name, line));
      this.opts.onLine?.(line, child.pid);
    };
    const out = lineSplitter(onLine);
    const err = lineSplitter(onLine);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => out.push(c)).on('end', () => out.flush());
    child.stderr!.setEncoding('utf8').on('data', (c: string) => err.push(c)).on('end', () => err.flush());
    const listening = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new WatchdogStartError(name, `did not listen within ${this.opts.startTimeoutMs ?? 30_000} ms`, tail.join('\n'))),
        this.opts.startTimeoutMs ?? 30_000);
      child.stderr!.on('data', () => {
        const port = tail.map(listeningPort).find((p) => p !== undefined);
        if (port !== undefined && !ready) { ready = true; clearTimeout(timer); resolve(port); }
      });
      child.once('error', (e) => { clearTimeout(timer); reject(new WatchdogStartError(name, `could not start (${e.message})`, '')); });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new WatchdogStartError(name, `exited with ${code ?? signal} before listening`, tail.join('\n')));
      });
    });
    child.once('exit', (code, signal) => this.exited(child, code, signal, ready));
    try {
      const port = await listening;
      // http mode: the watchdog listens before its process does; /_/health says when calls can go through.
      if (!await untilHealthy(port, child, this.opts.startTimeoutMs ?? 30_000)) {
        log.warn('function not healthy yet; calls may fail until it is', { function: name, port });
      }
      this.opts.onReady(new URL(`http://127.0.0.1:${port}`), child.pid!);
      log.info('function ready', { function: name, url: `http://127.0.0.1:${port}`, pid: child.pid });
    } catch (e) {
      killGroup(child, 'SIGKILL');
      throw e;
    }
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, wasReady: boolean): void {
    // Whatever the watchdog left in its group (an http-mode process) goes with it.
    killGroup(child, 'SIGKILL');
    if (this.stopping || !this.supervised || child !== this.child) return;
    const ranMs = Date.now() - this.startedAt;
    if (ranMs >= STABLE_MS) this.backoffMs = FIRST_BACKOFF_MS;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    if (wasReady) this.opts.log.warn('watchdog exited, restarting', { function: this.opts.name, pid: child.pid, code: code ?? undefined, signal: signal ?? undefined, restartInMs: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.restarts++;
      this.spawnOnce().catch((e: Error) => {
        this.opts.log.error('watchdog restart failed', { function: this.opts.name, reason: e.message.split('\n')[0] });
      });
    }, delay);
  }

  /** SIGKILL the watchdog's group now, no drain, no restart. */
  killNow(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    if (this.child !== undefined) killGroup(this.child, 'SIGKILL');
  }

  /** Stop for good: SIGINT (drain without the health wait), SIGKILL to its group after graceMs. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
    try {
      await gone;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function untilHealthy(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    const status = await new Promise<number>((resolve) => {
      const req = get({ host: '127.0.0.1', port, path: '/_/health', timeout: 2_000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', () => resolve(0)).on('timeout', () => req.destroy());
    });
    if (status === 200) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already empty
  }
}

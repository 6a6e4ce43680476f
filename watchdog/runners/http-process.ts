// http mode's long-running function process: started once, output logged, restarted with backoff when it
// dies, ready once the upstream accepts connections, and stopped (SIGTERM, then SIGKILL) only after the drain.

import { connect } from 'node:net';
import { pipeToLog } from '../function-log.js';
import type { SpawnedProcess } from '../spawn/types.js';
import { exitCode } from './fork.js';
import type { RunnerDeps } from './types.js';

/** First restart delay; doubles per quick failure up to MAX_RESTART_DELAY_MS. */
const MIN_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 5000;
/** A process that ran this long counts as healthy: the next failure restarts it at the first delay again. */
const STABLE_RUN_MS = 10_000;
/** How often to try the upstream port until it accepts a connection. */
const PROBE_INTERVAL_MS = 50;
/** After SIGTERM, how long the process may take to exit before the group gets SIGKILL. */
const STOP_GRACE_MS = 5000;

/** Restart delay for the n-th consecutive quick failure (0-based): 100 ms, 200 ms, … capped at 5 s. */
export function restartDelayMs(attempt: number): number {
  return Math.min(MIN_RESTART_DELAY_MS * 2 ** attempt, MAX_RESTART_DELAY_MS);
}

export class UpstreamProcess {
  private proc: SpawnedProcess | undefined;
  private up = false;
  private stopping = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RunnerDeps, private readonly upstream: URL) {}

  /** True while the current process accepts connections. */
  ready(): boolean { return this.up; }

  /** Start the process; rejects when it cannot be spawned at all. */
  async start(): Promise<void> {
    const [file, ...args] = this.deps.config.fprocess;
    // dieWithParent: a watchdog killed with SIGKILL cannot stop the process itself (see SpawnOptions).
    const proc = await this.deps.backend!.spawn({ file: file!, args, env: this.deps.env, dieWithParent: true });
    this.proc = proc;
    this.up = false;
    proc.stdin.on('error', () => {});
    proc.stdin.end();
    pipeToLog(proc.stdout, 'stdout', this.deps.output);
    pipeToLog(proc.stderr, 'stderr', this.deps.output);
    this.deps.log.info('function process started', { pid: proc.pid });
    const startedAt = Date.now();
    void proc.exited.then((status) => this.onExit(proc, exitCode(status), Date.now() - startedAt));
    void this.probe(proc);
  }

  private onExit(proc: SpawnedProcess, code: number, ranMs: number): void {
    if (this.proc !== proc) return;
    this.up = false;
    proc.killGroup('SIGKILL');
    if (this.stopping) return;
    if (ranMs >= STABLE_RUN_MS) this.failures = 0;
    const delayMs = restartDelayMs(this.failures++);
    this.deps.log.warn('function process exited, restarting', { pid: proc.pid, exitCode: code, delayMs });
    this.restartTimer = setTimeout(() => {
      this.start().catch((err: Error) => {
        this.deps.log.error('cannot restart function process', { err });
        this.onExit(proc, -1, 0);
      });
    }, delayMs);
  }

  private async probe(proc: SpawnedProcess): Promise<void> {
    const port = Number(this.upstream.port || 80);
    const host = this.upstream.hostname.replace(/^\[|\]$/g, '');
    while (this.proc === proc && !this.stopping) {
      if (await canConnect(host, port)) {
        if (this.proc === proc && !this.stopping) {
          this.up = true;
          this.deps.log.info('upstream ready', { url: this.upstream.href });
        }
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    }
  }

  /** SIGTERM, wait up to STOP_GRACE_MS, then SIGKILL the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const proc = this.proc;
    if (proc === undefined) return;
    proc.killGroup('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([proc.exited, new Promise((resolve) => { timer = setTimeout(resolve, STOP_GRACE_MS); })]);
    } finally {
      clearTimeout(timer);
    }
    proc.killGroup('SIGKILL');
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => { socket.destroy(); resolve(false); });
  });
}

// The primary's side of the worker processes: fork `count` of them, replace one that dies (with the
// backoff the watchdog's http mode and `whippet up` use), and stop them all on drain. A worker that exits
// before it ever listened during the first start fails the start (a taken port would otherwise loop).

import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../../common/log.js';
import { STABLE_RUN_MS, restartDelayMs } from '../../watchdog/runners/http-process.js';
import { WhippetError } from '../../common/errors.js';
import type { ToWorker } from './messages.js';

/** A worker process that could not start: the start gives up and says which. */
export class WorkerStartError extends WhippetError {
  constructor(detail: string) {
    super('ROUTER_ERR_WORKER_START', `a router worker process did not start: ${detail}`, 500);
  }
}

// After the drain's grace (write_timeout), how long a worker may still take to close its queue and exit.
const EXIT_GRACE_MS = 5_000;

interface Slot {
  worker?: Worker;
  startedAt: number;
  quickFailures: number;
  timer?: NodeJS.Timeout;
}

export class WorkerSupervisor {
  private readonly slots: Slot[];
  private stopping = false;
  /** Replacements made after the first start (a dead worker's slot forked again). */
  replacements = 0;

  constructor(count: number, private readonly log: Logger, private readonly onMessage: (worker: Worker, msg: unknown) => void) {
    this.slots = Array.from({ length: count }, () => ({ startedAt: 0, quickFailures: 0 }));
  }

  /** Fork every worker; resolves with the shared port once all listen, rejects (all stopped) if one cannot. */
  async start(): Promise<number> {
    // Structured clone on the IPC channel: forwarded accepts carry their bodies as bytes (messages.ts).
    cluster.setupPrimary({ serialization: 'advanced' });
    try {
      const ports = await Promise.all(this.slots.map((slot) => this.fork(slot)));
      return ports[0]!;
    } catch (err) {
      this.kill();
      throw err;
    }
  }

  /** The worker processes alive now. */
  workers(): Worker[] {
    return this.slots.flatMap((s) => (s.worker !== undefined && !s.worker.isDead() ? [s.worker] : []));
  }

  /** Tell every worker to drain as `signal` would; resolves once all exited (SIGKILL for any past the grace). */
  async drain(signal: 'SIGTERM' | 'SIGINT', graceMs: number): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots) clearTimeout(slot.timer);
    await Promise.all(this.workers().map((worker) => new Promise<void>((resolve) => {
      const force = setTimeout(() => worker.process.kill('SIGKILL'), graceMs + EXIT_GRACE_MS);
      worker.once('exit', () => { clearTimeout(force); resolve(); });
      const msg: ToWorker = { whippet: 'drain', signal };
      try { worker.send(msg); } catch { worker.process.kill(signal); }
    })));
  }

  /** SIGKILL every worker now: no drain, no replacement. */
  kill(): void {
    this.stopping = true;
    for (const slot of this.slots) clearTimeout(slot.timer);
    for (const worker of this.workers()) worker.process.kill('SIGKILL');
  }

  private fork(slot: Slot): Promise<number> {
    return new Promise((resolve, reject) => {
      const worker = cluster.fork();
      slot.worker = worker;
      slot.startedAt = Date.now();
      let listening = false;
      worker.on('message', (msg: unknown) => this.onMessage(worker, msg));
      worker.once('listening', (address) => {
        listening = true;
        this.log.info('worker started', { worker: `worker-${worker.id}`, pid: worker.process.pid });
        resolve(address.port);
      });
      worker.once('exit', (code, signal) => {
        if (!listening) reject(new WorkerStartError(`worker-${worker.id} (pid ${worker.process.pid}) exited with ${signal ?? code} before listening; its log lines say why`));
        else this.replace(slot, worker, code, signal);
      });
    });
  }

  private replace(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (this.stopping || slot.worker !== worker) return;
    slot.worker = undefined;
    if (Date.now() - slot.startedAt >= STABLE_RUN_MS) slot.quickFailures = 0;
    const delayMs = restartDelayMs(slot.quickFailures++);
    this.log.warn('worker exited, replacing it', { worker: `worker-${worker.id}`, pid: worker.process.pid, exitCode: code ?? undefined, signal: signal ?? undefined, restartInMs: delayMs });
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.stopping) return;
      this.replacements++;
      // A replacement that dies before listening is replaced again, later (the backoff grows).
      this.fork(slot).catch(() => this.replace(slot, slot.worker!, null, null));
    }, delayMs);
  }
}

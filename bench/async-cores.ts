// The async drain again with the function on a core of its own. On the shared cores of bench/async.ts the
// function's direct capacity is what the function and the load generator reach together, and the drain what
// the function and the worker reach together: the ratio then weighs the worker's CPU per call against the load
// generator's as much as it says whether one worker keeps the function busy. In a deployment the function runs
// in a container of its own, as in OpenFaaS, where the queue-worker is a pod of its own. Here the function's
// side (its watchdog and the process the watchdog runs) gets the last core and the rest (this process as the
// load generator, the worker, the bound's process) the others, so the ceiling is the function's own capacity
// on its core and the drain says whether one worker process on the other core keeps it busy.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONNECTIONS, drainFromMemory, drainPace, drainWithWorker, fmt, startFastFunction, WORKER_INFLIGHT } from './drain.js';
import { concurrently } from './queue-load.js';
import { onSeparateCores, phaseCpu, stopServer } from './server-process.js';
import type { CallHeaders } from '../router/queue/index.js';
import { createSqliteQueue } from '../router/queue/sqlite/sqlite.js';

const WORKER_WARMUP_MS = 2_000;

export interface SeparateCoresOptions {
  /** How many calls to drain (the shared-cores drain's count, so that both read the same work). */
  readonly calls: number;
  /** The headers the router stored with each call. */
  readonly headers: CallHeaders;
  /** The drain's goal, a share of the ceiling. */
  readonly goal: number;
}

/**
 * The drain and its bound with the function's side pinned to the last core and everything else to the others;
 * Markdown lines (a table and what it says), or one line saying why it did not run.
 */
export function drainOnSeparateCores(o: SeparateCoresOptions): Promise<string[]> {
  return onSeparateCores([], async ({ fn: fnCores, rest: restCores }) => {
    const fn = await startFastFunction(fnCores);
    const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-cores-'));
    try {
      const ceiling = fn.read;
      const readings = [await ceiling()];

      // The backlog, stored as the router stores an accepted call (its headers, 4 bytes of body).
      const queueFile = join(dir, 'queue.db');
      const queue = await createSqliteQueue({ path: queueFile });
      try {
        await concurrently(o.calls, CONNECTIONS, async (i) => queue.enqueue({
          id: `cores-${i}`, functionName: 'fast', method: 'POST', path: '', query: '', headers: o.headers, body: Buffer.from('ping'), callbackUrl: null,
        }));
      } finally {
        await queue.close();
      }
      readings.push(await ceiling());
      const drain = await drainWithWorker(queueFile, fn.functions, fn.proc.pid, restCores);
      const pace = drainPace(drain.trace, WORKER_WARMUP_MS);
      const memoryMeter = phaseCpu(fn.proc.pid, () => 0);
      const memory = await drainFromMemory(`http://127.0.0.1:${fn.port}`, drain.drained, o.headers, restCores);
      const memoryCpu = memoryMeter(memory.calls);
      const memoryRps = memory.calls / memory.seconds;
      readings.push(await ceiling());
      const direct = [...readings].sort((a, b) => a.rps - b.rps)[1]!;
      const drainRps = drain.drained / drain.seconds;
      const share = (rps: number): string => `${fmt((rps / direct.rps) * 100)} %`;
      // One core runs the worker: at the goal's rate it may spend a core's second over that many calls.
      const budgetUs = 1e6 / (o.goal * direct.rps);
      return [
        `The same drain with the function on a core of its own: its watchdog and the process it runs on core ${fnCores}; this process (the`,
        `load generator), the worker and the bound's process on core${restCores.includes('-') ? 's' : ''} ${restCores} (\`taskset\`). The ceiling is then what the`,
        'function serves on its core, as in a deployment where it runs in a container of its own, and the drain says whether one',
        `worker process keeps it busy. ${o.calls} calls stored with the router's headers in a fresh file, drained as above (max_inflight=${WORKER_INFLIGHT}).`,
        '',
        '| measurement | calls/s | share of the ceiling | function\'s side, µs per call | caller, µs per call |',
        '|---|---:|---:|---:|---:|',
        `| function capacity on its own core (ceiling) | ${fmt(direct.rps)} | | ${fmt(direct.cpu.fnUs)} | ${fmt(direct.cpu.callerUs)} (the load generator) |`,
        `| worker drain to the function | ${fmt(drainRps)} | **${share(drainRps)}** | ${fmt(drain.cpu.fnUs)} | ${fmt(drain.cpu.callerUs)} (the worker) |`,
        `| the same drain, queue in memory (the bound) | ${fmt(memoryRps)} | ${share(memoryRps)} | ${fmt(memoryCpu.fnUs)} | ${fmt((memory.cpuMs * 1000) / memory.calls)} (the worker) |`,
        '',
        `Ceiling readings ${readings.map((r) => fmt(r.rps)).join(' / ')} (before the backlog was stored, before the drain, after the bound), the median used;`,
        `${readings.reduce((sum, r) => sum + r.errors, 0)} errors. The drain: ${drain.drained} calls in ${fmt(drain.seconds, 1)} s (${drain.left} left), pace ${pace.perSecond.map((x) => fmt(x)).join(' → ')}`,
        `calls/s; after its first ${WORKER_WARMUP_MS / 1000} s ${fmt(pace.after)} calls/s = ${share(pace.after)}. At ${fmt(o.goal * 100)} % of this ceiling the worker's core`,
        `leaves it **${fmt(budgetUs)} µs of CPU per call**; it spent ${fmt(drain.cpu.callerUs)}.`,
      ];
    } finally {
      await stopServer(fn.proc, 'SIGINT');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

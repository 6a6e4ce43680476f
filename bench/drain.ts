// The drains' pieces, used by both layouts of the async section (bench/async.ts: everything on the shared cores;
// bench/async-cores.ts: the function on a core of its own) and by the JetStream section: the function they call,
// the backlog read from the queue file, one `whippet worker` draining it, the same drain from memory (the bound),
// and the drain's pace.

import { execFile, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { runLoad, type LoadResult } from './load.js';
import { cpuMs, ownCpuMs, phaseCpu, startWhippet, stopServer, type PhaseCpu } from './server-process.js';
import { freePort } from '../common/free-port.js';
import type { CallHeaders } from '../router/queue/index.js';

const MEMORY_DRAIN = fileURLToPath(new URL('./memory-drain.js', import.meta.url));
// From dist/bench/: the fast http-mode function the crash test uses (answers 200 at once).
const FAST_FN = fileURLToPath(new URL('../../test/async/fixtures/fast-fn.mjs', import.meta.url));
/** The load generator's connections when the function is called directly. */
export const CONNECTIONS = 32;
/** A closed-loop load's warm-up and measured time (the function's capacity, the router's accepts). */
export const WARMUP_MS = 1_000;
export const RUN_MS = 4_000;
const execFileAsync = promisify(execFile);
export const WORKER_INFLIGHT = 64;
export const DRAIN_LIMIT_MS = 120_000;

/** The function every drain calls: an http-mode watchdog whose function answers at once, named `fast`. */
export interface FastFunction {
  readonly proc: ChildProcess;
  readonly port: number;
  /** The `functions` setting that names it. */
  readonly functions: string;
  /** One reading of its direct capacity (sync POSTs of 4 bytes, CONNECTIONS connections, RUN_MS) and where the CPU went. */
  read(): Promise<LoadResult & { readonly cpu: PhaseCpu }>;
}

/** Start the function (on `cores` when given) and warm it up for WARMUP_MS; stop its `proc` when done. */
export async function startFastFunction(cores?: string): Promise<FastFunction> {
  const fnPort = await freePort();
  const wd = await startWhippet(['watchdog'], {
    mode: 'http', fprocess: `${process.execPath} ${FAST_FN}`, upstream_url: `http://127.0.0.1:${fnPort}`, FN_PORT: String(fnPort), metrics_port: '0',
  }, cores);
  const url = `http://127.0.0.1:${wd.port}/`;
  const load = (durationMs: number): Promise<LoadResult> => runLoad({ url, method: 'POST', body: 'ping', connections: CONNECTIONS, durationMs });
  await load(WARMUP_MS);
  return {
    proc: wd.proc, port: wd.port, functions: `fast=http://127.0.0.1:${wd.port}`,
    read: async () => {
      const meter = phaseCpu(wd.proc.pid, ownCpuMs);
      const result = await load(RUN_MS);
      return { ...result, cpu: meter(result.requests) };
    },
  };
}

/**
 * The drain's backlog, counted in the queue file itself (the calls_ready index: queued and leased calls) on a
 * read-only connection of this process. Reading the router's queue_depth ten times a second cost the router ~21 µs
 * of CPU per drained call (it counts every record, finished ones included), on the cores the drain runs on.
 */
export function fileBacklog(path: string): { read(): number; headers(): CallHeaders; close(): void } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM calls WHERE ready_at IS NOT NULL');
  const first = db.prepare<[], { record: string }>('SELECT record FROM calls ORDER BY seq LIMIT 1');
  return {
    read: () => count.get()!.n,
    /** The stored headers of the first call accepted (every call of the run came the same way). */
    headers: () => (JSON.parse(first.get()?.record ?? '{"headers":{}}') as { headers: CallHeaders }).headers,
    close: () => db.close(),
  };
}

export interface WorkerDrain {
  readonly queued: number;
  readonly drained: number;
  readonly left: number;
  readonly seconds: number;
  /** [ms since the worker listened, calls left], every 100 ms. */
  readonly trace: ReadonlyArray<readonly [number, number]>;
  /** The function's side (the watchdog at `fnPid` and its function) and the worker, per drained call. */
  readonly cpu: PhaseCpu;
  /** The stored headers of the first call (what the bound's calls carry). */
  readonly headers: CallHeaders;
}

/**
 * One `whippet worker` (max_inflight WORKER_INFLIGHT) started on `queueFile`'s backlog, on `cores` when given,
 * timed from its `listening` line until the file holds no queued or leased call (at most DRAIN_LIMIT_MS), then
 * stopped.
 */
export async function drainWithWorker(queueFile: string, functions: string, fnPid: number | undefined, cores?: string): Promise<WorkerDrain> {
  const inQueue = fileBacklog(queueFile);
  try {
    const queued = inQueue.read();
    const worker = await startWhippet(['worker'], { functions, queue: `sqlite:${queueFile}`, max_inflight: String(WORKER_INFLIGHT) }, cores);
    try {
      const begin = worker.listeningAt;
      const meter = phaseCpu(fnPid, () => cpuMs(worker.proc.pid));
      let left = queued;
      const trace: Array<readonly [number, number]> = [[0, queued]];
      while (left > 0 && performance.now() - begin < DRAIN_LIMIT_MS) {
        await new Promise((r) => setTimeout(r, 100));
        left = inQueue.read();
        trace.push([performance.now() - begin, left]);
      }
      const seconds = (performance.now() - begin) / 1000;
      const drained = queued - left;
      return { queued, drained, left, seconds, trace, cpu: meter(drained), headers: inQueue.headers() };
    } finally {
      await stopServer(worker.proc, 'SIGINT');
    }
  } finally {
    inQueue.close();
  }
}

/** bench/memory-drain.ts in a process of its own (a fresh process, as the sqlite drain's worker is), on `cores` when given. */
export async function drainFromMemory(functionUrl: string, calls: number, headers: CallHeaders, cores?: string): Promise<{ calls: number; seconds: number; cpuMs: number }> {
  const env = { PATH: process.env['PATH'] ?? '', FUNCTION_URL: functionUrl, CALLS: String(calls), MAX_INFLIGHT: String(WORKER_INFLIGHT), CALL_HEADERS: JSON.stringify(headers) };
  const [file, args] = cores === undefined ? [process.execPath, [MEMORY_DRAIN]] : ['taskset', ['-c', cores, process.execPath, MEMORY_DRAIN]];
  const { stdout } = await execFileAsync(file, args, { env, timeout: DRAIN_LIMIT_MS, killSignal: 'SIGKILL' });
  return JSON.parse(stdout) as { calls: number; seconds: number; cpuMs: number };
}

/**
 * A drain's pace from its backlog readings ([ms since the worker started, calls left]): calls drained in each
 * whole second, and the rate from `warmupMs` to the last reading (NaN when the drain ended before it).
 */
export function drainPace(trace: ReadonlyArray<readonly [number, number]>, warmupMs: number): { perSecond: number[]; after: number } {
  const perSecond: number[] = [];
  let mark = trace[0]!;
  for (const point of trace) {
    if (point[0] - mark[0] < 1000) continue;
    perSecond.push(((mark[1] - point[1]) * 1000) / (point[0] - mark[0]));
    mark = point;
  }
  const from = trace.find(([ms]) => ms >= warmupMs);
  const last = trace[trace.length - 1]!;
  const after = from === undefined || last[0] <= from[0] ? Number.NaN : ((from[1] - last[1]) * 1000) / (last[0] - from[0]);
  return { perSecond, after };
}

export const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

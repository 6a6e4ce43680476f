// Async path: accepted calls per second (each 202 durable on the sqlite queue, 32 connections), the
// worker's drain rate to an http-mode function, and that function's own capacity measured directly in
// the same run as the ceiling the drain rate is judged against; the same drain with the function on a core
// of its own (bench/async-cores.ts); then the router's in-process worker under a steady open-loop load the
// function can serve, with the backlog sampled once a second.

import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { drainOnSeparateCores } from './async-cores.js';
import { CONNECTIONS, drainFromMemory, drainPace, drainWithWorker, fmt, RUN_MS, startFastFunction, WARMUP_MS, WORKER_INFLIGHT } from './drain.js';
import { runLoad, type LoadResult } from './load.js';
import { concurrently, drainLikeWorker } from './queue-load.js';
import { cpuMs, phaseCpu, startWhippet, stopServer, treeCpuMs } from './server-process.js';
import type { CallHeaders } from '../router/queue/index.js';
import { createSqliteQueue } from '../router/queue/sqlite/sqlite.js';

// The in-process worker under a steady load: accepts at these shares of the function's direct capacity, each on
// a fresh router and queue file: one router process (the default), two processes (whose accepts the primary commits
// beside its async worker: router/cluster/accepts.ts), and a router with async_worker=false beside one standalone
// `whippet worker` process (the layout docs/queues.md gives for sustained load); alternating.
const STEADY_CASES = [
  { share: 0.5, layout: 'in-process', workers: 1 }, { share: 0.5, layout: 'in-process', workers: 2 },
  { share: 0.5, layout: 'standalone', workers: 1 },
  { share: 0.25, layout: 'in-process', workers: 1 }, { share: 0.25, layout: 'in-process', workers: 2 },
  { share: 0.25, layout: 'standalone', workers: 1 },
] as const;
// Before each measured run the router gets this long at the rate, then is left to empty: a fresh process is slow
// for its first seconds (compiling its hot paths), and a router in service is warm.
const STEADY_WARMUP_SECONDS = 2;
const STEADY_SECONDS = 8;
// After the load stops, the backlog is sampled until it is empty or this long has passed.
const STEADY_EMPTY_LIMIT_MS = 20_000;
// The drain's pace is also given after the worker's first seconds (a fresh process warms up), as the ceiling is read warm.
const WORKER_WARMUP_MS = 2_000;


async function load(url: string, headers: Record<string, string> = {}, durationMs = RUN_MS): Promise<LoadResult> {
  return runLoad({ url, method: 'POST', body: 'ping', headers, connections: CONNECTIONS, durationMs });
}

/** Queued + running calls, read from the router's queue_depth gauge. */
async function backlog(pool: Pool): Promise<number> {
  const res = await pool.request({ path: '/metrics', method: 'GET' });
  const text = await res.body.text();
  let n = 0;
  for (const m of text.matchAll(/^queue_depth\{[^}]*status="(queued|running)"[^}]*\} (\d+)/gm)) n += Number(m[2]);
  return n;
}

/**
 * The queue's part of the drain alone: `calls` calls as the router stored them (`headers`, 4 bytes of body) in a
 * fresh sqlite file, then leased and concluded the way the worker does (bench/queue-load.ts), without the call
 * to the function, in this process (nothing else runs in it meanwhile). Calls per second and CPU µs per call.
 */
async function queueAlone(path: string, calls: number, headers: CallHeaders): Promise<{ rps: number; cpuUs: number }> {
  const queue = await createSqliteQueue({ path });
  try {
    await concurrently(calls, CONNECTIONS, async (i) => queue.enqueue({
      id: `alone-${i}`, functionName: 'fast', method: 'POST', path: '', query: '', headers, body: Buffer.from('ping'), callbackUrl: null,
    }));
    const { ms, cpuUs } = await drainLikeWorker(queue, calls, WORKER_INFLIGHT, 1_000);
    return { rps: calls / (ms / 1000), cpuUs };
  } finally {
    await queue.close();
  }
}

/**
 * Open-loop load: `rate` async calls per second for `seconds`, whatever the answers take. The backlog is sampled
 * once a second, and after the load stops until it is empty (at most STEADY_EMPTY_LIMIT_MS): the calls queued or running in the
 * router plus the calls sent and not yet answered with a 202 (with every connection busy they wait in the load
 * generator; leaving them out would hide a router that cannot accept at the rate). `doneSeconds`: from the first
 * call until the backlog was empty.
 */
async function steady(url: string, metrics: Pool, rate: number, seconds: number): Promise<{ samples: number[]; sent: number; failed: number; doneSeconds: number }> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: CONNECTIONS });
  const samples: number[] = [];
  let sent = 0;
  let failed = 0;
  const begin = performance.now();
  const inflight = new Set<Promise<void>>();
  let nextSample = begin + 1000;
  while (performance.now() - begin < seconds * 1000) {
    const due = Math.floor(((performance.now() - begin) / 1000) * rate);
    while (sent < due) {
      sent++;
      const p = pool.request({ path: target.pathname, method: 'POST', body: 'ping' })
        .then(async (res) => { await res.body.dump(); if (res.statusCode !== 202) failed++; }, () => { failed++; })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    if (performance.now() >= nextSample) { samples.push(await backlog(metrics) + inflight.size); nextSample += 1000; }
    await new Promise((r) => setTimeout(r, 5));
  }
  let doneSeconds = Number.NaN;
  const deadline = performance.now() + STEADY_EMPTY_LIMIT_MS;
  while (performance.now() < deadline) {
    const left = await backlog(metrics) + inflight.size;
    if (left === 0) { doneSeconds = (performance.now() - begin) / 1000; samples.push(0); break; }
    if (performance.now() >= nextSample) { samples.push(left); nextSample += 1000; }
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all([...inflight]);
  await pool.close();
  return { samples, sent, failed, doneSeconds };
}

// The drain's goal (issue #18): a share of the function's direct capacity; the CPU budget line says what it leaves the worker.
const DRAIN_GOAL = 0.7;

/** Run the async benchmark; returns a Markdown section. */
export async function benchAsync(): Promise<string> {
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-async-'));
  try {
    const fn = await startFastFunction();
    procs.push(fn.proc);
    const queueFile = join(dir, 'queue.db');
    const queue = `sqlite:${queueFile}`;
    const fns = fn.functions;
    const router = await startWhippet(['router'], { functions: fns, queue, async_worker: 'false', workers: '1' });
    procs.push(router.proc);

    // The ceiling is read three times, around the accepts and the drain, and its median used: one 4 s reading on a
    // shared host moved 5,000-21,000 calls/s between runs (6 Dec 2026), more than any change to the drain did.
    const ceiling = fn.read;
    const readings = [await ceiling()];
    const asyncUrl = `http://127.0.0.1:${router.port}/async-function/fast`;
    await load(asyncUrl, {}, WARMUP_MS);
    const accepted = await load(asyncUrl);

    readings.push(await ceiling());
    const drain = await drainWithWorker(queueFile, fns, fn.proc.pid);
    const { drained, left, cpu: drainCpu, headers: callHeaders } = drain;
    const drainSeconds = drain.seconds;
    const pace = drainPace(drain.trace, WORKER_WARMUP_MS);
    // The same loop with a queue that costs nothing, on as many calls: the most any queue could give this worker here.
    const memoryMeter = phaseCpu(fn.proc.pid, () => 0);
    const memory = await drainFromMemory(`http://127.0.0.1:${fn.port}`, drained, callHeaders);
    const memoryCpu = memoryMeter(memory.calls);
    const memoryRps = memory.calls / memory.seconds;
    const memoryWorkerUs = (memory.cpuMs * 1000) / memory.calls;
    // The other half of the sum: the queue's work per call with no function to call.
    const alone = await queueAlone(join(dir, 'alone.db'), drained, callHeaders);
    readings.push(await ceiling());
    const direct = [...readings].sort((a, b) => a.rps - b.rps)[1]!;
    // At the goal's rate, with the machine as busy as it was while the function was read directly, what is left per
    // call once the function's side is paid as it cost in the drain.
    const workerBudgetUs = (direct.cpu.cores * 1e6) / (DRAIN_GOAL * direct.rps) - drainCpu.fnUs;
    const separateCores = await drainOnSeparateCores({ calls: drained, headers: callHeaders, goal: DRAIN_GOAL });

    // The worker, in each layout, while accepts arrive at a share of what the function serves directly.
    const steadyLines: string[] = [];
    for (const { share, layout, workers } of STEADY_CASES) {
      const standalone = layout === 'standalone';
      const steadyQueue = `sqlite:${join(dir, `steady-${share}-${layout}-${workers}.db`)}`;
      const inproc = await startWhippet(['router'], {
        functions: fns, queue: steadyQueue, max_inflight: String(WORKER_INFLIGHT), workers: String(workers), async_worker: String(!standalone),
      });
      procs.push(inproc.proc);
      const sidecar = standalone ? await startWhippet(['worker'], { functions: fns, queue: steadyQueue, max_inflight: String(WORKER_INFLIGHT) }) : undefined;
      if (sidecar !== undefined) procs.push(sidecar.proc);
      const inprocPool = new Pool(`http://127.0.0.1:${inproc.port}`, { connections: 1 });
      const rate = Math.max(50, Math.round(direct.rps * share / 50) * 50);
      const asyncFast = `http://127.0.0.1:${inproc.port}/async-function/fast`;
      await steady(asyncFast, inprocPool, rate, STEADY_WARMUP_SECONDS);
      const layoutCpuMs = (): number => treeCpuMs(inproc.proc.pid) + (sidecar === undefined ? 0 : cpuMs(sidecar.proc.pid));
      const cpuStart = layoutCpuMs();
      const steadyRun = await steady(asyncFast, inprocPool, rate, STEADY_SECONDS);
      const cpu = layoutCpuMs() - cpuStart;
      await inprocPool.close();
      if (sidecar !== undefined) await stopServer(sidecar.proc, 'SIGINT');
      await stopServer(inproc.proc, 'SIGINT');
      const where = standalone ? 'router (`async_worker=false`) + 1 `whippet worker`' : workers === 1 ? 'in-process, 1 router process' : `in-process, ${workers} router processes`;
      const done = Number.isFinite(steadyRun.doneSeconds)
        ? `${fmt(steadyRun.doneSeconds, 1)} s (${fmt(steadyRun.sent / steadyRun.doneSeconds)} calls/s)`
        : `not within ${STEADY_EMPTY_LIMIT_MS / 1000} s after the load`;
      steadyLines.push(`| ${rate} (${fmt(share * 100)} %) | ${where} | ${steadyRun.sent} / ${steadyRun.failed} | ${steadyRun.samples.join(' → ')} | ${done} | ${fmt(cpu / Math.max(1, steadyRun.sent) * 1000)} |`);
    }
    const loadAvg = (await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ');
    return [
      '## Async path (sqlite queue)',
      '',
      `Closed-loop POST of 4 bytes with ${CONNECTIONS} connections for ${RUN_MS / 1000} s after a ${WARMUP_MS / 1000} s warm-up. Every 202 means`,
      'the call is committed to the sqlite file (group commit: one transaction per event-loop turn) and the file synced (fdatasync, off the event loop).',
      `The drain is one \`whippet worker\` process (max_inflight=${WORKER_INFLIGHT}) working off the backlog the accept run left (warm-up included),`,
      'invoking an http-mode watchdog whose function answers at once; everything shares the same 2 cores.',
      '',
      '| measurement | calls/s | p50 ms | p99 ms | errors | note |',
      '|---|---:|---:|---:|---:|---|',
      `| function capacity, direct to the watchdog (ceiling) | ${fmt(direct.rps)} | ${fmt(direct.p50, 2)} | ${fmt(direct.p99, 2)} | ${readings.reduce((n, r) => n + r.errors, 0)} | sync POSTs, ${CONNECTIONS} connections; median of ${readings.map((r) => fmt(r.rps)).join(' / ')} (before the accepts, before the drain, after it) |`,
      `| async accepts (202, durable) | ${fmt(accepted.rps)} | ${fmt(accepted.p50, 2)} | ${fmt(accepted.p99, 2)} | ${accepted.errors} | router with async_worker=false |`,
      `| worker drain to the function | ${fmt(drained / drainSeconds)} | | | ${left} left | ${drained} calls in ${fmt(drainSeconds, 1)} s = ${fmt((drained / drainSeconds / direct.rps) * 100)} % of the function's capacity; worker CPU ${fmt(drainCpu.callerUs)} ms per 1,000 calls |`,
      `| the same drain, queue in memory (the bound) | ${fmt(memoryRps)} | | | | ${memory.calls} calls in ${fmt(memory.seconds, 1)} s = ${fmt((memoryRps / direct.rps) * 100)} % of the function's capacity; worker CPU ${fmt(memoryWorkerUs)} ms per 1,000 calls |`,
      `| the sqlite queue alone: the worker's leases and results, no function called | ${fmt(alone.rps)} | | | | ${drained} calls, ${WORKER_INFLIGHT} slots, in the benchmark's own process; CPU ${fmt(alone.cpuUs)} ms per 1,000 calls |`,
      '',
      `The drain's pace, calls per second from the worker's start: ${pace.perSecond.map((n) => fmt(n)).join(' → ')}. A fresh worker process`,
      `is slower for its first seconds (compiling its hot paths, growing its heap); after its first ${WORKER_WARMUP_MS / 1000} s it drained ${fmt(pace.after)} calls/s = ${fmt((pace.after / direct.rps) * 100)} % of the`,
      'ceiling (which was measured warm). The row above, from the start, is the figure the issue judges.',
      '',
      'The bound is the same worker loop, invocation and record transitions in a fresh process (bench/memory-drain.ts) fed',
      'from a backlog held in memory: nothing written, nothing durable. It is what any queue design could give one worker',
      'process on this machine; the distance from the drain above is what the sqlite queue costs. The queue alone is the',
      'other half: as many calls, stored with the same headers, leased with their attempt begun and concluded with the',
      'result and the ack as the worker does it (bench/queue-load.ts), with nothing called in between.',
      '',
      'Where the CPU went, per call (each process from /proc/<pid>/stat, the function\'s side being its watchdog and the process',
      'the watchdog runs; the machine from /proc/stat, idle, iowait and steal counted as not busy):',
      '',
      '| phase | calls/s | function\'s side, µs per call | caller, µs per call | machine busy, cores |',
      '|---|---:|---:|---:|---:|',
      `| function read directly (the median reading) | ${fmt(direct.rps)} | ${fmt(direct.cpu.fnUs)} | ${fmt(direct.cpu.callerUs)} (the load generator) | ${fmt(direct.cpu.cores, 2)} |`,
      `| worker drain | ${fmt(drained / drainSeconds)} | ${fmt(drainCpu.fnUs)} | ${fmt(drainCpu.callerUs)} (the worker) | ${fmt(drainCpu.cores, 2)} |`,
      `| worker drain, queue in memory | ${fmt(memoryRps)} | ${fmt(memoryCpu.fnUs)} | ${fmt(memoryWorkerUs)} (the worker) | ${fmt(memoryCpu.cores, 2)} |`,
      `| the sqlite queue alone (no function) | ${fmt(alone.rps)} | | ${fmt(alone.cpuUs)} (the queue's work) | |`,
      '',
      `The budget this leaves the worker: a drain at ${fmt(DRAIN_GOAL * 100)} % of the ceiling (${fmt(DRAIN_GOAL * direct.rps)} calls/s), with the machine as busy as`,
      `while the function was read directly and the function's side costing what it did in the drain,`,
      `leaves the worker **${fmt(workerBudgetUs)} µs of CPU per call**; it spent ${fmt(drainCpu.callerUs)}. Its parts measured apart: the loop and its`,
      `HTTP calls ${fmt(memoryWorkerUs)} µs (queue in memory), the queue's work ${fmt(alone.cpuUs)} µs (the queue alone), ${fmt(memoryWorkerUs + alone.cpuUs)} together.`,
      '',
      ...separateCores,
      '',
      `The worker while async calls arrive at a steady rate for ${STEADY_SECONDS} s (open loop, a share of the function's direct capacity`,
      `above; each case on a fresh router and queue file, after ${STEADY_WARMUP_SECONDS} s at the same rate to warm it; max_inflight=${WORKER_INFLIGHT}). In-process with`,
      '`workers=1` one process accepts and runs the worker; with `workers=2` two processes accept and the primary commits their accepts',
      'and runs the worker; the third layout is a router that only accepts beside one `whippet worker` process on the same file. Backlog once',
      'a second, then until empty: the calls queued or running in the router plus those sent and not yet answered with a 202 (waiting',
      `at the load generator's ${CONNECTIONS} connections when the router accepts slower than the rate). "All done" is from the first call until`,
      `the backlog was empty: a layout that keeps up is done soon after the ${STEADY_SECONDS} s of load. CPU is the router's (every process) plus`,
      'the standalone worker\'s over that time (CPU per call holds on a shared machine where calls/s do not; one core is 1,000 ms per second).',
      '',
      '| calls/s offered | layout | sent / not accepted | backlog once a second (in the router + not yet accepted) | all done after | CPU, ms per 1,000 calls |',
      '|---|---|---|---|---|---:|',
      ...steadyLines,
      '',
      `Load average during the run: ${loadAvg} (2 cores, shared).`,
      '',
    ].join('\n');
  } finally {
    for (const p of procs.reverse()) await stopServer(p, 'SIGINT');
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node dist/bench/async.js` runs this section alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(await benchAsync());
}

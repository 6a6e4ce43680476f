// The watchdog benchmark (issue 2): serializing mode with fprocess=cat under 8 connections and a 33-byte
// POST, side by side with the naive node:http + child_process server; start-up time; idle and loaded RSS.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { runLoad, type LoadResult } from './load.js';
import { benchEnv, startServer, stopServer, type Started } from './server-process.js';
import { runWrk, useWrk } from './wrk.js';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const CLI = `${DIST}cli/main.js`;
const NAIVE = `${DIST}bench/naive-cat-server.js`;
const BODY = 'hello world, this is a small body'; // 33 bytes, as in the OpenFaaS measurements
const CONNECTIONS = 8;
const LOAD_MS = 10_000;
const WARMUP_MS = 1_000;
const STARTUP_RUNS = 5;
const RSS_REQUESTS = 10_000;

function startWatchdog(backend: string): Promise<Started> {
  return startServer([CLI, 'watchdog'], benchEnv({ fprocess: 'cat', port: '0', metrics_port: '0', spawn_backend: backend }));
}

const stop = (s: Started): Promise<void> => stopServer(s.proc, 'SIGINT');

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Milliseconds from spawning the watchdog process to its first /_/health 200. */
async function startupMs(backend: string): Promise<number> {
  const startedAt = performance.now();
  const s = await startWatchdog(backend);
  for (;;) {
    const res = await request(`http://127.0.0.1:${s.port}/_/health`).catch(() => undefined);
    await res?.body.dump();
    if (res?.statusCode === 200) break;
  }
  const ms = performance.now() - startedAt;
  await stop(s);
  return ms;
}

/** Timed runs use wrk when it is installed (little CPU of its own); counted runs need bench/load.ts. */
const wrk = useWrk();

async function load(port: number, o: { durationMs?: number; requests?: number }): Promise<LoadResult> {
  const run = wrk && o.requests === undefined ? runWrk : runLoad;
  return run({ url: `http://127.0.0.1:${port}/`, method: 'POST', body: BODY, headers: { 'content-type': 'text/plain' }, connections: CONNECTIONS, ...o });
}

async function throughput(s: Started): Promise<LoadResult> {
  await load(s.port, { durationMs: WARMUP_MS });
  return load(s.port, { durationMs: LOAD_MS });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (n: number, d = 1): string => n.toFixed(d);

/** Run the watchdog benchmark; returns a Markdown section. */
export async function benchWatchdog(): Promise<string> {
  const rows: string[] = [];
  const backends = ['posix_spawn', 'child_process'];
  const memory: string[] = [];
  for (const backend of backends) {
    let s: Started;
    try { s = await startWatchdog(backend); } catch (err) { rows.push(`| whippet watchdog (${backend}) | unavailable: ${(err as Error).message.split('\n')[0]} | | | |`); continue; }
    try {
      await new Promise((r) => setTimeout(r, 500));
      const idle = rssMb(s.proc.pid!);
      const r = await throughput(s);
      rows.push(`| whippet watchdog, serializing (${backend}) | ${f(r.rps, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${r.errors} |`);
      await stop(s);
      // RSS after exactly RSS_REQUESTS requests on a fresh process.
      s = await startWatchdog(backend);
      const n = await load(s.port, { requests: RSS_REQUESTS });
      memory.push(`| ${backend} | ${f(idle)} | ${f(rssMb(s.proc.pid!))} (${n.requests} requests, ${n.errors} errors) | ${f(rssMb(s.proc.pid!, 'VmHWM'))} |`);
    } finally {
      await stop(s);
    }
  }
  const naive = await startServer([NAIVE], benchEnv({ PORT: '0' }));
  try {
    const r = await throughput(naive);
    rows.push(`| naive node:http + child_process.spawn('cat') per request | ${f(r.rps, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${r.errors} |`);
  } finally {
    await stop(naive);
  }
  const startup: string[] = [];
  for (const backend of backends) {
    const runs: number[] = [];
    for (let i = 0; i < STARTUP_RUNS; i++) runs.push(await startupMs(backend).catch(() => NaN));
    startup.push(`| ${backend} | ${f(median(runs))} | ${f(Math.min(...runs))} – ${f(Math.max(...runs))} |`);
  }
  return [
    '## Watchdog: fork per request (serializing, `fprocess=cat`)',
    '',
    `${CONNECTIONS} connections, closed loop, a ${Buffer.byteLength(BODY)}-byte POST, ${LOAD_MS / 1000} s after a ${WARMUP_MS / 1000} s warm-up; the load generator (${wrk ? '`wrk -t1 -c8`' : 'bench/load.ts, undici'}) runs on the same 2 cores.`,
    '',
    '| server | requests/s | p50 ms | p99 ms | errors |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Start-up: process spawn → first \`/_/health\` 200 (median of ${STARTUP_RUNS}, metrics off, NODE_EXTRA_CA_CERTS unset).`,
    '',
    '| spawn backend | median ms | range ms |',
    '|---|---|---|',
    ...startup,
    '',
    `Memory of the watchdog process (MB): idle after start, and after ${RSS_REQUESTS.toLocaleString('en')} requests on a fresh process.`,
    '',
    '| spawn backend | idle RSS | RSS after 10,000 requests | peak (VmHWM) |',
    '|---|---|---|---|',
    ...memory,
    '',
  ].join('\n');
}

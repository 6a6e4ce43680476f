// The watchdog's start-up time and its idle and loaded RSS, per spawn backend (fprocess=cat, serializing).
// Throughput side by side with the naive server is bench/spawn-e2e.ts.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { runLoad, type LoadResult } from './load.js';
import { benchEnv, startServer, stopServer, type Started } from './server-process.js';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const CLI = `${DIST}cli/main.js`;
const BODY = 'hello world, this is a small body'; // 33 bytes, as in the OpenFaaS measurements
const CONNECTIONS = 8;
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

/** Exactly `requests` POSTs (bench/load.ts counts them; wrk runs for a time). */
function load(port: number, requests: number): Promise<LoadResult> {
  return runLoad({ url: `http://127.0.0.1:${port}/`, method: 'POST', body: BODY, headers: { 'content-type': 'text/plain' }, connections: CONNECTIONS, requests });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (n: number, d = 1): string => n.toFixed(d);

/** Run the watchdog benchmark; returns a Markdown section. */
export async function benchWatchdog(): Promise<string> {
  const backends = ['posix_spawn', 'child_process'];
  const memory: string[] = [];
  for (const backend of backends) {
    let s: Started;
    try { s = await startWatchdog(backend); } catch (err) { memory.push(`| ${backend} | unavailable: ${(err as Error).message.split('\n')[0]} | | |`); continue; }
    try {
      await new Promise((r) => setTimeout(r, 500));
      const idle = rssMb(s.proc.pid!);
      const n = await load(s.port, RSS_REQUESTS);
      memory.push(`| ${backend} | ${f(idle)} | ${f(rssMb(s.proc.pid!))} (${n.requests} requests, ${n.errors} errors) | ${f(rssMb(s.proc.pid!, 'VmHWM'))} |`);
    } finally {
      await stop(s);
    }
  }
  const startup: string[] = [];
  for (const backend of backends) {
    const runs: number[] = [];
    for (let i = 0; i < STARTUP_RUNS; i++) runs.push(await startupMs(backend).catch(() => NaN));
    startup.push(`| ${backend} | ${f(median(runs))} | ${f(Math.min(...runs))} – ${f(Math.max(...runs))} |`);
  }
  return [
    '## Watchdog: start-up and memory (`fprocess=cat`, serializing)',
    '',
    'Throughput side by side with the naive server is under "End to end" below.',
    '',
    `Start-up: process spawn → first \`/_/health\` 200 (median of ${STARTUP_RUNS}, metrics off, NODE_EXTRA_CA_CERTS unset).`,
    '',
    '| spawn backend | median ms | range ms |',
    '|---|---|---|',
    ...startup,
    '',
    `Memory of the watchdog process (MB): idle after start, and after ${RSS_REQUESTS.toLocaleString('en')} requests ` +
      `(${CONNECTIONS} connections, a ${Buffer.byteLength(BODY)}-byte POST) on a fresh process.`,
    '',
    '| spawn backend | idle RSS | RSS after 10,000 requests | peak (VmHWM) |',
    '|---|---|---|---|',
    ...memory,
    '',
  ].join('\n');
}

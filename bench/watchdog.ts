// The watchdog's start-up time and its idle and loaded RSS: per spawn backend (fprocess=cat, serializing) and in
// http mode (a node:http echo as the function). Throughput side by side with the naive server is
// bench/spawn-e2e.ts; beside the Go watchdogs (when their binaries are named), bench/watchdog-vs-go.ts.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freePort } from '../common/free-port.js';
import { readAtCheckpoints } from './load.js';
import { benchEnv, stopServer } from './server-process.js';
import { watchdogBesideGo } from './watchdog-vs-go.js';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const CLI = `${DIST}cli/main.cjs`;
const BODY = 'hello world, this is a small body'; // 33 bytes, as in the OpenFaaS measurements
const CONNECTIONS = 8;
const STARTUP_RUNS = 9;
/** RSS is read after this many requests in total, on one fresh process. */
// 200,000: "flat after 100,000 requests" (issue 17) needs a reading after the 100,000 one.
const CHECKPOINTS = [10_000, 100_000, 200_000];
const ECHO = `require('http').createServer((q,s)=>{const c=[];q.on('data',d=>c.push(d)).on('end',()=>s.end(Buffer.concat(c)))}).listen(+process.argv[1],'127.0.0.1')`;

interface Case { readonly name: string; readonly env: Record<string, string> }

async function httpCase(): Promise<Case> {
  const upstream = await freePort();
  return {
    name: 'http mode (node:http echo)',
    env: { mode: 'http', fprocess: `node -e "${ECHO}" ${upstream}`, upstream_url: `http://127.0.0.1:${upstream}` },
  };
}

const BACKENDS: readonly Case[] = [
  { name: 'serializing, posix_spawn', env: { fprocess: 'cat', spawn_backend: 'posix_spawn' } },
  { name: 'serializing, child_process', env: { fprocess: 'cat', spawn_backend: 'child_process' } },
];

interface Running { readonly proc: ChildProcess; readonly port: number; readonly startMs: number }

/** Spawn the watchdog with `env` on a free port; resolves at its first `/_/health` 200 (polled every ms). */
async function start(env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const startedAt = performance.now();
  const proc = spawn(process.execPath, [CLI, 'watchdog'], { env: benchEnv({ port: String(port), ...env }), stdio: 'ignore' });
  try {
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`exited (${proc.exitCode ?? proc.signalCode}) before answering`);
      if (performance.now() - startedAt > 20_000) throw new Error('no /_/health 200 within 20 s');
      const res = await request(`http://127.0.0.1:${port}/_/health`, { reset: true }).catch(() => undefined);
      await res?.body.dump();
      if (res?.statusCode === 200) return { proc, port, startMs: performance.now() - startedAt };
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  } catch (err) {
    await stopServer(proc);
    throw err;
  }
}

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (n: number, d = 1): string => n.toFixed(d);

/** Median, min and max start-up of `runs` fresh watchdogs. */
async function startup(env: Record<string, string>): Promise<string> {
  const runs: number[] = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const r = await start(env).catch(() => undefined);
    runs.push(r?.startMs ?? NaN);
    if (r) await stopServer(r.proc);
  }
  return `${f(median(runs))} | ${f(Math.min(...runs))} – ${f(Math.max(...runs))}`;
}

/** Idle RSS, then RSS after each checkpoint of requests (8 connections, a 33-byte POST), and the peak. */
async function memory(c: Case, metrics: boolean): Promise<string> {
  let r: Running;
  const env = { ...c.env, metrics_port: metrics ? String(await freePort()) : '0' };
  try { r = await start(env); } catch (err) { return `| ${c.name} | ${metrics ? 'on' : 'off'} | unavailable: ${(err as Error).message.split('\n')[0]} |`; }
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const idle = f(rssMb(r.proc.pid!));
    const { cells, errors } = await readAtCheckpoints({
      url: `http://127.0.0.1:${r.port}/`, method: 'POST', body: BODY, headers: { 'content-type': 'text/plain' }, connections: CONNECTIONS,
    }, CHECKPOINTS, async () => f(rssMb(r.proc.pid!)));
    return `| ${c.name} | ${metrics ? 'on' : 'off'} | ${idle} | ${cells.join(' | ')} | ${f(rssMb(r.proc.pid!, 'VmHWM'))} | ${errors} |`;
  } finally {
    await stopServer(r.proc, 'SIGINT');
  }
}

/** Run the watchdog benchmark; returns a Markdown section. */
export async function benchWatchdog(): Promise<string> {
  const http = await httpCase();
  const startupRows = [
    `| serializing, posix_spawn | on (default) | ${await startup({ ...BACKENDS[0]!.env, metrics_port: String(await freePort()) })} |`,
    `| serializing, posix_spawn | off | ${await startup({ ...BACKENDS[0]!.env, metrics_port: '0' })} |`,
    `| serializing, child_process | off | ${await startup({ ...BACKENDS[1]!.env, metrics_port: '0' })} |`,
  ];
  const memoryRows = [
    await memory(BACKENDS[0]!, true),
    await memory(BACKENDS[0]!, false),
    await memory(BACKENDS[1]!, false),
    await memory(http, true),
  ];
  const after = CHECKPOINTS.map((n) => `after ${n.toLocaleString('en')}`);
  return [
    '## Watchdog: start-up and memory',
    '',
    'Throughput side by side with the naive server is under "End to end" below.',
    '',
    `Start-up: process spawn → first \`/_/health\` 200, polled every millisecond (median of ${STARTUP_RUNS}; NODE_EXTRA_CA_CERTS unset).`,
    '',
    '| case | metrics | median ms | range ms |',
    '|---|---|---|---|',
    ...startupRows,
    '',
    `Memory of the watchdog process (VmRSS, MB): idle 0.5 s after start, then after ${CHECKPOINTS.map((n) => n.toLocaleString('en')).join(', ')} ` +
      `requests in total on the same process (${CONNECTIONS} connections, a ${Buffer.byteLength(BODY)}-byte POST; a count in brackets: the run hit its time cap).`,
    '',
    `| case | metrics | idle | ${after.join(' | ')} | peak (VmHWM) | errors |`,
    `|---|---|---|${after.map(() => '---|').join('')}---|---|`,
    ...memoryRows,
    '',
    await watchdogBesideGo(),
  ].join('\n');
}

// Issue 7's end-to-end check: the watchdog with fprocess=cat under 8 connections and a 33-byte POST, per spawn
// backend and mode, beside the naive node:http + child_process server. Servers are interleaved round by round
// (fresh process each time) so that load from other work on the shared 2 cores hits every server alike.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
import { hasWrk, runWrk } from './wrk.js';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const BODY = 'hello world, this is a small body'; // 33 bytes, as in the OpenFaaS measurements
const CONNECTIONS = 8;
const ROUNDS = Number(process.env.WHIPPET_BENCH_ROUNDS ?? 3);
const WARMUP_MS = 1_000;
const LOAD_MS = 5_000;

interface Server {
  readonly label: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  /** Which stream announces the port. */
  readonly announces: 'stdout' | 'stderr';
}

const watchdog = (mode: string, backend: string): Server => ({
  label: `watchdog ${mode}, ${backend}`,
  args: [`${DIST}cli/main.js`, 'watchdog'],
  env: { fprocess: 'cat', mode, port: '0', metrics_port: '0', spawn_backend: backend, suppress_lock: 'true' },
  announces: 'stderr',
});

const NAIVE: Server = { label: 'naive (node:http + child_process)', args: [`${DIST}bench/naive-cat-server.js`], env: { PORT: '0' }, announces: 'stdout' };

const ALL_SERVERS: Server[] = [
  NAIVE,
  watchdog('serializing', 'posix_spawn'),
  watchdog('serializing', 'child_process'),
  watchdog('streaming', 'posix_spawn'),
  watchdog('streaming', 'child_process'),
];
// WHIPPET_BENCH_ONLY=posix_spawn keeps the naive baseline plus the servers whose label contains the text.
const only = process.env.WHIPPET_BENCH_ONLY;
const SERVERS = only === undefined ? ALL_SERVERS : ALL_SERVERS.filter((s) => s === NAIVE || s.label.includes(only));

/** Prefer wrk (little CPU of its own); bench/load.ts (undici, in this process) when it is missing. */
const useWrk = hasWrk() && process.env.WHIPPET_BENCH_LOAD !== 'undici';
const generator = (o: LoadOptions): Promise<LoadResult> => (useWrk ? runWrk(o) : runLoad(o));

interface Measured extends LoadResult {
  /** CPU milliseconds per request: the server process itself, and its reaped children (cat). */
  readonly serverCpu: number;
  readonly childCpu: number;
}

/** [own, reaped children] CPU time of `pid` in ms (utime+stime, cutime+cstime; 100 ticks a second). */
function cpuMs(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return [(f[11]! + f[12]!) * 10, (f[13]! + f[14]!) * 10];
}

async function start(s: Server): Promise<{ proc: ChildProcess; port: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...s.env };
  delete env.NODE_EXTRA_CA_CERTS; // ~125 ms per node start here, and nothing makes TLS calls
  delete env.NODE_OPTIONS;
  const proc = spawn(process.execPath, s.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.resume();
  proc.stderr!.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${s.label}: no port in 10 s: ${text}`)); }, 10_000);
    proc[s.announces]!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = /listening\D*?(?:port[=":]+)?(\d{2,5})/.exec(text);
      if (m) { clearTimeout(timer); resolve({ proc, port: Number(m[1]) }); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${s.label} exited ${code}: ${text}`)); });
  });
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGKILL'); // the drain on SIGTERM would only add seconds here
  await exited;
}

async function measure(s: Server): Promise<Measured> {
  const { proc, port } = await start(s);
  try {
    const load = (durationMs: number): Promise<LoadResult> => generator({
      url: `http://127.0.0.1:${port}/`, method: 'POST', body: BODY,
      headers: { 'content-type': 'text/plain' }, connections: CONNECTIONS, durationMs,
    });
    await load(WARMUP_MS);
    const before = cpuMs(proc.pid!);
    const r = await load(LOAD_MS);
    const after = cpuMs(proc.pid!);
    return { ...r, serverCpu: (after[0] - before[0]) / r.requests, childCpu: (after[1] - before[1]) / r.requests };
  } finally {
    await stop(proc);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs the interleaved end-to-end comparison and returns it as Markdown. */
export async function benchSpawnEndToEnd(): Promise<string> {
  const results = new Map<string, Measured[]>(SERVERS.map((s) => [s.label, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of SERVERS) results.get(s.label)!.push(await measure(s));
  }
  const naive = results.get(NAIVE.label)!;
  const lines = [...results].map(([label, rs]) => {
    const ratios = rs.map((r, i) => r.rps / naive[i]!.rps);
    const p99VsNaiveP50 = rs.map((r, i) => (r.p99 <= naive[i]!.p50 ? 'yes' : 'no'));
    return `| ${label} | ${rs.map((r) => r.rps.toFixed(0)).join(' / ')} | ${median(ratios).toFixed(2)}x ` +
      `(${ratios.map((x) => x.toFixed(1)).join(' / ')}) | ${rs.map((r) => r.p50.toFixed(1)).join(' / ')} | ` +
      `${rs.map((r) => r.p99.toFixed(1)).join(' / ')} | ${p99VsNaiveP50.join(' / ')} | ` +
      `${median(rs.map((r) => r.serverCpu)).toFixed(2)} | ${median(rs.map((r) => r.childCpu)).toFixed(2)} | ${rs.reduce((n, r) => n + r.errors, 0)} |`;
  });
  return [
    '### End to end: `fprocess=cat`, 8 connections, 33-byte POST',
    '',
    `${ROUNDS} rounds; in each round every server runs fresh, one after another (${WARMUP_MS / 1000} s warm-up, ` +
      `${LOAD_MS / 1000} s measured, closed loop). Load generator: ${useWrk ? '`wrk -t1 -c8` (C, little CPU of its own)' : 'bench/load.ts (undici, in the benchmark process)'}, ` +
      'on the same 2 cores as the servers. Values are per round; CPU columns are medians of ms per request ' +
      '(from /proc/<pid>/stat: the server itself, and the `cat` children it reaped).',
    '',
    '| server | requests/s | vs naive (median, per round) | p50 ms | p99 ms | p99 <= naive p50 | server CPU ms/req | cat CPU ms/req | errors |',
    '|---|---|---|---|---|---|---:|---:|---:|',
    ...lines,
    '',
  ].join('\n');
}

// `node dist/bench/spawn-e2e.js` runs just this comparison (WHIPPET_BENCH_ROUNDS, WHIPPET_BENCH_ONLY narrow it).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(await benchSpawnEndToEnd());

// Issue 7's end-to-end check: the watchdog with fprocess=cat under 8 connections and a 33-byte POST, per spawn
// backend and mode, beside the naive node:http + child_process server. Servers are interleaved round by round
// (fresh process each time) so that load from other work on the shared 2 cores hits every server alike.

import { readFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
import { benchEnv, startServer, stopServer } from './server-process.js';
import { runWrk, useWrk } from './wrk.js';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const BODY = 'hello world, this is a small body'; // 33 bytes, as in the OpenFaaS measurements
const CONNECTIONS = 8;
const WRK_THREADS = 2; // `wrk -t2 -c8 -d10s`, as in the OpenFaaS measurements
const ROUNDS = Number(process.env.WHIPPET_BENCH_ROUNDS ?? 3);
const WARMUP_MS = 1_000;
const LOAD_MS = Number(process.env.WHIPPET_BENCH_SECONDS ?? 10) * 1000;
const CORES = cpus().length;

/**
 * What a function sees in the base image (node:20-bookworm-slim plus our Dockerfile): no LANG, so `cat`
 * does not load a locale at start.
 */
const IMAGE_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: homedir(),
  NODE_ENV: 'production',
  NODE_VERSION: process.versions.node,
};

interface Server {
  readonly label: string;
  readonly args: string[];
  readonly env: Record<string, string>;
}

const watchdog = (mode: string, backend: string): Server => ({
  label: `watchdog ${mode}, ${backend}`,
  args: [`${DIST}cli/main.js`, 'watchdog'],
  env: { fprocess: 'cat', mode, port: '0', metrics_port: '0', spawn_backend: backend, suppress_lock: 'true' },
});

const NAIVE: Server = { label: 'naive (node:http + child_process)', args: [`${DIST}bench/naive-cat-server.js`], env: { PORT: '0' } };

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
const wrk = useWrk();
const generator = (o: LoadOptions): Promise<LoadResult> => (wrk ? runWrk(o) : runLoad(o));

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

async function measure(s: Server, base: Record<string, string>): Promise<Measured> {
  const { proc, port } = await startServer(s.args, { ...base, ...s.env });
  try {
    const load = (durationMs: number): Promise<LoadResult> => generator({
      url: `http://127.0.0.1:${port}/`, method: 'POST', body: BODY,
      headers: { 'content-type': 'text/plain' }, connections: CONNECTIONS, threads: WRK_THREADS, durationMs,
    });
    await load(WARMUP_MS);
    const before = cpuMs(proc.pid!);
    const r = await load(LOAD_MS);
    const after = cpuMs(proc.pid!);
    return { ...r, serverCpu: (after[0] - before[0]) / r.requests, childCpu: (after[1] - before[1]) / r.requests };
  } finally {
    await stopServer(proc);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One comparison: every server, fresh each round, interleaved round by round; a Markdown table. */
async function compare(servers: readonly Server[], base: Record<string, string>): Promise<string> {
  const results = new Map<string, Measured[]>(servers.map((s) => [s.label, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of servers) results.get(s.label)!.push(await measure(s, base));
  }
  const naive = results.get(NAIVE.label)!;
  const lines = [...results].map(([label, rs]) => {
    const ratios = rs.map((r, i) => r.rps / naive[i]!.rps);
    const p99VsNaiveP50 = rs.map((r, i) => (r.p99 <= naive[i]!.p50 ? 'yes' : 'no'));
    const serverCpu = median(rs.map((r) => r.serverCpu));
    const childCpu = median(rs.map((r) => r.childCpu));
    return `| ${label} | ${rs.map((r) => r.rps.toFixed(0)).join(' / ')} | ${median(ratios).toFixed(2)}x ` +
      `(${ratios.map((x) => x.toFixed(1)).join(' / ')}) | ${rs.map((r) => r.p50.toFixed(1)).join(' / ')} | ` +
      `${rs.map((r) => r.p99.toFixed(1)).join(' / ')} | ${p99VsNaiveP50.join(' / ')} | ` +
      `${serverCpu.toFixed(2)} | ${childCpu.toFixed(2)} | ${((CORES * 1000) / (serverCpu + childCpu)).toFixed(0)} | ` +
      `${rs.reduce((n, r) => n + r.errors, 0)} |`;
  });
  return [
    '| server | requests/s | vs naive (median, per round) | p50 ms | p99 ms | p99 <= naive p50 | server CPU ms/req | cat CPU ms/req | CPU ceiling req/s | errors |',
    '|---|---|---|---|---|---|---:|---:|---:|---:|',
    ...lines,
  ].join('\n');
}

/** Runs the interleaved end-to-end comparisons and returns them as Markdown. */
export async function benchSpawnEndToEnd(): Promise<string> {
  const shell = benchEnv();
  const imageTable = await compare(SERVERS, IMAGE_ENV);
  const shellTable = await compare(SERVERS.filter((s) => s === NAIVE || s.label.includes('posix_spawn')), shell);
  const generatorText = wrk
    ? `\`wrk -t${WRK_THREADS} -c${CONNECTIONS}\` (C, little CPU of its own)`
    : 'bench/load.ts (undici, in the benchmark process: wrk is not installed, or WHIPPET_BENCH_LOAD=undici)';
  return [
    '### End to end: `fprocess=cat`, 8 connections, 33-byte POST',
    '',
    `${ROUNDS} rounds; in each round every server runs fresh, one after another (${WARMUP_MS / 1000} s warm-up, ` +
      `${LOAD_MS / 1000} s measured, closed loop, \`Content-Type: text/plain\`; watchdogs with their defaults but ` +
      `\`metrics_port=0\`, logging a line per request to a file). Load generator: ${generatorText}, ` +
      `on the same ${CORES} cores as the servers. Values are per round; CPU columns are medians of ms per request ` +
      '(from /proc/<pid>/stat: the server with all its threads, and the `cat` children it reaped, including their ' +
      `time between spawn and exec). CPU ceiling = ${CORES} cores / (server + cat CPU per request): the rate at which ` +
      'the cores would be full with nothing else running; the naive server stops far below its ceiling because ' +
      'every spawn blocks its one event loop while the Node process is copied.',
    '',
    `In the base image's environment (${Object.keys(IMAGE_ENV).join(', ')}; no LANG), as a function runs in production:`,
    '',
    imageTable,
    '',
    `In this shell's environment (LANG=${shell.LANG ?? 'unset'}${shell.LANG ? ': every `cat` loads that locale at start' : ''}), ` +
      'the same servers on the posix_spawn path:',
    '',
    shellTable,
    '',
  ].join('\n');
}

// `node dist/bench/spawn-e2e.js` runs just this comparison (WHIPPET_BENCH_ROUNDS, WHIPPET_BENCH_SECONDS and
// WHIPPET_BENCH_ONLY narrow it).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(await benchSpawnEndToEnd());

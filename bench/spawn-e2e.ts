// End-to-end: the watchdog with fprocess=cat under 8 connections and a 33-byte POST, per spawn
// backend and mode, beside the naive node:http + child_process server. Servers are interleaved round by round
// (fresh process each time) so that load from other work on the shared 2 cores hits every server alike. The Go
// classic watchdog is a row when WHIPPET_BENCH_GO_CLASSIC_WATCHDOG names its binary (bench/go-anchors.ts).

import { cpus, homedir } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileC, runJson, type CatLoopResult } from './c-programs.js';
import { freePort } from '../common/free-port.js';
import { pairHeader, pairRow } from './beside-go.js';
import { ANCHORS, findAnchor, halt, launch } from './go-anchors.js';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
import { benchEnv, processCpuMs, startServer, stopServer } from './server-process.js';
import { runWrk, useWrk } from './wrk.js';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const BODY = 'hello world, this is a small body'; // 33 bytes, as in the OpenFaaS measurements
const CONNECTIONS = 8;
const WRK_THREADS = 2; // `wrk -t2 -c8 -d10s`, as in the OpenFaaS measurements
const ROUNDS = Number(process.env.WHIPPET_BENCH_ROUNDS ?? 5);
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
  /** A program that runs the load itself for the given milliseconds (the C ceiling), instead of a server. */
  readonly selfLoaded?: true;
  /** A Go anchor's binary, run instead of `node args` (ready at its first /_/health 200). */
  readonly goBinary?: string;
}

const watchdog = (mode: string, backend: string): Server => ({
  label: `watchdog ${mode}, ${backend}`,
  args: [`${DIST}cli/main.cjs`, 'watchdog'],
  env: { fprocess: 'cat', mode, port: '0', metrics_port: '0', spawn_backend: backend, suppress_lock: 'true' },
});

const NAIVE: Server = { label: 'naive (node:http + child_process)', args: [`${DIST}bench/naive-cat-server.js`], env: { PORT: '0' } };

const CLASSIC_FOUND = findAnchor('classic-watchdog');
/** The Go classic watchdog with its defaults (lock file on, metrics on 8081) and whippet's timeouts. */
const CLASSIC: Server | undefined = 'bin' in CLASSIC_FOUND
  ? {
    label: `${ANCHORS['classic-watchdog'].name} (${ANCHORS['classic-watchdog'].upstream.split(' ')[1]})`, args: [], goBinary: CLASSIC_FOUND.bin,
    env: { fprocess: 'cat', read_timeout: '30s', write_timeout: '30s', exec_timeout: '30s' },
  }
  : undefined;

const ALL_SERVERS: Server[] = [
  NAIVE,
  watchdog('serializing', 'native'),
  watchdog('serializing', 'child_process'),
  watchdog('streaming', 'native'),
  watchdog('streaming', 'child_process'),
  ...(CLASSIC ? [CLASSIC] : []),
];
/**
 * The ceiling: bench/c/cat-loop.c, compiled here, runs `cat` per request the way any fork-per-request server
 * must (glibc posix_spawn, body in, stdout to EOF, reap) with one thread per connection, and no HTTP at all. A
 * server beats its rate only by spawning more cheaply or by noise, so its ratio to the naive server is about the
 * most any server could show on the same machine.
 */
function ceiling(): Server | string {
  const loop = compileC('cat-loop');
  if ('error' in loop) return `not measured: ${loop.error}`;
  return { label: `ceiling: C loop, posix_spawn, no HTTP (${CONNECTIONS} threads)`, args: [loop.bin, String(CONNECTIONS)], env: {}, selfLoaded: true };
}
const CEILING = ceiling();

// WHIPPET_BENCH_ONLY=native keeps the naive baseline plus the servers whose label contains the text.
const only = process.env.WHIPPET_BENCH_ONLY;
const SERVERS = [
  ...(only === undefined ? ALL_SERVERS : ALL_SERVERS.filter((s) => s === NAIVE || s === CLASSIC || s.label.includes(only))),
  ...(typeof CEILING === 'string' ? [] : [CEILING]),
];

/** Prefer wrk (little CPU of its own); bench/load.ts (undici, in this process) when it is missing. */
const wrk = useWrk();
const generator = (o: LoadOptions): Promise<LoadResult> => (wrk ? runWrk(o) : runLoad(o));

interface Measured extends LoadResult {
  /** CPU milliseconds per request: the server process itself, and its reaped children (cat). */
  readonly serverCpu: number;
  readonly childCpu: number;
}

/** [own, reaped children] CPU time of `pid` in ms. */
function cpuMs(pid: number): [number, number] {
  const { own, children } = processCpuMs(pid);
  return [own, children];
}

/** Runs the C ceiling for `ms` (after a warm-up) in `env`; no latencies, it has no requests to time. */
function measureLoop(s: Server, env: Record<string, string>): Measured {
  const run = (ms: number): CatLoopResult => runJson<CatLoopResult>(s.args[0]!, [...s.args.slice(1), String(ms)], env);
  run(WARMUP_MS);
  const r = run(LOAD_MS);
  return {
    rps: r.spawns / r.seconds, p50: Number.NaN, p99: Number.NaN, p999: Number.NaN, errors: r.errors, requests: r.spawns,
    elapsedMs: r.seconds * 1000, serverCpu: r.selfCpuMs / r.spawns, childCpu: r.childCpuMs / r.spawns,
  };
}

/** A Go anchor started fresh: `base` plus its settings, on a free port. */
async function startGo(s: Server, base: Record<string, string>): Promise<{ proc: ChildProcess; port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const r = await launch({
    label: s.label, file: s.goBinary!, env: { ...base, ...s.env, port: String(port) }, port,
    fixedPorts: ANCHORS['classic-watchdog'].fixedPorts, ready: { path: '/_/health' },
  });
  return { proc: r.proc, port, stop: () => halt(r) };
}

async function startNode(s: Server, base: Record<string, string>): Promise<{ proc: ChildProcess; port: number; stop: () => Promise<void> }> {
  const { proc, port } = await startServer(s.args, { ...base, ...s.env });
  return { proc, port, stop: () => stopServer(proc) };
}

async function measure(s: Server, base: Record<string, string>): Promise<Measured> {
  if (s.selfLoaded) return measureLoop(s, { ...base, ...s.env });
  const { proc, port, stop } = await (s.goBinary ? startGo(s, base) : startNode(s, base));
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
    await stop();
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
    const p99VsNaiveP50 = rs.map((r, i) => (Number.isNaN(r.p99) ? '–' : r.p99 <= naive[i]!.p50 ? 'yes' : 'no'));
    const ms = (x: number): string => (Number.isNaN(x) ? '–' : x.toFixed(1));
    const serverCpu = median(rs.map((r) => r.serverCpu));
    const childCpu = median(rs.map((r) => r.childCpu));
    return `| ${label} | ${rs.map((r) => r.rps.toFixed(0)).join(' / ')} | ${median(ratios).toFixed(2)}x ` +
      `(${ratios.map((x) => x.toFixed(1)).join(' / ')}) | ${rs.map((r) => ms(r.p50)).join(' / ')} | ` +
      `${rs.map((r) => ms(r.p99)).join(' / ')} | ${p99VsNaiveP50.join(' / ')} | ` +
      `${serverCpu.toFixed(2)} | ${childCpu.toFixed(2)} | ${((CORES * 1000) / (serverCpu + childCpu)).toFixed(0)} | ` +
      `${rs.reduce((n, r) => n + r.errors, 0)} |`;
  });
  return [
    '| server | requests/s | vs naive (median, per round) | p50 ms | p99 ms | p99 <= naive p50 | server CPU ms/req | cat CPU ms/req | CPU ceiling req/s | errors |',
    '|---|---|---|---|---|---|---:|---:|---:|---:|',
    ...lines,
    ...besideClassic(results),
  ].join('\n');
}

/** The native watchdog rows against the Go classic watchdog of the same round, when it ran. */
function besideClassic(results: ReadonlyMap<string, Measured[]>): string[] {
  const classic = CLASSIC && results.get(CLASSIC.label);
  if (!classic) return [];
  const rows = [...results].filter(([label]) => label.startsWith('watchdog') && label.endsWith('native'))
    .map(([label, rs]) => pairRow(`${label} vs classic watchdog`, rs, classic));
  return ['', `Beside the ${ANCHORS['classic-watchdog'].name} (${ANCHORS['classic-watchdog'].upstream}), round by round:`, '', pairHeader(), ...rows];
}

/** Runs the interleaved end-to-end comparisons and returns them as Markdown. */
export async function benchSpawnEndToEnd(): Promise<string> {
  const shell = benchEnv();
  const imageTable = await compare(SERVERS, IMAGE_ENV);
  const shellTable = await compare(SERVERS.filter((s) => s === NAIVE || s === CEILING || s.label.includes('native')), shell);
  const generatorText = wrk
    ? `\`wrk -t${WRK_THREADS} -c${CONNECTIONS}\` (C, little CPU of its own)`
    : 'bench/load.ts (undici, in the benchmark process: wrk is not installed, or WHIPPET_BENCH_LOAD=undici)';
  return [
    '### End to end: `fprocess=cat`, 8 connections, 33-byte POST',
    '',
    `${ROUNDS} rounds; in each round every server runs fresh, one after another (${WARMUP_MS / 1000} s warm-up, ` +
      `${LOAD_MS / 1000} s measured, closed loop, \`Content-Type: text/plain\`; watchdogs with their defaults but ` +
      `\`metrics_port=0\`, logging a line per request to a file; the Go classic watchdog, when named, with its own defaults: ` +
      'metrics on, which it cannot turn off, and its lock file). Load generator: ' + `${generatorText}, ` +
      `on the same ${CORES} cores as the servers. Values are per round; CPU columns are medians of ms per request ` +
      '(from /proc/<pid>/stat: the server with all its threads, and the `cat` children it reaped, including their ' +
      `time between spawn and exec). CPU ceiling = ${CORES} cores / (server + cat CPU per request): the rate at which ` +
      'the cores would be full with nothing else running; the naive server stops far below its ceiling because ' +
      'every spawn blocks its one event loop while the Node process is copied.',
    '',
    typeof CEILING === 'string'
      ? `Ceiling: ${CEILING}.`
      : 'The last row is no server: bench/c/cat-loop.c, compiled by this run, does only what every fork-per-request ' +
        `server must do per request (glibc posix_spawn of \`cat\`, the body in, stdout read to EOF, the child reaped), ` +
        `on ${CONNECTIONS} threads like the ${CONNECTIONS} connections, with no HTTP and no load generator beside it. ` +
        'A server gets above its rate only by spawning more cheaply than glibc does (the watchdog\'s clone3 children ' +
        'cost less CPU) or by the noise between rounds, so its ratio to the naive server is about the most any server ' +
        'could show here; its CPU columns are the loop itself and its children.',
    '',
    `In the base image's environment (${Object.keys(IMAGE_ENV).join(', ')}; no LANG), as a function runs in production:`,
    '',
    ...('absent' in CLASSIC_FOUND ? [CLASSIC_FOUND.absent, ''] : []),
    imageTable,
    '',
    `In this shell's environment (LANG=${shell.LANG ?? 'unset'}${shell.LANG ? ': every `cat` loads that locale at start' : ''}), ` +
      'the same servers on the native path:',
    '',
    shellTable,
    '',
  ].join('\n');
}

// `node dist/bench/spawn-e2e.js` runs just this comparison (WHIPPET_BENCH_ROUNDS, WHIPPET_BENCH_SECONDS and
// WHIPPET_BENCH_ONLY narrow it).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(await benchSpawnEndToEnd());

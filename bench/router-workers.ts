// The router with workers=1 (one process) beside workers=2 (a primary and two workers sharing the port),
// in one run: the sync path to a node:http echo at 32 connections and at 1, in alternating rounds on fresh
// routers, then start → first answer and idle memory. wrk is the load generator.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { freePort } from '../common/free-port.js';
import { CLI, benchEnv, childPids, startServer, stopServer } from './server-process.js';
import { median, readAtCheckpoints, type LoadResult } from './load.js';
import { hasWrk, runWrk } from './wrk.js';

const BODY = 'hello world, this is a small body'; // 33 bytes, as in the OpenFaaS measurements
const ECHO = `require('http').createServer((q,s)=>{const c=[];q.on('data',d=>c.push(d)).on('end',()=>s.end(Buffer.concat(c)))})
  .listen(+process.env.FN_PORT,'127.0.0.1',()=>console.error(JSON.stringify({msg:'listening',port:+process.env.FN_PORT})))`;
const WORKER_COUNTS = [1, 2] as const;
const CONNECTIONS = [32, 1] as const;
const ROUNDS = 3;
const WARMUP_S = 1;
const LOAD_S = 4;
const STARTS = 5;
const IDLE_SETTLE_MS = 500;
/** Memory under load: RSS of every router process after this many requests in total (32 connections). */
const MEMORY_CHECKPOINTS = [10_000, 100_000, 200_000, 400_000] as const;
const MEMORY_CONNECTIONS = 32;

// wrk's figures (bench/wrk.ts): its Lua `done` hook reports p99.9, which its --latency table does not.
const load = (url: string, connections: number, seconds: number): Promise<LoadResult> => runWrk({
  url, method: 'POST', body: BODY, headers: { 'Content-Type': 'text/plain' }, connections, threads: Math.min(2, connections), durationMs: seconds * 1000,
});

/** Resident memory of a process and of its children (the workers), in MB. */
function rssMb(pid: number): { own: number; children: number[] } {
  const kb = (p: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? NaN);
  return { own: kb(pid) / 1024, children: childPids(pid).map((c) => kb(c) / 1024) };
}

function routerEnv(workers: number, echoPort: number, dir: string, port: number): Record<string, string> {
  return benchEnv({ workers: String(workers), port: String(port), log_format: 'json', functions: `echo=http://127.0.0.1:${echoPort}`, queue: `sqlite:${join(dir, `queue-${workers}.db`)}` });
}

/** Spawn a router and time it to its first 200 from the echo (polled every millisecond or so). */
async function timedStart(workers: number, echoPort: number, dir: string): Promise<{ proc: ChildProcess; ms: number }> {
  const port = await freePort();
  const log = join(dir, `start-${workers}.log`);
  const fd = openSync(log, 'w');
  const t0 = performance.now();
  const proc = spawn(process.execPath, [CLI, 'router'], { env: routerEnv(workers, echoPort, dir, port), stdio: ['ignore', fd, fd] });
  closeSync(fd);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`router exited: ${readFileSync(log, 'utf8')}`);
    try {
      const res = await request(`http://127.0.0.1:${port}/function/echo`, { method: 'POST', body: BODY, reset: true });
      await res.body.dump();
      if (res.statusCode === 200) return { proc, ms: performance.now() - t0 };
    } catch { /* not listening yet */ }
    if (performance.now() - t0 > 20_000) throw new Error(`router (workers=${workers}) did not answer within 20 s`);
    await delay(1);
  }
}

const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

const totalMb = (r: { own: number; children: number[] }): number => r.own + r.children.reduce((a, b) => a + b, 0);

/** One fresh router: idle RSS (all processes), then after each checkpoint of requests; a Markdown row. */
async function memoryRow(workers: number, echoPort: number, dir: string): Promise<string> {
  const router = await startServer([CLI, 'router'], routerEnv(workers, echoPort, dir, 0));
  try {
    await delay(IDLE_SETTLE_MS);
    const rss = (): string => f(totalMb(rssMb(router.proc.pid!)), 1);
    const idle = rss();
    const { cells, errors } = await readAtCheckpoints({
      url: `http://127.0.0.1:${router.port}/function/echo`, method: 'POST', body: BODY, headers: { 'content-type': 'text/plain' },
      connections: MEMORY_CONNECTIONS,
    }, MEMORY_CHECKPOINTS, async () => { await delay(IDLE_SETTLE_MS); return rss(); });
    return `| ${workers} | ${idle} | ${cells.join(' | ')} | ${errors} |`;
  } finally {
    await stopServer(router.proc, 'SIGINT');
  }
}

/** The Markdown subsection. */
export async function routerWorkers(): Promise<string> {
  const head = '### workers=1 beside workers=2';
  if (!hasWrk()) return `${head}\n\nNot measured: wrk is not installed.\n`;
  const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-workers-'));
  let echo: ChildProcess | undefined;
  const loadBefore = loadavg();
  try {
    const echoPort = await freePort();
    echo = (await startServer(['-e', ECHO], benchEnv({ FN_PORT: String(echoPort) }))).proc;
    const samples = new Map<string, LoadResult[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const workers of WORKER_COUNTS) {
        const router = await startServer([CLI, 'router'], routerEnv(workers, echoPort, dir, 0));
        try {
          for (const c of CONNECTIONS) {
            const url = `http://127.0.0.1:${router.port}/function/echo`;
            await load(url, c, WARMUP_S);
            const s = await load(url, c, LOAD_S);
            const key = `${workers}/${c}`;
            samples.set(key, [...(samples.get(key) ?? []), s]);
          }
        } finally {
          await stopServer(router.proc, 'SIGINT');
        }
      }
    }
    const starts = new Map<number, number[]>();
    const rss = new Map<number, Array<{ own: number; children: number[] }>>();
    for (let i = 0; i < STARTS; i++) {
      for (const workers of WORKER_COUNTS) {
        const { proc, ms } = await timedStart(workers, echoPort, dir);
        await delay(IDLE_SETTLE_MS);
        starts.set(workers, [...(starts.get(workers) ?? []), ms]);
        rss.set(workers, [...(rss.get(workers) ?? []), rssMb(proc.pid!)]);
        await stopServer(proc, 'SIGINT');
      }
    }
    const memoryRows: string[] = [];
    for (const workers of WORKER_COUNTS) memoryRows.push(await memoryRow(workers, echoPort, dir));
    const loadAfter = loadavg();
    const rows: string[] = [];
    for (const c of CONNECTIONS) {
      const one = samples.get(`1/${c}`)!;
      const two = samples.get(`2/${c}`)!;
      const ratios = one.map((s, i) => two[i]!.rps / s.rps);
      for (const [w, ss] of [[1, one], [2, two]] as const) {
        rows.push(`| ${c} | ${w} | ${f(median(ss.map((s) => s.rps)), 0)} | ${f(median(ss.map((s) => s.p50)))} | ${f(median(ss.map((s) => s.p99)))} | ${f(median(ss.map((s) => s.p999)))} | ${ss.reduce((n, s) => n + s.errors, 0)} | ${w === 2 ? `${f(median(ratios))} (${ratios.map((r) => f(r)).join(', ')})` : ''} |`);
      }
    }
    const startRows = WORKER_COUNTS.map((w) => {
      const r = rss.get(w)!;
      const total = r.map(totalMb);
      const per = w === 1 ? '' : `primary ${f(median(r.map((x) => x.own)), 0)}, each worker ${f(median(r.flatMap((x) => x.children)), 0)}`;
      return `| ${w} | ${f(median(starts.get(w)!), 0)} (${starts.get(w)!.map((x) => f(x, 0)).join(', ')}) | ${f(median(total), 0)} | ${per} |`;
    });
    return [
      head,
      '',
      `The sync path to a node:http echo, a ${Buffer.byteLength(BODY)}-byte POST to \`/function/echo\`: ${ROUNDS} alternating rounds, a fresh router per round ` +
        `(defaults otherwise: SQLite queue in a temporary folder, async worker on), ${WARMUP_S} s warm-up then ${LOAD_S} s measured per connection count; ` +
        'wrk -t2 (-t1 at 1 connection) on the same 2 cores as router and echo. Medians over rounds; the ratio is workers=2 ÷ workers=1 req/s per round. ' +
        `Load average before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(1)).join(' ')} (the machine is shared: compare the ratios, not the absolute figures).`,
      '',
      '| connections | workers | req/s | p50 ms | p99 ms | p99.9 ms | errors | req/s ÷ workers=1 (per round) |',
      '|---:|---:|---:|---:|---:|---:|---:|---|',
      ...rows,
      '',
      `Start → first answer: spawn \`whippet router\` → first 200 from \`/function/echo\` through it (polled every ms), ${STARTS} starts each, alternating, ` +
        `NODE_EXTRA_CA_CERTS unset; idle RSS (VmRSS) ${IDLE_SETTLE_MS} ms later, every process of the router summed. Medians.`,
      '',
      '| workers | start → first answer, ms (each start) | idle RSS, MB (all processes) | per process, MB |',
      '|---:|---|---:|---|',
      ...startRows,
      '',
      `Memory under load: a fresh router per setting, VmRSS of every process summed ${IDLE_SETTLE_MS} ms after start (idle), then ${IDLE_SETTLE_MS} ms ` +
        `after ${MEMORY_CHECKPOINTS.map((n) => n.toLocaleString('en')).join(', ')} requests in total through it (${MEMORY_CONNECTIONS} connections, ` +
        'the same POST, the in-process generator of bench/load.ts; a count in brackets: the run hit its time cap). Flat means the last columns agree.',
      '',
      `| workers | idle | ${MEMORY_CHECKPOINTS.map((n) => `after ${n.toLocaleString('en')}`).join(' | ')} | errors |`,
      `|---:|---:|${MEMORY_CHECKPOINTS.map(() => '---:|').join('')}---:|`,
      ...memoryRows,
      '',
    ].join('\n');
  } finally {
    if (echo !== undefined) await stopServer(echo);
    rmSync(dir, { recursive: true, force: true });
  }
}

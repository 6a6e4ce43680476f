// What the dashboard costs the router: sync throughput through the router with no dashboard open and
// with ten open live views, runs alternated so drift hits both alike. A "view" is what an open page
// keeps going: the live calls stream, the queue chart stream (both SSE) and the functions table polled
// every 2 s, here done by this process with undici.

import type { ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freePort } from '../common/free-port.js';
import { runLoad, type LoadResult } from './load.js';
import { CLI, benchEnv, startServer, stopServer } from './server-process.js';

const CONNECTIONS = 16;
const WARMUP_MS = 1_000;
const RUN_MS = 4_000;
const ROUNDS = 3;
const VIEWS = 10;
const ECHO = `require('http').createServer((q,s)=>{const c=[];q.on('data',d=>c.push(d)).on('end',()=>s.end(Buffer.concat(c)))})
  .listen(+process.env.FN_PORT,'127.0.0.1',()=>console.error(JSON.stringify({msg:'listening',port:+process.env.FN_PORT})))`;

/** Open `n` live views on the router; resolves once every stream answered, returns the closer. */
async function openViews(base: string, n: number): Promise<() => Promise<void>> {
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per open stream
  const streams: Array<Promise<unknown>> = [];
  const polls: NodeJS.Timeout[] = [];
  for (let i = 0; i < n; i++) {
    for (const path of ['/ui/api/calls/stream', '/ui/api/queue/stream']) {
      const res = await request(`${base}${path}`, { signal: stop.signal });
      if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode}`);
      streams.push(res.body.dump({ limit: Infinity, signal: stop.signal }).catch(() => undefined));
    }
    polls.push(setInterval(() => { request(`${base}/ui/api/functions`).then((r) => r.body.dump(), () => undefined); }, 2_000));
  }
  return async () => {
    for (const p of polls) clearInterval(p);
    stop.abort();
    await Promise.all(streams);
  };
}

async function measure(url: string): Promise<LoadResult> {
  await runLoad({ url, method: 'POST', body: 'ping', connections: CONNECTIONS, durationMs: WARMUP_MS });
  return runLoad({ url, method: 'POST', body: 'ping', connections: CONNECTIONS, durationMs: RUN_MS });
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** Run the comparison; returns a Markdown section. */
export async function benchDashboard(): Promise<string> {
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-ui-'));
  try {
    const fnPort = await freePort();
    const echo = await startServer(['-e', ECHO], benchEnv({ FN_PORT: String(fnPort) }));
    procs.push(echo.proc);
    const router = await startServer([CLI, 'router'], benchEnv({
      log_format: 'json', port: '0', workers: '1', functions: `echo=http://127.0.0.1:${echo.port}`, queue: `sqlite:${join(dir, 'queue.db')}`,
    }));
    procs.push(router.proc);
    const base = `http://127.0.0.1:${router.port}`;
    const rows: string[] = [];
    const totals = { 0: [] as number[], [VIEWS]: [] as number[] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const views of [0, VIEWS] as const) {
        const close = views === 0 ? async () => {} : await openViews(base, views);
        try {
          const r = await measure(`${base}/function/echo`);
          totals[views].push(r.rps);
          rows.push(`| ${round} | ${views} | ${fmt(r.rps, 0)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.errors} |`);
        } finally {
          await close();
        }
      }
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ratio = mean(totals[VIEWS]) / mean(totals[0]);
    return [
      '## Dashboard cost (sync throughput with 0 and 10 open live views)',
      '',
      `Closed-loop POST of 4 bytes to /function/echo through the router (sqlite queue), ${CONNECTIONS} connections, ${RUN_MS / 1000} s after`,
      `a ${WARMUP_MS / 1000} s warm-up, ${ROUNDS} rounds alternating 0 and ${VIEWS} views. A view = the live calls stream + the queue`,
      'chart stream (SSE) + the functions table polled every 2 s, as an open page keeps them.',
      '',
      '| round | open views | req/s | p50 ms | p99 ms | errors |',
      '|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      `Mean with ${VIEWS} views: ${fmt(ratio * 100, 1)} % of the throughput with none.`,
      '',
    ].join('\n');
  } finally {
    for (const p of procs.reverse()) await stopServer(p, 'SIGINT');
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node dist/bench/dashboard.js` runs this section alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(await benchDashboard());
}

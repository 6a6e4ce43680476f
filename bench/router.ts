// Router overhead: the same load against a function directly and through the router, side by side,
// for an http-mode watchdog in front of a tiny upstream and for a bare node:http echo server.

import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runLoad, type LoadResult } from './load.js';
import { CLI, startServer, stopServer, type Started } from './server-process.js';
import { freePort } from '../common/free-port.js';
import { routerBesideGateway } from './router-vs-gateway.js';
import { routerWorkers } from './router-workers.js';

// The http-mode function the router tests use (JSON echo of the request), found from dist/bench/.
const HTTP_FN = fileURLToPath(new URL('../../test/router/fixtures/http-fn.mjs', import.meta.url));
const CONNECTIONS = 16;
const WARMUP_MS = 1_000;
const RUN_MS = 4_000;
// A bare echo: what a function that does nothing costs, so the router's share is easy to see.
const ECHO = `require('http').createServer((q,s)=>{const c=[];q.on('data',d=>c.push(d)).on('end',()=>s.end(Buffer.concat(c)))})
  .listen(+process.env.FN_PORT,'127.0.0.1',()=>console.error(JSON.stringify({msg:'listening',port:+process.env.FN_PORT})))`;

/** Start a node process and wait for its `listening` log line with a port. */
function start(args: string[], env: Record<string, string>): Promise<Started> {
  return startServer(args, { PATH: process.env['PATH'] ?? '', log_format: 'json', port: '0', ...env });
}

async function measure(url: string): Promise<LoadResult> {
  await runLoad({ url, method: 'POST', body: 'ping', connections: CONNECTIONS, durationMs: WARMUP_MS });
  return runLoad({ url, method: 'POST', body: 'ping', connections: CONNECTIONS, durationMs: RUN_MS });
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const signed = (n: number): string => `${n >= 0 ? '+' : ''}${fmt(n)}`;

/** The router's cost against calling the function directly. */
async function routerOverhead(): Promise<string> {
  const procs: ChildProcess[] = [];
  try {
    const echoPort = await freePort();
    const echo = await start(['-e', ECHO], { FN_PORT: String(echoPort) });
    procs.push(echo.proc);
    const fnPort = await freePort();
    const wd = await start([CLI, 'watchdog'], { mode: 'http', fprocess: `${process.execPath} ${HTTP_FN}`, upstream_url: `http://127.0.0.1:${fnPort}`, FN_PORT: String(fnPort), metrics_port: '0' });
    procs.push(wd.proc);
    const router = await start([CLI, 'router'], { workers: '1', functions: `wd=http://127.0.0.1:${wd.port},echo=http://127.0.0.1:${echo.port}` });
    procs.push(router.proc);
    const rows: string[] = [];
    for (const [label, direct, routed] of [
      ['watchdog (http mode) + tiny upstream', `http://127.0.0.1:${wd.port}/`, `http://127.0.0.1:${router.port}/function/wd`],
      ['bare node:http echo', `http://127.0.0.1:${echo.port}/`, `http://127.0.0.1:${router.port}/function/echo`],
    ] as const) {
      const d = await measure(direct);
      const r = await measure(routed);
      rows.push(`| ${label} | direct | ${fmt(d.rps, 0)} | ${fmt(d.p50)} | ${fmt(d.p99)} | ${d.errors} | |`);
      rows.push(`| ${label} | via router | ${fmt(r.rps, 0)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.errors} | ${signed(r.p50 - d.p50)} ms p50, ${signed(r.p99 - d.p99)} ms p99; ${fmt((r.rps / d.rps) * 100, 0)} % of direct rps |`);
    }
    return [
      '## Router overhead (sync path)',
      '',
      `Closed-loop POST of 4 bytes, ${CONNECTIONS} connections, ${RUN_MS / 1000} s after a ${WARMUP_MS / 1000} s warm-up; load generator,`,
      'router and function share the same 2 cores, so the router also competes with the function for CPU.',
      '',
      '| upstream | path | req/s | p50 ms | p99 ms | errors | router cost |',
      '|---|---|---:|---:|---:|---:|---|',
      ...rows,
      '',
    ].join('\n');
  } finally {
    for (const p of procs.reverse()) await stopServer(p, 'SIGINT');
  }
}

// Go anchor block: the router beside the OpenFaaS gateway (bench/router-vs-gateway.ts), run after the processes
// above are stopped; one line instead when WHIPPET_BENCH_GO_GATEWAY is not set.
/** The router section: its overhead, workers=1 beside workers=2 (bench/router-workers.ts), then the router beside the Go gateway. */
export async function benchRouter(): Promise<string> {
  return `${await routerOverhead()}\n${await routerWorkers()}\n${await routerBesideGateway()}`;
}

// `node dist/bench/router.js` runs this section alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(await benchRouter());
}

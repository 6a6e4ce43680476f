// The router beside the OpenFaaS gateway (Go), when its binary is named: the sync path at 32 connections and at
// 1, in alternating rounds on fresh processes, and start → first answer with idle RSS. One node:http echo that
// answers any path stands in for the gateway's provider and for the function: the gateway forwards
// /function/echo to `functions_provider_url`/function/echo, the router to the echo's root.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../common/free-port.js';
import { LOAD_MS, ROUNDS, STARTS, STARTUP_HEADER, WARMUP_MS, orLine, pairHeader, pairRow, startupRow, warmAndMeasure } from './beside-go.js';
import { ANCHORS, findAnchor, halt, launch, median, type Launch, type Running } from './go-anchors.js';
import type { LoadResult } from './load.js';
import { CLI, benchEnv } from './server-process.js';
import { generatorText } from './wrk.js';

const BODY = 'hello world, this is a small body'; // 33 bytes, as in the OpenFaaS measurements
const CONNECTION_COUNTS = [32, 1] as const;
const ECHO = `require('http').createServer((q,s)=>{const c=[];q.on('data',d=>c.push(d)).on('end',()=>s.end(Buffer.concat(c)))}).listen(+process.argv[2],'127.0.0.1')\n`;
const CALL = { path: '/function/echo', method: 'POST', body: BODY } as const;
// The gateway's defaults are 60 s, as the router's; set anyway, so that a changed default cannot skew a run.
const TIMEOUTS = { read_timeout: '60s', write_timeout: '60s', upstream_timeout: '60s' };

async function router(echoPort: number, queueDir: string): Promise<Launch> {
  const port = await freePort();
  const env = benchEnv({ port: String(port), functions: `echo=http://127.0.0.1:${echoPort}`, queue: `sqlite:${join(queueDir, 'queue.db')}`, ...TIMEOUTS });
  return { label: 'whippet router', file: process.execPath, args: [CLI, 'router'], env, port, ready: CALL, stopSignal: 'SIGINT' };
}

function gateway(bin: string, echoPort: number): Launch {
  // No NATS (async off) and no basic auth: both are off unless their variables are set.
  const env = benchEnv({ functions_provider_url: `http://127.0.0.1:${echoPort}/`, ...TIMEOUTS });
  return { label: 'gateway', file: bin, env, port: 8080, fixedPorts: ANCHORS.gateway.fixedPorts, ready: CALL };
}

type ByConnections = Record<(typeof CONNECTION_COUNTS)[number], LoadResult[]>;
const empty = (): ByConnections => ({ 32: [], 1: [] });

/** Both connection counts on one running server, `path` on its port. */
async function measureBoth(port: number, path: string, into: ByConnections): Promise<void> {
  for (const connections of CONNECTION_COUNTS) {
    into[connections].push(await warmAndMeasure({
      url: `http://127.0.0.1:${port}${path}`, method: 'POST', body: BODY, headers: { 'content-type': 'text/plain' },
      connections, threads: Math.min(2, connections),
    }));
  }
}

async function fresh(l: Launch, into: ByConnections): Promise<void> {
  const r = await launch(l);
  try { await measureBoth(r.port, CALL.path, into); } finally { await halt(r); }
}

/** The Markdown subsection: the comparison, or the one line saying the gateway was not named. */
export async function routerBesideGateway(): Promise<string> {
  const found = findAnchor('gateway');
  const head = '### Beside the Go gateway\n\n';
  if ('absent' in found) return `${head}${found.absent}\n`;
  return `${head}${await orLine(ANCHORS.gateway.name, () => compare(found.bin))}`;
}

async function compare(bin: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-gw-'));
  const echoFile = join(dir, 'echo.cjs');
  writeFileSync(echoFile, ECHO);
  let echo: Running | undefined;
  try {
    const echoPort = await freePort();
    echo = await launch({ label: 'echo', file: process.execPath, args: [echoFile, String(echoPort)], env: benchEnv(), port: echoPort, ready: { path: '/', method: 'POST', body: BODY } });
    const startup = await startupRow('router vs gateway (first `/function/echo` POST answered)', () => router(echoPort, dir), async () => gateway(bin, echoPort));
    const [w, g, d] = [empty(), empty(), empty()];
    for (let i = 0; i < ROUNDS; i++) {
      await fresh(await router(echoPort, dir), w);
      await fresh(gateway(bin, echoPort), g);
      await measureBoth(echoPort, '/', d);
    }
    const added = (rs: LoadResult[], direct: LoadResult[]): string => median(rs.map((r, i) => r.p50 - direct[i]!.p50)).toFixed(2);
    const rows = CONNECTION_COUNTS.map((c) => pairRow(`router sync vs gateway, ${c} connection${c > 1 ? 's' : ''}`, w[c], g[c], [`+${added(w[c], d[c])} / +${added(g[c], d[c])}`]));
    return [
      `The sync path through each to a node:http echo, a ${Buffer.byteLength(BODY)}-byte POST to \`/function/echo\`: ${ROUNDS} alternating rounds ` +
        `(router, ${ANCHORS.gateway.upstream}, then the echo directly), each proxy a fresh process per round, ${WARMUP_MS / 1000} s warm-up then ` +
        `${LOAD_MS / 1000} s measured per connection count; ${generatorText(2, 32)} (\`-t1\` at 1 connection). Router with its defaults ` +
        '(SQLite queue in a temporary folder, async worker on); gateway without NATS or basic auth. Both log to a file. ' +
        'Added p50: median over rounds of (p50 through the proxy − p50 of the echo directly in the same round).',
      '',
      pairHeader(['p50 added to a direct call, ms, whippet / Go']),
      ...rows,
      '',
      `Start-up and idle memory, ${STARTS} fresh starts of each, alternating: spawn → first 200 from the function through it ` +
        '(polled every ms), and VmRSS of the router or gateway process 0.5 s later. NODE_EXTRA_CA_CERTS unset.',
      '',
      STARTUP_HEADER,
      startup,
      '',
    ].join('\n');
  } finally {
    if (echo) await halt(echo);
    rmSync(dir, { recursive: true, force: true });
  }
}

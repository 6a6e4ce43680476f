// The watchdog beside the Go watchdogs: start → first answer and idle RSS against the classic watchdog (fork,
// `cat`) and of-watchdog (http mode), and http mode at 32 connections against of-watchdog, in alternating rounds.
// The fork path's throughput beside the classic watchdog is a row of the end-to-end table (bench/spawn-e2e.ts).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../common/free-port.js';
import { LOAD_MS, ROUNDS, STARTS, STARTUP_HEADER, WARMUP_MS, orLine, pairHeader, pairRow, startupRow, warmAndMeasure } from './beside-go.js';
import { ANCHORS, findAnchor, halt, launch, type Launch } from './go-anchors.js';
import type { LoadResult } from './load.js';
import { CLI, benchEnv } from './server-process.js';
import { generatorText } from './wrk.js';

const BODY = 'hello world, this is a small body'; // 33 bytes, as in the OpenFaaS measurements
const CONNECTIONS = 32;
const THREADS = 2;
// The function: a node:http echo of the body, on the port in its first argument. A file, not `node -e`:
// of-watchdog splits fprocess on spaces.
const ECHO = `require('http').createServer((q,s)=>{const c=[];q.on('data',d=>c.push(d)).on('end',()=>s.end(Buffer.concat(c)))}).listen(+process.argv[2],'127.0.0.1')\n`;
const HEALTH = { path: '/_/health' } as const;
const POST = { path: '/', method: 'POST', body: BODY } as const;

type Ready = Launch['ready'];

async function whippetFork(ready: Ready = HEALTH): Promise<Launch> {
  const port = await freePort();
  const env = benchEnv({ fprocess: 'cat', port: String(port), metrics_port: String(await freePort()) });
  return { label: 'whippet watchdog', file: process.execPath, args: [CLI, 'watchdog'], env, port, ready, stopSignal: 'SIGINT' };
}

async function whippetHttp(echo: string, ready: Ready): Promise<Launch> {
  const [port, fn, metrics] = [await freePort(), await freePort(), await freePort()];
  const env = benchEnv({ mode: 'http', fprocess: `${process.execPath} ${echo} ${fn}`, upstream_url: `http://127.0.0.1:${fn}`, port: String(port), metrics_port: String(metrics) });
  return { label: 'whippet watchdog mode=http', file: process.execPath, args: [CLI, 'watchdog'], env, port, ready, stopSignal: 'SIGINT' };
}

/** The Go watchdogs: timeouts as whippet's defaults would leave a 10 s run alone; metrics always on 8081. */
async function goWatchdog(bin: string, label: string, extra: Record<string, string>, ready: Ready): Promise<Launch> {
  const port = await freePort();
  const env = benchEnv({ port: String(port), read_timeout: '30s', write_timeout: '30s', exec_timeout: '30s', ...extra });
  return { label, file: bin, env, port, ready, fixedPorts: [8081] };
}

async function ofWatchdog(bin: string, echo: string, ready: Ready): Promise<Launch> {
  const fn = await freePort();
  return goWatchdog(bin, 'of-watchdog', { mode: 'http', fprocess: `${process.execPath} ${echo} ${fn}`, upstream_url: `http://127.0.0.1:${fn}` }, ready);
}

async function run(l: Launch): Promise<LoadResult> {
  const r = await launch(l);
  try {
    return await warmAndMeasure({
      url: `http://127.0.0.1:${r.port}/`, method: 'POST', body: BODY, headers: { 'content-type': 'text/plain' },
      connections: CONNECTIONS, threads: THREADS,
    });
  } finally {
    await halt(r);
  }
}

/** http mode at 32 connections, whippet and of-watchdog in alternating rounds: a paragraph and a table. */
async function httpThroughput(bin: string, echo: string): Promise<string> {
  const w: LoadResult[] = [];
  const g: LoadResult[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    w.push(await run(await whippetHttp(echo, POST)));
    g.push(await run(await ofWatchdog(bin, echo, POST)));
  }
  return [
    `\`mode=http\`, a node:http echo as the function (the same script for both), ${CONNECTIONS} connections, a ${Buffer.byteLength(BODY)}-byte POST: ` +
      `${ROUNDS} alternating rounds (whippet, ${ANCHORS['of-watchdog'].upstream}, whippet…), each on a fresh process, ` +
      `${WARMUP_MS / 1000} s warm-up then ${LOAD_MS / 1000} s measured; ${generatorText(THREADS, CONNECTIONS)}. Both with metrics on and their log to a file.`,
    '',
    pairHeader(),
    pairRow(`watchdog \`mode=http\` vs of-watchdog, ${CONNECTIONS} connections`, w, g),
    '',
  ].join('\n');
}

/** The Markdown subsection; anchors that are not named, or do not start, get their one line. */
export async function watchdogBesideGo(): Promise<string> {
  const classic = findAnchor('classic-watchdog');
  const of = findAnchor('of-watchdog');
  const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-echo-'));
  const echo = join(dir, 'echo.cjs');
  writeFileSync(echo, ECHO);
  const out = ['### Beside the Go watchdogs', ''];
  const startups: string[] = [];
  const startup = async (name: string, row: () => Promise<string>): Promise<void> => {
    const r = await orLine(name, row);
    if (r.startsWith('|')) startups.push(r);
    else out.push(r);
  };
  try {
    for (const found of [classic, of]) if ('absent' in found) out.push(found.absent, '');
    if ('bin' in of) out.push(await orLine(ANCHORS['of-watchdog'].name, () => httpThroughput(of.bin, echo)));
    if ('bin' in classic) {
      await startup(ANCHORS['classic-watchdog'].name, () => startupRow('watchdog, `fprocess=cat` (GET /_/health) vs classic watchdog',
        () => whippetFork(), () => goWatchdog(classic.bin, 'classic watchdog', { fprocess: 'cat' }, HEALTH)));
    }
    if ('bin' in of) {
      await startup(ANCHORS['of-watchdog'].name, () => startupRow('watchdog `mode=http`, node echo (first POST answered) vs of-watchdog',
        () => whippetHttp(echo, POST), () => ofWatchdog(of.bin, echo, POST)));
    }
    if (startups.length > 0) {
      out.push(
        `Start-up and idle memory, ${STARTS} fresh starts of each, alternating: spawn → first 200 (polled every ms), and the watchdog ` +
          'process\'s VmRSS 0.5 s later (the function process not counted). whippet with its defaults (metrics on); NODE_EXTRA_CA_CERTS unset.',
        '',
        STARTUP_HEADER,
        ...startups,
        '',
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out.join('\n');
}

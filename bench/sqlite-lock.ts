// The router while another process holds the sqlite queue's write lock (an admin shell inside
// BEGIN IMMEDIATE, a backup): sync calls through the router for 10 s with the file unlocked, then for
// 10 s with it locked the whole time, side by side, while a trickle of async posts meets the lock. And
// the accept rate with a `whippet worker` process draining the same file at the same time (the normal
// two-process contention, taken turn by turn through the lock).
// Run alone: node dist/bench/sqlite-lock.js

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { runLoad, type LoadResult } from './load.js';
import { processCpuMs, startWhippet, stopServer } from './server-process.js';
import { freePort } from '../common/free-port.js';

// From dist/bench/: the http-mode function that answers at once, and the lock holder the tests use.
const FAST_FN = fileURLToPath(new URL('../../test/async/fixtures/fast-fn.mjs', import.meta.url));
const HOLD_LOCK = fileURLToPath(new URL('../../test/fixtures/hold-sqlite-write-lock.mjs', import.meta.url));
const SYNC_CONNECTIONS = 8;
const LOCK_MS = 10_000;
const WARMUP_MS = 1_000;
// One async post every 100 ms: enough to meet the lock all the time, too few to load the function.
const TRICKLE_EVERY_MS = 100;
const ACCEPT_CONNECTIONS = 32;
const ACCEPT_MS = 4_000;


/** Another process holding the write lock until release() (test/fixtures/hold-sqlite-write-lock.mjs). */
async function holdLock(path: string): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, [HOLD_LOCK, path], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; if (out.includes('locked\n')) resolve(); });
    void exited.then(() => reject(new Error('the lock holder exited before taking the lock')));
  });
  return { release: async () => { child.stdin!.end(); await exited; } };
}

interface Trickle { readonly statuses: Map<number | string, number>; readonly slowestMs: number }

/** POST one async call every TRICKLE_EVERY_MS until `until`; counts the statuses. */
async function trickle(url: string, until: number): Promise<Trickle> {
  // Enough connections that a post waiting out the 1 s retry budget never queues the next one behind it.
  const pool = new Pool(url, { connections: 32 });
  const statuses = new Map<number | string, number>();
  let slowestMs = 0;
  const posts: Promise<void>[] = [];
  while (performance.now() < until) {
    posts.push((async () => {
      const t0 = performance.now();
      let status: number | string;
      try {
        const res = await pool.request({ path: '/async-function/fast', method: 'POST', body: 'ping' });
        await res.body.dump();
        status = res.statusCode;
      } catch (err) {
        status = (err as { code?: string }).code ?? 'error';
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      slowestMs = Math.max(slowestMs, performance.now() - t0);
    })());
    await new Promise((r) => setTimeout(r, TRICKLE_EVERY_MS));
  }
  await Promise.all(posts);
  await pool.close();
  return { statuses, slowestMs };
}

interface SyncRun { readonly load: LoadResult; readonly trickle: Trickle }

async function syncRun(routerPort: number, dbPath: string, locked: boolean): Promise<SyncRun> {
  const base = `http://127.0.0.1:${routerPort}`;
  const lock = locked ? await holdLock(dbPath) : undefined;
  try {
    const until = performance.now() + LOCK_MS;
    const [load, posts] = await Promise.all([
      runLoad({ url: `${base}/function/fast`, method: 'POST', body: 'ping', connections: SYNC_CONNECTIONS, durationMs: LOCK_MS }),
      trickle(base, until),
    ]);
    return { load, trickle: posts };
  } finally {
    await lock?.release();
  }
}

/** CPU time (user + system) a process used so far, in microseconds (ticks of 10 ms). */
const cpuMicros = (pid: number): number => processCpuMs(pid).own * 1_000;

interface Accepts { readonly load: LoadResult; readonly cpuPerCallUs: number }

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const statuses = (t: Trickle): string => [...t.statuses.entries()].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([s, n]) => `${n} × ${s}`).join(', ');

/** Run the section; returns Markdown. */
export async function benchSqliteLock(): Promise<string> {
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-lock-'));
  try {
    const fnPort = await freePort();
    const wd = await startWhippet(['watchdog'], { mode: 'http', fprocess: `${process.execPath} ${FAST_FN}`, upstream_url: `http://127.0.0.1:${fnPort}`, FN_PORT: String(fnPort), metrics_port: '0' });
    procs.push(wd.proc);
    const fns = `fast=http://127.0.0.1:${wd.port}`;
    const lockDb = join(dir, 'lock.db');
    // The router as shipped: sqlite queue and its in-process worker.
    const router = await startWhippet(['router'], { functions: fns, queue: `sqlite:${lockDb}`, workers: '1' });
    procs.push(router.proc);
    await runLoad({ url: `http://127.0.0.1:${router.port}/function/fast`, method: 'POST', body: 'ping', connections: SYNC_CONNECTIONS, durationMs: WARMUP_MS });
    const unlocked = await syncRun(router.port, lockDb, false);
    const locked = await syncRun(router.port, lockDb, true);
    await stopServer(router.proc, 'SIGINT');

    // Accepts alone, then with a worker process draining the same file meanwhile.
    const acceptsDb = join(dir, 'accepts.db');
    const acceptor = await startWhippet(['router'], { functions: fns, queue: `sqlite:${acceptsDb}`, async_worker: 'false', workers: '1' });
    procs.push(acceptor.proc);
    const acceptUrl = `http://127.0.0.1:${acceptor.port}/async-function/fast`;
    // The router's own CPU per accept too: on a shared, loaded machine it moves far less than calls/s.
    const accept = async (): Promise<Accepts> => {
      const cpu0 = cpuMicros(acceptor.proc.pid!);
      const load = await runLoad({ url: acceptUrl, method: 'POST', body: 'ping', connections: ACCEPT_CONNECTIONS, durationMs: ACCEPT_MS });
      return { load, cpuPerCallUs: (cpuMicros(acceptor.proc.pid!) - cpu0) / load.requests };
    };
    await runLoad({ url: acceptUrl, method: 'POST', body: 'ping', connections: ACCEPT_CONNECTIONS, durationMs: WARMUP_MS });
    const alone = await accept();
    const worker = await startWhippet(['worker'], { functions: fns, queue: `sqlite:${acceptsDb}`, max_inflight: '16' });
    procs.push(worker.proc);
    const shared = await accept();

    const row = (name: string, r: SyncRun): string =>
      `| ${name} | ${fmt(r.load.rps)} | ${fmt(r.load.p50, 2)} | ${fmt(r.load.p99, 2)} | ${r.load.errors} | ${statuses(r.trickle)}; slowest ${fmt(r.trickle.slowestMs)} ms |`;
    return [
      '## SQLite queue locked by another process',
      '',
      `Sync POSTs through the router (sqlite queue, in-process worker) to an http-mode function that answers at once, ${SYNC_CONNECTIONS}`,
      `connections for ${LOCK_MS / 1000} s: first with the queue file free, then with another process holding its write lock`,
      `(\`BEGIN IMMEDIATE\`) for the whole ${LOCK_MS / 1000} s. Meanwhile one async POST every ${TRICKLE_EVERY_MS} ms meets the lock.`,
      '',
      '| queue file | sync calls/s | p50 ms | p99 ms | errors | async posts meanwhile |',
      '|---|---:|---:|---:|---:|---|',
      row('unlocked', unlocked),
      row(`locked ${LOCK_MS / 1000} s`, locked),
      '',
      `sync p99 locked vs unlocked: ${fmt(locked.load.p99, 2)} ms vs ${fmt(unlocked.load.p99, 2)} ms (${fmt(locked.load.p99 / unlocked.load.p99, 2)}x).`,
      '',
      `Async accepts (202, durable; router with async_worker=false), ${ACCEPT_CONNECTIONS} connections for ${ACCEPT_MS / 1000} s, alone and while a`,
      '`whippet worker` process (max_inflight=16) drains the same file: every write of the worker takes the lock in turn with the accepts.',
      '',
      '| accepts | calls/s | p50 ms | p99 ms | errors | router CPU µs per accept |',
      '|---|---:|---:|---:|---:|---:|',
      `| alone | ${fmt(alone.load.rps)} | ${fmt(alone.load.p50, 2)} | ${fmt(alone.load.p99, 2)} | ${alone.load.errors} | ${fmt(alone.cpuPerCallUs)} |`,
      `| with a worker process on the same file | ${fmt(shared.load.rps)} | ${fmt(shared.load.p50, 2)} | ${fmt(shared.load.p99, 2)} | ${shared.load.errors} | ${fmt(shared.cpuPerCallUs)} |`,
      '',
    ].join('\n');
  } finally {
    for (const p of procs.reverse()) await stopServer(p, 'SIGINT');
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node dist/bench/sqlite-lock.js` runs this section alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(await benchSqliteLock());
}

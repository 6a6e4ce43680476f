// The Go anchors: the OpenFaaS components whippet is measured against (the classic watchdog, of-watchdog and
// the gateway), run from binaries that whoever runs the benchmark names by environment variable. None of them
// is part of this repository. Where a variable is unset, a section says so in one line and measures whippet
// alone. Also here: starting any server (whippet's or Go's) fresh and timing it to its first answer.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';

export type AnchorId = 'classic-watchdog' | 'of-watchdog' | 'gateway';

export interface AnchorSpec {
  /** How the tables name it. */
  readonly name: string;
  readonly envVar: string;
  /** The upstream release the docs' figures came from. */
  readonly upstream: string;
  /** Ports it binds whatever it is told (metrics; the gateway's own), so two never run at once. */
  readonly fixedPorts: readonly number[];
}

export const ANCHORS: Readonly<Record<AnchorId, AnchorSpec>> = {
  'classic-watchdog': { name: 'Go classic watchdog', envVar: 'WHIPPET_BENCH_GO_CLASSIC_WATCHDOG', upstream: 'openfaas/classic-watchdog 0.3.4', fixedPorts: [8081] },
  'of-watchdog': { name: 'Go of-watchdog', envVar: 'WHIPPET_BENCH_GO_OF_WATCHDOG', upstream: 'openfaas/of-watchdog 0.11.0', fixedPorts: [8081] },
  gateway: { name: 'Go gateway', envVar: 'WHIPPET_BENCH_GO_GATEWAY', upstream: 'openfaas/faas gateway 0.27', fixedPorts: [8080, 8082] },
};

/** The binary to run, or the one line a section writes instead of the anchor's rows. */
export type Found = { readonly bin: string } | { readonly absent: string };

/** Looks the anchor's binary up in `env` (its variable must name an executable file). */
export function findAnchor(id: AnchorId, env: Readonly<Record<string, string | undefined>> = process.env): Found {
  const spec = ANCHORS[id];
  const value = env[spec.envVar]?.trim();
  const absent = (why: string): Found => ({ absent: `${spec.name} not measured: ${why} (${spec.upstream}, built from its public sources).` });
  if (value === undefined || value === '') return absent(`set ${spec.envVar} to its binary`);
  const bin = resolve(value);
  try {
    if (!statSync(bin).isFile()) return absent(`${spec.envVar}=${value} is not a file`);
    accessSync(bin, constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return absent(`${spec.envVar}=${value} ${code === 'ENOENT' ? 'does not exist' : 'is not executable'}`);
  }
  return { bin };
}

/** A server to start fresh: a whippet CLI command (file = node) or a Go binary. */
export interface Launch {
  readonly label: string;
  readonly file: string;
  readonly args?: readonly string[];
  /** Its whole environment; TMPDIR is set to a fresh directory (the watchdogs' lock files go there). */
  readonly env: Record<string, string>;
  readonly port: number;
  /** Ports it binds whatever it is told: the start refuses while one is taken. */
  readonly fixedPorts?: readonly number[];
  /** The request that counts as its first answer (a 200). */
  readonly ready: { readonly path: string; readonly method?: 'GET' | 'POST'; readonly body?: string };
  /** Sent first so that it can stop its own children (whippet drains on it); the group is SIGKILLed after. */
  readonly stopSignal?: NodeJS.Signals;
}

export interface Running {
  readonly launch: Launch;
  readonly proc: ChildProcess;
  readonly port: number;
  /** Spawn → first 200 to `ready`, ms. */
  readonly startMs: number;
  readonly dir: string;
}

/** The ports of `ports` that something on this machine holds (tried on every address, as Go's `:port`). */
export async function busyPorts(ports: readonly number[]): Promise<number[]> {
  const busy: number[] = [];
  for (const port of ports) {
    const free = await new Promise<boolean>((done) => {
      const s = createServer();
      s.once('error', () => done(false));
      s.listen(port, () => s.close(() => done(true)));
    });
    if (!free) busy.push(port);
  }
  return busy;
}

const POLL_MS = 1;

/** Spawn `l` with its output to a file; resolves at its first 200 to `l.ready`, polled every millisecond. */
export async function launch(l: Launch, timeoutMs = 20_000): Promise<Running> {
  const busy = await busyPorts(l.fixedPorts ?? []);
  if (busy.length > 0) throw new Error(`${l.label}: port ${busy.join(', ')} in use (it binds ${busy.length > 1 ? 'them' : 'it'} whatever it is told)`);
  const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-anchor-'));
  const fd = openSync(join(dir, 'output.log'), 'w');
  const startedAt = performance.now();
  let proc: ChildProcess;
  try {
    // Its own process group, so that the stop reaches whatever it started (of-watchdog's function).
    proc = spawn(l.file, l.args ?? [], { env: { ...l.env, TMPDIR: dir }, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  const running: Running = { launch: l, proc, port: l.port, startMs: NaN, dir };
  const url = `http://127.0.0.1:${l.port}${l.ready.path}`;
  try {
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`exited (${proc.exitCode ?? proc.signalCode}) before answering`);
      if (performance.now() - startedAt > timeoutMs) throw new Error(`no 200 from ${l.ready.path} within ${timeoutMs} ms`);
      const res = await request(url, { method: l.ready.method ?? 'GET', body: l.ready.body, reset: true }).catch(() => undefined);
      await res?.body.dump();
      if (res?.statusCode === 200) return { ...running, startMs: performance.now() - startedAt };
      await delay(POLL_MS);
    }
  } catch (err) {
    const log = readLog(dir);
    await halt(running);
    throw new Error(`${l.label}: ${(err as Error).message}\n${log.slice(-2000)}`);
  }
}

function readLog(dir: string): string {
  try { return readFileSync(join(dir, 'output.log'), 'utf8'); } catch { return ''; }
}

/** Stop it (its stop signal first, up to 5 s), then SIGKILL its process group; removes its directory. */
export async function halt(r: Running): Promise<void> {
  const { proc } = r;
  const exited = (): boolean => proc.exitCode !== null || proc.signalCode !== null;
  const gone = new Promise((done) => { if (exited()) done(undefined); else proc.once('exit', done); });
  if (r.launch.stopSignal !== undefined && !exited()) {
    proc.kill(r.launch.stopSignal);
    await Promise.race([gone, delay(5000)]);
  }
  try { process.kill(-proc.pid!, 'SIGKILL'); } catch { /* the group is already gone */ }
  await gone;
  rmSync(r.dir, { recursive: true, force: true });
}

/** VmRSS of `pid` in MB. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

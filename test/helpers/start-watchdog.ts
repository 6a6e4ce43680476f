// Starts the compiled watchdog (`node dist/cli/main.js watchdog`) as a real process for e2e tests, waits for
// its `listening` line (racing an early exit), and stops it in teardown. Also: process-group checks.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../common/free-port.js';
import { statusKb } from './processes.js';
import { holdsWithin } from './wait.js';

export { freePort };

type Test = { teardown(fn: () => unknown): void };

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = `${ROOT}dist/cli/main.js`;

/** Absolute path of a fixture in test/fixtures/handlers. */
export function handler(name: string): string {
  return `${ROOT}test/fixtures/handlers/${name}`;
}

/** The environment every watchdog under test gets, before the test's own settings. */
export function baseEnv(dir: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TMPDIR: dir,
    port: '0',
    metrics_port: '0',
    log_format: 'json',
  };
  // Lets the whole suite run against either spawn path: WHIPPET_SPAWN_BACKEND=child_process npm test
  if (process.env.WHIPPET_SPAWN_BACKEND) env.spawn_backend = process.env.WHIPPET_SPAWN_BACKEND;
  return env;
}

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export interface Watchdog {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly proc: ChildProcess;
  readonly dir: string;
  /** Everything written to stderr so far. */
  logs(): string;
  /** Parsed JSON log lines so far. */
  records(): Record<string, unknown>[];
  readonly exited: Promise<Exit>;
  /** Send `signal` and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** Start a watchdog with `env` (on top of baseEnv) and flags `args`; resolves once it listens. */
export async function startWatchdog(t: Test, env: Record<string, string>, args: string[] = []): Promise<Watchdog> {
  // Its own TMPDIR (for the lock file), apart from the test's t.testdir() which a test may fill with fixtures.
  const dir = mkdtempSync(join(tmpdir(), 'whippet-wd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const proc = spawn(process.execPath, [CLI, 'watchdog', ...args], { env: { ...baseEnv(dir), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  proc.stdout!.resume();
  const exited = new Promise<Exit>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const stop = async (signal: NodeJS.Signals = 'SIGINT'): Promise<Exit> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    try { return await exited; } finally { clearTimeout(timer); }
  };
  t.teardown(() => stop('SIGINT'));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watchdog did not listen within 10 s:\n${stderr}`)), 10_000);
    const onData = (): void => {
      const m = /"msg":"listening".*?"port":(\d+)|listening .*?port=(\d+)/.exec(stderr);
      if (m) { clearTimeout(timer); proc.stderr!.off('data', onData); resolve(Number(m[1] ?? m[2])); }
    };
    proc.stderr!.on('data', onData);
    void exited.then((e) => { clearTimeout(timer); reject(new Error(`watchdog exited early (${e.code ?? e.signal}):\n${stderr}`)); });
  });
  return {
    url: `http://127.0.0.1:${port}`, port, pid: proc.pid!, proc, dir, exited, stop,
    logs: () => stderr,
    records: () => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Run the watchdog CLI to completion (bad configs, --help, --run-healthcheck). */
export async function runWatchdogCli(env: Record<string, string>, args: string[] = [], timeoutMs = 10_000): Promise<Exit & { stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [CLI, 'watchdog', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
  proc.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const exit = await new Promise<Exit>((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
  clearTimeout(timer);
  return { ...exit, stdout, stderr };
}

/** VmHWM (peak resident set) of a process in bytes. */
export function peakRss(pid: number): number {
  return statusKb(pid, 'VmHWM') * 1024;
}

/** GET `url` every 20 ms until it answers `status`; resolves with the response headers, or undefined after `timeoutMs`. */
export async function pollStatus(url: string, status: number, timeoutMs: number): Promise<Record<string, string | string[] | undefined> | undefined> {
  const { request } = await import('undici');
  let headers: Record<string, string | string[] | undefined> | undefined;
  await holdsWithin(async () => {
    const r = await request(url);
    await r.body.dump();
    if (r.statusCode === status) headers = r.headers;
    return headers !== undefined;
  }, timeoutMs, { checkMayThrow: true });
  return headers;
}

// Starts the compiled watchdog (`node dist/cli/main.cjs watchdog`) as a real process for e2e tests through
// cli-process.ts (wait for `listening`, stop in teardown), and runs it to completion. Also: process probes.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../common/free-port.js';
import { CLI, startCli, stopChild, type Exit, type Started } from './cli-process.js';
import { statusKb } from './processes.js';
import { holdsWithin } from './wait.js';

export { CLI, freePort, type Exit };

type Test = { teardown(fn: () => unknown): void };

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

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

export interface Watchdog extends Omit<Started, 'stop'> {
  /** The watchdog process (the same as `child`). */
  readonly proc: Started['child'];
  /** Its own TMPDIR (removed in teardown). */
  readonly dir: string;
  /** Parsed JSON log lines so far. */
  records(): Record<string, unknown>[];
  /** Send `signal` (SIGINT unless given), SIGKILL after 10 s, and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/**
 * Start a watchdog with `env` (on top of baseEnv: metrics_port 0, its own TMPDIR, the suite's spawn backend)
 * and flags `args`; resolves once it listens. Teardown: SIGINT, SIGKILL after 10 s.
 */
export async function startWatchdog(t: Test, env: Record<string, string>, args: string[] = []): Promise<Watchdog> {
  // Its own TMPDIR (for the lock file), apart from the test's t.testdir() which a test may fill with fixtures.
  const dir = mkdtempSync(join(tmpdir(), 'whippet-wd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const started = await startCli(t, 'watchdog', { ...baseEnv(dir), ...env }, args, 20_000, { killAfterMs: 10_000 });
  return {
    ...started, proc: started.child, dir,
    stop: (signal: NodeJS.Signals = 'SIGINT') => stopChild(started.child, started.exited, signal, 10_000),
    records: () => started.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
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

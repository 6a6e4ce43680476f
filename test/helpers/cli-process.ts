// The one way tests start a long-running whippet process (router, worker, watchdog) from the compiled CLI:
// spawn it on port 0, wait for its `listening` line (racing an early exit), and stop it in teardown.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { noteTeardownKill } from './processes.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.cjs', import.meta.url));

interface Teardown { teardown(fn: () => unknown): void }

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export interface Started {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Everything the process wrote to stderr so far. */
  logs(): string;
  /** Send `signal` (SIGTERM unless given) and resolve with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A clean env for children: PATH only, no NODE_EXTRA_CA_CERTS (it costs ~125 ms per node start). */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...extra };
}

export interface CliOptions {
  /**
   * Run the process as production does, without tap's coverage loader (which tap injects into every
   * child through NODE_OPTIONS and which adds tens of MB of heap): for tests that measure memory.
   */
  uninstrumented?: boolean;
  /** Teardown sends SIGINT, then SIGKILL after this long (default 15 s: a drain on a loaded CI host can take seconds). */
  killAfterMs?: number;
}

/** The port in a `listening` log line (JSON or text format), once stderr holds one. */
export function listeningPort(stderr: string): number | undefined {
  const m = /"msg":"listening"[^\n]*"port":(\d+)/.exec(stderr) ?? /listening\b[^\n]*\bport=(\d+)/.exec(stderr);
  return m === null ? undefined : Number(m[1]);
}

/** Send `signal` unless the process is gone, SIGKILL it if it is still there after `killAfterMs`, and wait for the exit. */
export async function stopChild(child: ChildProcess, exited: Promise<Exit>, signal: NodeJS.Signals, killAfterMs?: number): Promise<Exit> {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  const killer = killAfterMs === undefined ? undefined : setTimeout(() => {
    noteTeardownKill(child.spawnargs.slice(1, 3).join(' '), child.pid, killAfterMs);
    child.kill('SIGKILL');
  }, killAfterMs);
  try { return await exited; } finally { clearTimeout(killer); }
}

/**
 * Spawn `node dist/cli/main.cjs <command> ...args` with `env` on top of { PATH, log_format: json, port: 0 }
 * and wait for `listening`. Teardown: SIGINT (a watchdog drains without the health wait and stops its
 * function process), SIGKILL if it lingers.
 */
export async function startCli(t: Teardown, command: string, env: Record<string, string>, args: string[] = [], timeoutMs = 20_000, options: CliOptions = {}): Promise<Started> {
  const argv = [CLI, command, ...args];
  // One router process unless a test asks for more (whatever the default of `workers`): the tests of one
  // process's behaviour read its pid, sockets and memory; test/e2e/router-workers-*.test.ts runs several.
  if (command === 'router' && env['workers'] === undefined) env = { ...env, workers: '1' };
  // `env -u NODE_OPTIONS` execs node in place (same pid) with the loader flags removed.
  const [file, fileArgs] = options.uninstrumented ? ['env', ['-u', 'NODE_OPTIONS', process.execPath, ...argv]] : [process.execPath, argv];
  const child = spawn(file, fileArgs, { env: childEnv({ log_format: 'json', port: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout!.resume();
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => stopChild(child, exited, 'SIGINT', options.killAfterMs ?? 15_000));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not print listening within ${timeoutMs}ms:\n${stderr}`)), timeoutMs);
    let listening = false; // then stop scanning: a chatty process would make each chunk rescan everything
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const found = listening ? undefined : listeningPort(stderr);
      if (found !== undefined) { listening = true; clearTimeout(timer); resolve(found); }
    });
    void exited.then((e) => { clearTimeout(timer); reject(new Error(`${command} exited with ${e.code ?? e.signal} before listening:\n${stderr}`)); });
  });
  return {
    url: `http://127.0.0.1:${port}`, port, pid: child.pid!, child, exited, logs: () => stderr,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => (await stopChild(child, exited, signal)).code,
  };
}

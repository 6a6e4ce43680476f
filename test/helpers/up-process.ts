// Start the compiled `whippet up` (or any whippet command) as a real process for the e2e tests: wait for
// up's summary, know every process it started, stop it in teardown and make sure nothing is left.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { alive, descendants, killIfAlive, noteTeardownKill } from './processes.js';

type Test = { teardown(fn: () => unknown): void };

export const CLI = fileURLToPath(new URL('../../dist/cli/main.cjs', import.meta.url));
/** `fwatchdog`, the watchdog's own script (OpenFaaS Dockerfiles name it). */
export const FWATCHDOG = fileURLToPath(new URL('../../dist/cli/fwatchdog.cjs', import.meta.url));

/** A child environment: ours minus NODE_EXTRA_CA_CERTS (slow node starts) and stray OpenFaaS settings. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', PYTHONDONTWRITEBYTECODE: '1' };
  return { ...env, ...extra };
}

/** Run a whippet command (or, with `script: FWATCHDOG`, fwatchdog) to completion. */
export function runWhippet(args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string>; timeoutMs?: number; script?: string } = {}):
  Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [opts.script ?? CLI, ...args], { cwd: opts.cwd, env: cleanEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  return new Promise((resolve) => child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); }));
}

export interface Up {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly port: number;
  stdout(): string;
  stderr(): string;
  /** Watchdog pids named in the summary, by function. */
  readonly watchdogs: Readonly<Record<string, number>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Send a signal and wait for the exit (SIGKILL to everything after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `whippet up <args> --port 0` in `cwd`; resolves once the summary is printed. */
export async function startUp(t: Test, cwd: string, args: string[], env: Record<string, string> = {}): Promise<Up> {
  const child = spawn(process.execPath, [CLI, 'up', ...args, '--port', '0'], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const started = new Set<number>();
  const stop = async (signal: NodeJS.Signals = 'SIGINT', timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    for (const p of descendants(child.pid!)) started.add(p);
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => {
      // What up was doing when it was killed: its last log lines go into the note.
      noteTeardownKill(`whippet up ${signal}`, child.pid, timeoutMs, `  its last lines:\n${stderr.trimEnd().split('\n').slice(-12).map((l) => `    ${l}`).join('\n')}`);
      child.kill('SIGKILL');
      for (const p of started) killIfAlive(p);
    }, timeoutMs);
    try { return await exited; } finally { clearTimeout(timer); }
  };
  t.teardown(async () => {
    await stop('SIGINT');
    // Nothing up started may outlive it; a leak here fails loudly in the test that checks for it.
    for (const p of started) {
      if (!alive(p)) continue;
      noteTeardownKill('a process whippet up left running', p, 0);
      killIfAlive(p);
    }
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`whippet up printed no summary within 60 s:\n${stdout}\n${stderr}`)), 60_000);
    child.stdout!.on('data', () => { if (stdout.includes('Ctrl-C stops everything')) { clearTimeout(timer); resolve(); } });
    void exited.then((e) => { clearTimeout(timer); reject(new Error(`whippet up exited (${e.code ?? e.signal}) before its summary:\n${stdout}\n${stderr}`)); });
  });
  const port = Number(/router http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1]);
  const watchdogs: Record<string, number> = {};
  for (const line of stdout.matchAll(/^ {2}(\S+) +http:\/\/\S+ +\(.+?, watchdog \S+, pid (\d+)\)$/gm)) watchdogs[line[1]!] = Number(line[2]);
  for (const p of descendants(child.pid!)) started.add(p);
  return { child, pid: child.pid!, url: `http://127.0.0.1:${port}`, port, stdout: () => stdout, stderr: () => stderr, watchdogs, exited, stop };
}

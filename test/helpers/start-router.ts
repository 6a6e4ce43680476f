// Start real whippet processes (router, watchdog) from the compiled CLI on port 0, wait for their
// `listening` line (racing an early exit), and stop them in teardown.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { statusKb } from './processes.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

interface Teardown { teardown(fn: () => unknown): void }

export interface Started {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  logs(): string;
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
}

/** Spawn `node dist/cli/main.js <command> ...args` and wait for `listening`. */
export async function startCli(t: Teardown, command: string, env: Record<string, string>, args: string[] = [], timeoutMs = 20_000, options: CliOptions = {}): Promise<Started> {
  const argv = [CLI, command, ...args];
  // One router process unless a test asks for more (`workers` defaults to the CPU count): the tests of one
  // process's behaviour read its pid, sockets and memory; test/e2e/router-workers-*.test.ts runs several.
  if (command === 'router' && env['workers'] === undefined) env = { ...env, workers: '1' };
  // `env -u NODE_OPTIONS` execs node in place (same pid) with the loader flags removed.
  const [file, fileArgs] = options.uninstrumented ? ['env', ['-u', 'NODE_OPTIONS', process.execPath, ...argv]] : [process.execPath, argv];
  const child = spawn(file, fileArgs, { env: childEnv({ log_format: 'json', port: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  // SIGINT (drain without the health wait) so a watchdog stops its own function process; SIGKILL if it lingers.
  t.teardown(async () => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await stop('SIGINT');
    clearTimeout(killer);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not print listening within ${timeoutMs}ms:\n${stderr}`)), timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const m = /"msg":"listening"[^\n]*"port":(\d+)/.exec(stderr) ?? /listening\b[^\n]*\bport=(\d+)/.exec(stderr);
      if (m !== null) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`${command} exited with ${code} before listening:\n${stderr}`)); });
  });
  return { url: `http://127.0.0.1:${port}`, port, pid: child.pid!, child, logs: () => stderr, stop };
}

/** `whippet router` with the given settings (env names). */
export function startRouter(t: Teardown, env: Record<string, string>, options: CliOptions = {}): Promise<Started> {
  return startCli(t, 'router', env, [], 20_000, options);
}

/** `whippet watchdog` with the given settings (env names), e.g. { fprocess: 'cat', mode: 'streaming' }. */
export function startWatchdog(t: Teardown, env: Record<string, string>): Promise<Started> {
  return startCli(t, 'watchdog', { metrics_port: '0', ...env });
}

/** An in-process node:http upstream on 127.0.0.1:0, closed in teardown. */
export async function startUpstream(
  t: Teardown,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; port: number; server: Server; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => { requests.push(req); handler(req, res); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, server, requests };
}

/** A port nothing listens on: bind one, close it, hand it out. */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Whether the compiled watchdog command is real yet (not the foundation placeholder). */
export async function watchdogAvailable(): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  try {
    const src = await readFile(new URL('../../dist/cli/commands/watchdog.js', import.meta.url), 'utf8');
    return !src.includes('not built yet');
  } catch {
    return false;
  }
}

/** Send a request target exactly as written (no client-side normalisation) and read the whole answer. */
export async function rawGet(port: number, target: string): Promise<{ status: number; head: string; body: string }> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.setEncoding('utf8').on('data', (c: string) => { data += c; }).on('error', reject).on('end', () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), head, body: rest.join('\r\n\r\n') });
    });
  });
}

/** Open sockets of a process, from /proc (Linux). */
export async function socketCount(pid: number): Promise<number> {
  const { readdir, readlink } = await import('node:fs/promises');
  let n = 0;
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target.startsWith('socket:')) n++;
  }
  return n;
}

/** Peak resident set (VmHWM) of a process in bytes, from /proc (Linux). */
export async function peakRss(pid: number): Promise<number> {
  return (statusKb(pid, 'VmHWM') || 0) * 1024;
}

// Start real whippet processes (router; the watchdog through start-watchdog.ts) from the compiled CLI on
// port 0 (cli-process.ts), an in-process upstream, and the probes the router tests read.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCli, type CliOptions, type Started } from './cli-process.js';
import { statusKb } from './processes.js';

export { CLI, childEnv, startCli, type CliOptions, type Exit, type Started } from './cli-process.js';
/** The one watchdog starter (start-watchdog.ts), here too for the router tests that import it from this file. */
export { startWatchdog } from './start-watchdog.js';

interface Teardown { teardown(fn: () => unknown): void }

/** `whippet router` with the given settings (env names). */
export function startRouter(t: Teardown, env: Record<string, string>, options: CliOptions = {}): Promise<Started> {
  // One router process unless a test asks for more (`workers` defaults to the CPU count): the tests of one
  // process's behaviour read its pid, sockets and memory; test/e2e/router-workers-*.test.ts runs several.
  return startCli(t, 'router', { workers: '1', ...env }, [], 20_000, options);
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

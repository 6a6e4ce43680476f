// Shared by the jetstream multi-process tests: start fixture worker processes and collect what they print.

import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NewCall } from '../../router/queue/index.js';
import { fixtureArgv } from '../helpers/processes.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'jetstream-worker.ts');
const childEnv = { ...process.env };
delete childEnv.NODE_EXTRA_CA_CERTS; // +125 ms per node start, and the fixture makes no TLS calls

/** One fixture process and what it printed. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly begun: string[];
  /** [id, deliveryCount] per acked call. */
  readonly done: Array<[string, number]>;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
}

/** Start a worker process; argv as fixtures/jetstream-worker.ts documents. */
export function startWorker(url: string, name: string, opts: { ackWaitMs: number; slots: number; workMs: number; idleMs: number }): WorkerProcess {
  const args = [url, name, opts.ackWaitMs, opts.slots, opts.workMs, opts.idleMs].map(String);
  const child = spawn(process.execPath, fixtureArgv(fixture, ...args), { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const begun: string[] = [];
  const done: Array<[string, number]> = [];
  let buffer = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => { markReady = resolve; });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      const [kind, id = '', count = '0'] = line.split(' ');
      if (kind === 'ready') markReady();
      else if (kind === 'begin') begun.push(id);
      else if (kind === 'done') done.push([id, Number(count)]);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { process.stderr.write(`[worker ${child.pid}] ${d}`); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { markReady(); resolve(code); }));
  return { child, begun, done, ready, exited };
}

/** A small call for function `fn` with id `id`. */
export function call(id: string, fn = 'echo.openfaas-fn'): NewCall {
  return { id, functionName: fn, method: 'POST', path: '', query: '', headers: { 'content-type': 'text/plain' }, body: Buffer.from(id), callbackUrl: null };
}

/** Run `total` jobs with `concurrency` in flight; returns how many resolved true. */
export async function pool(total: number, concurrency: number, job: (i: number) => Promise<boolean>): Promise<number> {
  let next = 0;
  let ok = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) if (await job(next++)) ok++;
  }));
  return ok;
}

// Queue benchmark (sqlite backend): durable accepts per second with 32 concurrent producers, with
// group commit and with one commit per call, the lease → attempt → finish → ack rate at the queue API, and the
// queue's part of a worker's turn as `whippet worker` drives it (the attempt begun with the lease, the result
// and the ack in one write) with its CPU per call.
// Run alone: node dist/bench/queue.js

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSqliteQueue, type SqliteQueueOptions } from '../router/queue/sqlite/sqlite.js';
import type { Queue } from '../router/queue/queue.js';
import { BODY, benchCall, concurrently, drainAll, drainLikeWorker, enqueueAll } from './queue-load.js';

const PRODUCERS = 32;
const WORKER_SLOTS = 16;
// `whippet worker`'s max_inflight in the drain benchmarks.
const WORKER_INFLIGHT = 64;

interface Row { readonly name: string; readonly calls: number; readonly ms: number; readonly cpuUs?: number }

/** Run the queue benchmark and return its Markdown section. */
export async function benchQueue(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'whippet-bench-queue-'));
  try {
    const rows: Row[] = [];
    let n = 0;
    const open = (name: string, extra: Partial<SqliteQueueOptions> = {}): Promise<Queue> =>
      createSqliteQueue({ path: join(dir, `${name}-${n++}.db`), ...extra });
    rows.push(await accepts('enqueue, group commit, the file synced before each resolves (default)', await open('gc'), 20_000));
    rows.push(await accepts('enqueue, group commit, synchronous=normal (no sync)', await open('gcn', { synchronous: 'normal' }), 20_000));
    rows.push(await accepts('enqueue, one commit per call, synced', await open('one', { groupCommit: false }), 5_000));
    rows.push(await accepts('enqueue, one commit per call, synchronous=normal', await open('onen', { groupCommit: false, synchronous: 'normal' }), 5_000));
    rows.push(await drain(`lease → attempt → finish → ack, ${WORKER_SLOTS} slots`, await open('drain'), 5_000));
    rows.push(await drainAsWorker(`the worker's way: lease with the attempt begun → result and ack in one write, ${WORKER_INFLIGHT} slots`, await open('worker'), 20_000));
    return render(rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function accepts(name: string, queue: Queue, total: number): Promise<Row> {
  const ms = await enqueueAll(queue, total, PRODUCERS, name);
  await queue.close();
  return { name, calls: total, ms };
}

async function drain(name: string, queue: Queue, total: number): Promise<Row> {
  await concurrently(total, 1000, (i) => queue.enqueue(benchCall('drain', i)));
  const ms = await drainAll(queue, total, WORKER_SLOTS, 1000);
  await queue.close();
  return { name, calls: total, ms };
}

async function drainAsWorker(name: string, queue: Queue, total: number): Promise<Row> {
  await concurrently(total, 1000, (i) => queue.enqueue(benchCall('worker', i)));
  const { ms, cpuUs } = await drainLikeWorker(queue, total, WORKER_INFLIGHT, 1000);
  await queue.close();
  return { name, calls: total, ms, cpuUs };
}

function render(rows: readonly Row[]): string {
  const lines = [
    '### Queue (sqlite backend)',
    '',
    `${PRODUCERS} concurrent producers, ${BODY.length}-byte bodies; every enqueue resolves only after its commit.`,
    '',
    'CPU per call where given: this process (every thread), from the first lease to the last ack.',
    '',
    '| case | calls | seconds | calls/s | CPU µs/call |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.calls} | ${(r.ms / 1000).toFixed(2)} | ${Math.round(r.calls / (r.ms / 1000))} | ${r.cpuUs === undefined ? '' : Math.round(r.cpuUs)} |`),
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${await benchQueue()}\n`);
}

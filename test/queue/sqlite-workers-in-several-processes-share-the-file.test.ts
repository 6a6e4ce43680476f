// Several worker processes lease from one sqlite file: every call is handed to exactly one of them.

import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createQueue } from '../../router/queue/index.js';
import { fixtureArgv } from '../helpers/processes.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lease-loop.ts');
const childEnv = { ...process.env };
delete childEnv.NODE_EXTRA_CA_CERTS;

interface Worker { readonly child: ChildProcess; readonly lines: string[]; readonly ready: Promise<void>; readonly exited: Promise<number | null> }

function startWorker(path: string): Worker {
  const child = spawn(process.execPath, fixtureArgv(fixture, path), { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buffer = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => { markReady = resolve; });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const line of parts) if (line === 'ready') markReady(); else lines.push(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { markReady(); resolve(code); }));
  return { child, lines, ready, exited };
}

t.test('three worker processes share one file without handing a call to two of them', async (t) => {
  const path = join(t.testdir(), 'queue.db');
  const queue = await createQueue(`sqlite:${path}`);
  t.teardown(() => queue.close());
  const workers = [startWorker(path), startWorker(path), startWorker(path)];
  t.teardown(() => { for (const w of workers) w.child.kill('SIGKILL'); });
  await Promise.all(workers.map((w) => w.ready));
  const total = 900;
  const ids = Array.from({ length: total }, (_, i) => `call-${i}`);
  await Promise.all(ids.map((id) => queue.enqueue({ id, functionName: 'echo', method: 'POST', path: '', query: '', headers: {}, body: Buffer.from(id), callbackUrl: null })));
  const codes = await Promise.all(workers.map((w) => w.exited));
  t.same(codes, [0, 0, 0], 'every worker drained the queue and exited cleanly');
  const handled = workers.flatMap((w) => w.lines.map((l) => l.split(' ')));
  const byId = new Map<string, number>();
  for (const [id] of handled) byId.set(id!, (byId.get(id!) ?? 0) + 1);
  t.same([...byId.entries()].filter(([, n]) => n > 1), [], 'no call was handled twice');
  t.equal(byId.size, total, 'every call was handled');
  t.ok(handled.every(([, count]) => count === '1'), 'every call was delivered once');
  const shares = workers.map((w) => w.lines.length);
  t.comment(`calls per worker process: ${shares.join(', ')}`);
  t.ok(shares.every((n) => n > 0), 'every process did part of the work');
  t.same((await queue.depth()).map((d) => [d.status, d.count]), [['succeeded', total]]);
});

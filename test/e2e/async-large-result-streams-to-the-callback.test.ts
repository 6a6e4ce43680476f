// A function's 150 MB result reaches the callback whole while the worker holds at most the stored limit
// (1 MiB) of it in memory: before, the worker read every result into one Buffer (and
// a copy), so three 1 GB results took 2.9 GB of RSS.
import t from 'tap';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { waitForCall } from '../helpers/async-calls.js';
import { statusKb } from '../helpers/processes.js';
import { startCli, startRouter } from '../helpers/start-router.js';

// Large enough that holding it shows (the old worker held it whole, plus undici's chunks while
// concatenating), small enough for a 2-core CI box; garbage buffers alone can reach ~64 MB before V8's
// external-memory GC runs, hence the 100 MB bound.
const SIZE = 150 * 1024 * 1024;
const BOUND_MB = 100;
const PIECE = Buffer.alloc(1024 * 1024);
for (let i = 0; i < PIECE.length; i++) PIECE[i] = (i * 31 + 7) & 255;

t.test('a 150 MB result streams to the callback; the worker\'s RSS grows by far less', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, async (t) => {
  const fn = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'X-Fn': 'big' });
    let left = SIZE / PIECE.length;
    const pump = (): void => {
      while (left > 0) { left--; if (!res.write(PIECE)) { res.once('drain', pump); return; } }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => fn.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => { fn.closeAllConnections(); fn.close(resolve); }));
  const expected = createHash('sha256');
  for (let i = 0; i < SIZE / PIECE.length; i++) expected.update(PIECE);

  let delivered!: (v: { size: number; sha: string; headers: Record<string, unknown> }) => void;
  const got = new Promise<{ size: number; sha: string; headers: Record<string, unknown> }>((resolve) => { delivered = resolve; });
  const receiver = createServer((req, res) => {
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (chunk: Buffer) => { size += chunk.length; hash.update(chunk); });
    req.on('end', () => { res.end('ok'); delivered({ size, sha: hash.digest('hex'), headers: req.headers }); });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => { receiver.closeAllConnections(); receiver.close(resolve); }));

  const queue = `sqlite:${join(t.testdir(), 'q.db')}`;
  const functions = `big=http://127.0.0.1:${(fn.address() as AddressInfo).port}`;
  const router = await startRouter(t, { functions, queue, async_worker: 'false' });
  const worker = await startCli(t, 'worker', { functions, queue, callback_secret: 'k' }, [], 20_000, { uninstrumented: true });
  const before = statusKb(worker.pid, 'VmRSS');

  const posted = await request(`${router.url}/async-function/big`, {
    method: 'POST', body: 'go', headers: { 'X-Callback-Url': `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` },
  });
  t.equal(posted.statusCode, 202);
  const { callId } = await posted.body.json() as { callId: string };
  const cb = await got;
  t.equal(cb.size, SIZE, 'the callback received every byte');
  t.equal(cb.sha, expected.digest('hex'), 'in order');
  t.equal(cb.headers['x-fn'], 'big');
  t.equal(cb.headers['x-function-status'], '200');
  t.match(String(cb.headers['x-callback-signature']), /^sha256=[0-9a-f]{64}$/, 'signed over the whole body');

  const peakGrowthMb = (statusKb(worker.pid, 'VmHWM') - before) / 1024;
  t.ok(peakGrowthMb < BOUND_MB, `worker peak RSS grew ${peakGrowthMb.toFixed(1)} MB for a ${SIZE >> 20} MB result (bound: ${BOUND_MB} MB)`);
  t.comment(`worker RSS before ${(before / 1024).toFixed(1)} MB, peak growth ${peakGrowthMb.toFixed(1)} MB`);

  // The record keeps the size, not the bytes (over the 1 MiB stored limit).
  const record = await waitForCall(router.url, callId, (c) => c.callback.state === 'delivered', 5_000, 'the callback to be delivered');
  t.equal(record.status, 'succeeded');
  t.equal(record.result!.bodySize, SIZE);
  t.equal(record.result!.bodyKept, false);
  t.equal(record.callback.state, 'delivered');
});

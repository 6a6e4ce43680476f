// Accepts on sqlite commit without a sync inside COMMIT, and resolve only after the WAL file was synced on the
// thread pool (router/queue/sqlite/sqlite-wal-sync.ts): the event loop runs while the disk works, one sync serves
// every commit made before it started, a failed sync refuses accepts until a restart, the file synced is the one
// SQLite writes (through a symlink too), and closing waits for the sync under way.

import { fdatasync, fstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { createQueue, QueueUnavailableError, type NewCall } from '../../router/queue/index.js';
import { WalSync } from '../../router/queue/sqlite/sqlite-wal-sync.js';
import type { Logger } from '../../common/log.js';
import { waitFor } from '../helpers/wait.js';

function call(id: string): NewCall {
  return { id, functionName: 'f', method: 'POST', path: '', query: '', headers: {}, body: Buffer.from(id), callbackUrl: null };
}

/** A sync the test releases by hand, one call at a time. */
function heldSyncs(): { syncFile: (fd: number) => Promise<void>; readonly calls: number; release(err?: Error): void; waiting(): number } {
  const held: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  let calls = 0;
  return {
    syncFile: () => new Promise<void>((resolve, reject) => { calls++; held.push({ resolve, reject }); }),
    get calls() { return calls; },
    release: (err) => { const h = held.shift(); if (h === undefined) throw new Error('no sync is waiting'); if (err === undefined) h.resolve(); else h.reject(err); },
    waiting: () => held.length,
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };
/** A WalSync on an empty WAL file in `dir`, with syncs the test releases by hand. */
function heldWal(dir: string): { ws: WalSync; syncs: ReturnType<typeof heldSyncs> } {
  const wal = join(dir, 'q.db-wal');
  writeFileSync(wal, '');
  const syncs = heldSyncs();
  return { ws: new WalSync(wal, syncs.syncFile), syncs };
}

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  p.then(() => { done = true; }, () => { done = true; });
  await turn();
  await turn();
  return done;
};

t.test('WalSync: one sync per commits made before it started, one more for those made while it ran', async (t) => {
  const { ws, syncs } = heldWal(t.testdir());
  t.teardown(() => ws.close());

  await ws.sync();
  t.equal(syncs.calls, 0, 'nothing written: nothing to sync');

  ws.wrote();
  const first = ws.sync();
  const same = ws.sync();
  t.equal(first, same, 'callers before the sync started share it');
  await waitFor(() => syncs.waiting() === 1, 5_000, 'the sync to start', 2);

  ws.wrote();
  const second = ws.sync();
  ws.wrote();
  const third = ws.sync();
  t.equal(second, third, 'commits made while a sync runs share the next one');
  t.notOk(await settled(first), 'not resolved before the sync finished');
  syncs.release();
  await first;
  t.equal(ws.sync(), second, 'between the end of one sync and the start of the next, callers get the next one');
  t.notOk(await settled(second), 'the later commits wait for their own sync');
  t.equal(syncs.waiting(), 1, 'the next sync started when the first ended');
  syncs.release();
  await second;
  t.equal(syncs.calls, 2, 'two syncs for three commits');
  await ws.sync();
  t.equal(syncs.calls, 2, 'everything synced: a new caller does not sync again');
});

t.test('WalSync: a failed sync rejects its callers, and the next caller syncs again', async (t) => {
  const { ws, syncs } = heldWal(t.testdir());
  t.teardown(() => ws.close());
  ws.wrote();
  const failing = ws.sync();
  await waitFor(() => syncs.waiting() === 1, 5_000, 'the sync to start', 2);
  syncs.release(new Error('EIO: i/o error, fdatasync'));
  await t.rejects(failing, /EIO/);
  const again = ws.sync();
  await waitFor(() => syncs.calls === 2, 5_000, 'the second sync', 2);
  syncs.release();
  await again;
});

t.test('WalSync: close waits for the sync under way and for the one asked for after it', async (t) => {
  const { ws, syncs } = heldWal(t.testdir());
  ws.wrote();
  const first = ws.sync();
  await waitFor(() => syncs.waiting() === 1, 5_000, 'the sync to start', 2);
  ws.wrote();
  const second = ws.sync();
  const closing = ws.close();
  t.equal(ws.sync(), second, 'a commit counted before close is synced, not refused');
  syncs.release();
  await first;
  await waitFor(() => syncs.waiting() === 1, 5_000, 'the second sync', 2);
  syncs.release();
  await second;
  await closing;
  t.equal(syncs.calls, 2);
});

t.test('WalSync: a WAL file that cannot be opened rejects, and close refuses what it could not sync', async (t) => {
  const ws = new WalSync(join(t.testdir(), 'missing-wal'), () => Promise.resolve());
  ws.wrote();
  await t.rejects(ws.sync(), { code: 'ENOENT' });
  await ws.close();
  await t.rejects(ws.sync(), /closing/, 'after close: commits not synced are refused');
});

t.test('an accept resolves after its sync, with the event loop running meanwhile', async (t) => {
  const syncs = heldSyncs();
  const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`, { ackWaitMs: 30_000, sqlite: { syncFile: syncs.syncFile } });
  t.teardown(async () => { while (syncs.waiting() > 0) syncs.release(); await queue.close(); });

  const accepts = [queue.enqueue(call('a')), queue.enqueue(call('b'))];
  let turns = 0;
  for (let i = 0; i < 5; i++) { await new Promise((resolve) => setTimeout(resolve, 5)); turns++; }
  t.equal(turns, 5, 'timers ran while the sync was held');
  t.equal(syncs.waiting(), 1, 'one sync for the batch');
  t.notOk(await settled(Promise.all(accepts)), 'no accept resolved before its sync');
  t.equal((await queue.get('a'))?.status, 'queued', 'the call is committed (readable) before its sync');
  syncs.release();
  const results = await Promise.all(accepts);
  t.same(results.map((r) => r.duplicate), [false, false]);
  t.equal(syncs.calls, 1, 'both accepts shared one sync');
  const lease = await queue.next({ timeoutMs: 2_000 });
  t.equal(lease?.request.id, 'a', 'the worker side gets the call once it is on disk');
});

t.test('a failed sync refuses its accepts and every later one, and health() says so, until a restart', async (t) => {
  const syncs = heldSyncs();
  const path = join(t.testdir(), 'q.db');
  const queue = await createQueue(`sqlite:${path}`, { ackWaitMs: 30_000, log: quiet, sqlite: { syncFile: syncs.syncFile } });
  t.teardown(async () => { while (syncs.waiting() > 0) syncs.release(); await queue.close(); });

  const refused = queue.enqueue(call('x'));
  await waitFor(() => syncs.waiting() === 1, 5_000, 'the sync to start', 2);
  syncs.release(new Error('EIO: i/o error, fdatasync'));
  await t.rejects(refused, QueueUnavailableError, 'refused: not known to be on disk');
  await t.rejects(refused, /could not sync the queue file: EIO/);
  // After an I/O error the kernel may have dropped the pages it could not write, and a later sync would not say so.
  await t.rejects(queue.enqueue(call('x')), /accepts are refused until the router restarts/, 'the same call again: refused');
  await t.rejects(queue.enqueue(call('y')), /accepts are refused until the router restarts/, 'a new call: refused');
  t.equal(syncs.calls, 1, 'nothing more was written or synced');
  const health = await queue.health();
  t.equal(health.ok, false);
  t.match(health.detail, /a sync of the queue file failed/);
  await queue.close();
  const reopened = await createQueue(`sqlite:${path}`, { ackWaitMs: 30_000 });
  t.teardown(() => reopened.close());
  t.equal((await reopened.enqueue(call('z'))).duplicate, false, 'after a restart accepts work again');
});

t.test('a sync that does not return makes health() report the queue down', async (t) => {
  const syncs = heldSyncs();
  const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`, { ackWaitMs: 30_000, sqlite: { syncFile: syncs.syncFile, syncStalledMs: 50 } });
  t.teardown(async () => { while (syncs.waiting() > 0) syncs.release(); await queue.close(); });
  t.equal((await queue.health()).ok, true);
  const waiting = queue.enqueue(call('s'));
  await waitFor(() => syncs.waiting() === 1, 5_000, 'the sync to start', 2);
  await new Promise((resolve) => setTimeout(resolve, 80));
  const health = await queue.health();
  t.equal(health.ok, false);
  t.match(health.detail, /a sync of the queue file has not returned for/);
  syncs.release();
  await waiting;
  t.equal((await queue.health()).ok, true, 'healthy again once it returned');
});

t.test('the file synced is the WAL SQLite writes, also when the queue path is a symlink', async (t) => {
  const dir = t.testdir();
  mkdirSync(join(dir, 'real'));
  writeFileSync(join(dir, 'real', 'q.db'), '');
  symlinkSync(join(dir, 'real', 'q.db'), join(dir, 'link.db'));
  const synced: number[] = [];
  const queue = await createQueue(`sqlite:${join(dir, 'link.db')}`, {
    ackWaitMs: 30_000,
    sqlite: { syncFile: async (fd) => { synced.push(fstatSync(fd).ino); await promisify(fdatasync)(fd); } },
  });
  t.teardown(() => queue.close());
  t.equal((await queue.enqueue(call('l'))).duplicate, false);
  t.equal(synced.length, 1, 'one sync');
  t.equal(synced[0], statSync(join(dir, 'real', 'q.db-wal')).ino, 'of the WAL beside the real file');
});

t.test('closing waits for the accepts whose sync is under way', async (t) => {
  const syncs = heldSyncs();
  const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`, { ackWaitMs: 30_000, sqlite: { syncFile: syncs.syncFile } });
  const first = queue.enqueue(call('c1'));
  await waitFor(() => syncs.waiting() === 1, 5_000, 'the sync to start', 2);
  const second = queue.enqueue(call('c2'));
  const closing = queue.close();
  syncs.release();
  await waitFor(() => syncs.waiting() === 1, 5_000, 'the sync of the second batch', 2);
  syncs.release();
  t.equal((await first).duplicate, false);
  t.equal((await second).duplicate, false, 'committed before close: answered, not refused');
  await closing;
});

t.test('synchronous=normal: accepts never wait for a sync', async (t) => {
  const syncs = heldSyncs();
  const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}?synchronous=normal`, { ackWaitMs: 30_000, sqlite: { syncFile: syncs.syncFile } });
  t.teardown(() => queue.close());
  const result = await queue.enqueue(call('n'));
  t.equal(result.duplicate, false);
  t.equal(syncs.calls, 0);
});

t.test('the default sync (fdatasync of the WAL file) makes accepts resolve', async (t) => {
  const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`, { ackWaitMs: 30_000 });
  t.teardown(() => queue.close());
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => queue.enqueue(call(`d-${i}`))));
  t.equal(results.filter((r) => !r.duplicate).length, 50);
  t.equal((await queue.get('d-49'))?.status, 'queued');
});

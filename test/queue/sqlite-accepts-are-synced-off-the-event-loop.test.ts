// Accepts on sqlite commit without a sync inside COMMIT, and resolve only after the WAL file was synced on the
// thread pool (router/queue/sqlite/sqlite-wal-sync.ts): the event loop runs while the disk works, an accept whose
// sync failed is refused (and can be sent again), and one sync serves every commit made before it started.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createQueue, QueueUnavailableError, type NewCall } from '../../router/queue/index.js';
import { WalSync } from '../../router/queue/sqlite/sqlite-wal-sync.js';

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
const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  p.then(() => { done = true; }, () => { done = true; });
  await turn();
  await turn();
  return done;
};

t.test('WalSync: one sync per commits made before it started, one more for those made while it ran', async (t) => {
  const wal = join(t.testdir(), 'q.db-wal');
  writeFileSync(wal, '');
  const syncs = heldSyncs();
  const ws = new WalSync(wal, syncs.syncFile);
  t.teardown(() => ws.close());

  await ws.sync();
  t.equal(syncs.calls, 0, 'nothing written: nothing to sync');

  ws.wrote();
  const first = ws.sync();
  const same = ws.sync();
  t.equal(first, same, 'callers before the sync started share it');
  await new Promise((resolve) => setTimeout(resolve, 20)); // the file opens on the thread pool
  t.equal(syncs.waiting(), 1, 'one sync running');

  ws.wrote();
  const second = ws.sync();
  ws.wrote();
  const third = ws.sync();
  t.equal(second, third, 'commits made while a sync runs share the next one');
  t.notOk(await settled(first), 'not resolved before the sync finished');
  syncs.release();
  await first;
  t.notOk(await settled(second), 'the later commits wait for their own sync');
  t.equal(syncs.waiting(), 1, 'the next sync started when the first ended');
  syncs.release();
  await second;
  t.equal(syncs.calls, 2, 'two syncs for three commits');
  await ws.sync();
  t.equal(syncs.calls, 2, 'everything synced: a new caller does not sync again');
});

t.test('WalSync: a failed sync rejects its callers, and the next caller syncs again', async (t) => {
  const wal = join(t.testdir(), 'q.db-wal');
  writeFileSync(wal, '');
  const syncs = heldSyncs();
  const ws = new WalSync(wal, syncs.syncFile);
  t.teardown(() => ws.close());
  ws.wrote();
  const failing = ws.sync();
  await new Promise((resolve) => setTimeout(resolve, 20));
  syncs.release(new Error('EIO: i/o error, fdatasync'));
  await t.rejects(failing, /EIO/);
  const again = ws.sync();
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(syncs.calls, 2, 'the commit is synced again');
  syncs.release();
  await again;
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

t.test('an accept whose sync failed is refused with a 503 error; sent again, it is a duplicate and synced', async (t) => {
  const syncs = heldSyncs();
  const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`, { ackWaitMs: 30_000, sqlite: { syncFile: syncs.syncFile } });
  t.teardown(async () => { while (syncs.waiting() > 0) syncs.release(); await queue.close(); });

  const refused = queue.enqueue(call('x'));
  await new Promise((resolve) => setTimeout(resolve, 20));
  syncs.release(new Error('EIO: i/o error, fdatasync'));
  await t.rejects(refused, QueueUnavailableError, 'refused: not known to be on disk');
  await t.rejects(refused, /could not sync the queue file: EIO/);

  const again = queue.enqueue(call('x'));
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(syncs.waiting(), 1, 'the repeat waits for a sync of its own');
  syncs.release();
  const result = await again;
  t.equal(result.duplicate, true, 'the first accept was committed: the repeat finds it');
  t.equal(result.record.id, 'x');
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

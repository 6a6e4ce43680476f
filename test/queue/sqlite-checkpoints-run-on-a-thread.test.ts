// Checkpoints leave the serving connection once it is busy (sqlite-checkpoint.ts): after START_AFTER_COMMITS
// write transactions a thread copies the WAL into the file and the serving connection stops checkpointing;
// the thread keeps the WAL bounded under a steady stream of commits; a thread that cannot open the file hands checkpoints back; close() ends the thread; and a queue that
// crossed the threshold keeps every call through leases, results and a reopen.

import t from 'tap';
import { statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createQueue } from '../../router/queue/index.js';
import { SqliteCheckpointer, START_AFTER_COMMITS } from '../../router/queue/sqlite/sqlite-checkpoint.js';
import { openDb } from '../../router/queue/sqlite/sqlite-store.js';
import { makeCall } from '../helpers/calls.js';

const ok = { status: 'succeeded' as const, result: { statusCode: 200, headers: {}, body: Buffer.from('out') } };

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A table of rows (4 KiB by default), written in one transaction each: every commit adds pages to the WAL. The connection
 * waits for no lock (as the queue's): a commit that meets the thread's RESTART is tried again 1 ms later.
 */
function writer(db: Database.Database, rowBytes = 4096): { write: (n: number) => Promise<void>; readonly busy: number } {
  db.exec('CREATE TABLE IF NOT EXISTS pad (x BLOB)');
  const insert = db.prepare('INSERT INTO pad (x) VALUES (?)');
  const out = {
    busy: 0,
    async write(n: number): Promise<void> {
      for (let i = 0; i < n; i++) {
        for (;;) {
          try { insert.run(Buffer.alloc(rowBytes, i)); break; } catch (err) {
            if (!String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY')) throw err;
            out.busy++;
            await new Promise((r) => setTimeout(r, 1));
          }
        }
      }
    },
  };
  return out;
}

t.test('the thread starts after the threshold, takes over checkpoints, and stops at close', async (t) => {
  const path = join(t.testdir(), 'q.db');
  const db = openDb(path);
  t.teardown(() => { if (db.open) db.close(); });
  const checkpoints = new SqliteCheckpointer(db, path, { startAfter: 5 });
  const { write } = writer(db);
  const fileSize = (): number => statSync(path).size;

  for (let i = 0; i < 4; i++) { await write(1); checkpoints.committed(); }
  t.equal(checkpoints.mode.state, 'waiting', 'below the threshold: no thread');
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000, 'the serving connection checkpoints as SQLite does by default');

  await write(1);
  checkpoints.committed();
  await until('the thread', () => checkpoints.mode.thread);
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0, 'the serving connection no longer checkpoints');

  // 100 pages: far below the 1,000 that would make the serving connection checkpoint by itself.
  const before = fileSize();
  await write(100);
  await until('the thread to copy the WAL into the file', () => fileSize() >= before + 100 * 4096);
  t.pass('the pages reached the database file while the serving connection never checkpointed');

  await checkpoints.close();
  t.same(checkpoints.mode, { thread: false, state: 'closed' }, 'closed: no thread');
  checkpoints.committed();
  t.equal(checkpoints.mode.state, 'closed', 'a commit after close starts nothing');
});

t.test('under a steady stream of commits the WAL is restarted, so it stays bounded', async (t) => {
  const path = join(t.testdir(), 'q.db');
  const db = openDb(path);
  t.teardown(() => { if (db.open) db.close(); });
  const checkpoints = new SqliteCheckpointer(db, path, { startAfter: 1, restartFrames: 256 });
  t.teardown(() => checkpoints.close());
  const pad = writer(db, 100);
  await pad.write(1);
  checkpoints.committed();
  await until('the thread', () => checkpoints.mode.thread);
  // 30,000 commits of a small row back to back, each rewriting a 4 KiB page, the event loop turning between them:
  // a PASSIVE checkpoint alone never finds the WAL fully copied at a writer's start, and the WAL keeps growing
  // (20,000 such commits without the RESTART: 57-86 MB; with it, 14-17 MB, and 40.4 MB once in a CI run on a
  // loaded 2-core host, the thread starved: the bound is set between that and what no RESTART reaches).
  const commits = 30_000;
  let walMax = 0;
  for (let i = 0; i < commits; i++) {
    await pad.write(1);
    if (i % 100 === 0) {
      walMax = Math.max(walMax, statSync(`${path}-wal`).size);
      await new Promise((r) => setImmediate(r));
    }
  }
  t.ok(walMax < 50e6, `the WAL stayed under 50 MB (largest seen ${(walMax / 1e6).toFixed(1)} MB; ${pad.busy} commits met the RESTART's lock)`);
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM pad').get() as { n: number }).n, commits + 1, 'every row is there');
});

t.test('a thread that cannot open the file hands checkpoints back to the serving connection', async (t) => {
  const path = join(t.testdir(), 'q.db');
  const db = openDb(path);
  t.teardown(() => { if (db.open) db.close(); });
  const told: string[] = [];
  const checkpoints = new SqliteCheckpointer(db, path, { startAfter: 1, onFallBack: (reason) => told.push(reason) });
  t.teardown(() => checkpoints.close());
  unlinkSync(path); // the serving connection keeps the deleted file; the thread cannot open the path
  await writer(db).write(1);
  checkpoints.committed();
  await until('the fall-back', () => checkpoints.mode.state === 'fallen back');
  t.match(checkpoints.mode.reason, /unable to open|no such file|SQLITE_CANTOPEN|exited/i, 'the reason is kept');
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000, 'the serving connection checkpoints again');
  t.same(told, [checkpoints.mode.reason], 'the owner is told once, with the reason (the queue logs it)');
  checkpoints.committed();
  t.equal(checkpoints.mode.state, 'fallen back', 'never retried');
});

t.test('a busy queue keeps every call across the thread taking over, leases, results and a reopen', async (t) => {
  const path = join(t.testdir(), 'q.db');
  const calls = START_AFTER_COMMITS + 50;
  const queue = await createQueue(`sqlite:${path}`);
  const ids: string[] = [];
  for (let i = 0; i < calls; i++) {
    const call = makeCall({ functionName: i % 2 === 0 ? 'a' : 'b' });
    ids.push(call.id);
    await queue.enqueue(call); // one accept, one commit each
  }
  for (let i = 0; i < calls; i++) {
    const lease = (await queue.next({ timeoutMs: 1000, beginAttempt: true }))!;
    await lease.conclude!({ statusCode: 200, error: null }, ok, true);
  }
  await queue.close();

  const db = new Database(path, { readonly: true });
  t.teardown(() => db.close());
  const rows = db.prepare("SELECT COUNT(*) AS n FROM calls WHERE status = 'succeeded' AND ready_at IS NULL").get() as { n: number };
  t.equal(rows.n, calls, 'every call finished and left the queue');

  const reopened = await createQueue(`sqlite:${path}`);
  t.teardown(() => reopened.close());
  t.equal((await reopened.get(ids.at(-1)!))?.status, 'succeeded', 'the last call reads back after a reopen');
  t.same(await reopened.next({ timeoutMs: 50 }), null, 'nothing left to lease');
});

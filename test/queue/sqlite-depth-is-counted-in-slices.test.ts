// depth() on sqlite counts in slices on a read connection of its own (sqlite-depth.ts). The judge is
// always one GROUP BY over the rows: the slices must add up to it across slice boundaries and gaps in
// the sequence numbers, after every kind of change; the count yields to the event loop on a large file,
// yet reports the file as it was when the count started; a queue closed during a count says so.

import t, { type Test } from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createQueue, QueueClosedError, type DepthEntry, type Queue } from '../../router/queue/index.js';
import { makeCall } from '../helpers/calls.js';

const ok = { status: 'succeeded' as const, result: { statusCode: 200, headers: {}, body: Buffer.from('out') } };

async function open(t: Test, path: string, options?: Parameters<typeof createQueue>[1]): Promise<Queue> {
  const queue = await createQueue(`sqlite:${path}`, options);
  t.teardown(() => queue.close());
  return queue;
}

/** The counts taken in one statement, in depth()'s order and shape. */
function counted(db: Database.Database): DepthEntry[] {
  return (db.prepare(`SELECT function_name, status, COUNT(*) AS count FROM calls GROUP BY function_name, status
    ORDER BY function_name, status`).all() as { function_name: string; status: string; count: number }[])
    .map((r) => ({ functionName: r.function_name, status: r.status as DepthEntry['status'], count: r.count }));
}

/** `rows` finished calls (every 7th failed) over three functions, written in one transaction. */
function fill(db: Database.Database, rows: number, prefix: string): void {
  const insert = db.prepare(`INSERT INTO calls (id, function_name, status, accepted_at, finished_at, ready_at, record, body)
    VALUES (?, ?, ?, 0, 0, NULL, '{}', x'')`);
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(`${prefix}${i}`, `fn${i % 3}`, i % 7 === 0 ? 'failed' : 'succeeded');
  })();
}

t.test('the slices add up to one GROUP BY after every kind of change', async (t) => {
  let now = 1_000_000;
  const path = join(t.testdir(), 'q.db');
  const queue = await open(t, path, { now: () => now, callRetentionMs: 60_000 });
  const db = new Database(path);
  t.teardown(() => db.close());
  const same = async (what: string): Promise<void> => { t.same(await queue.depth(), counted(db), what); };

  await same('an empty file');
  t.same(await queue.depth(), []);
  for (const fn of ['a', 'a', 'a', 'b', 'b']) await queue.enqueue(makeCall({ functionName: fn }));
  await same('accepts');
  const first = (await queue.next({ timeoutMs: 1000, beginAttempt: true }))!;
  await same('a lease');
  await first.conclude!({ statusCode: 200, error: null }, ok, true);
  const second = (await queue.next({ timeoutMs: 1000, beginAttempt: true }))!;
  await second.retryLater!({ statusCode: 500, error: null }, 0);
  await same('a result and a retry');
  const again = (await queue.next({ timeoutMs: 1000, beginAttempt: true }))!;
  await again.conclude!({ statusCode: 500, error: null }, { status: 'failed', result: null, error: 'gave up' }, true);
  await queue.redrive(again.record.id);
  await queue.cancel((await queue.list({ status: 'queued' })).at(-1)!.id);
  await same('a failure, a redrive and a cancel');
  t.same((await queue.depth()).map((d) => [d.functionName, d.status]), [['a', 'cancelled'], ['a', 'queued'], ['a', 'succeeded'], ['b', 'queued']],
    'by function, then status; no rows with 0');

  // Past one slice (50,000 sequence numbers), with a gap in the middle and at the start of a group.
  fill(db, 130_000, 'x');
  db.prepare(`DELETE FROM calls WHERE seq BETWEEN 40000 AND 60000 OR (function_name = 'fn1' AND seq < 70000)`).run();
  await same('130,000 more rows with holes in their sequence numbers');
  now += 120_000;
  await queue.sweep();
  await same('after a sweep');
});

t.test('a long count yields to the event loop and reports the file as it was when it started', async (t) => {
  const path = join(t.testdir(), 'q.db');
  const queue = await open(t, path);
  const db = new Database(path);
  t.teardown(() => db.close());
  fill(db, 300_000, 'x');
  const before = counted(db);

  let turns = 0;
  let writing = true;
  const tick = (): void => {
    turns++;
    // Changes made while the count is under way: the count must not see them.
    if (writing) fill(db, 1_000, `during${turns}-`);
    if (turns < 3) setImmediate(tick); else writing = false;
  };
  setImmediate(tick);
  const depth = await queue.depth();
  t.ok(turns >= 1, `the event loop ran ${turns} times during the count`);
  t.same(depth, before, 'the counts as of the start');
  t.not(counted(db), before, 'the file did change meanwhile');
  t.same(await queue.depth(), counted(db), 'the next count sees the changes');
});

t.test('a queue closed during a count: the count stops with QueueClosedError, later calls too', async (t) => {
  const path = join(t.testdir(), 'q.db');
  const queue = await createQueue(`sqlite:${path}`);
  const db = new Database(path);
  t.teardown(() => db.close());
  fill(db, 300_000, 'x');
  const counting = queue.depth();
  setImmediate(() => { void queue.close(); });
  await t.rejects(counting, QueueClosedError);
  await t.rejects(queue.depth(), QueueClosedError);
});

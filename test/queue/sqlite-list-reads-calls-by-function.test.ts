// list() on the sqlite queue reads calls_by_function alone (sqlite-list.ts): the index on (status, seq)
// that every lease and every result had to rewrite is gone, also from a file an earlier version made.
// The listing is checked against the rows themselves for every kind of filter, over many functions and
// every status a call passes through.

import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createQueue, type CallRecord, type CallStatus, type ListFilter, type Queue } from '../../router/queue/index.js';
import { makeCall } from '../helpers/calls.js';

const FUNCTIONS = Array.from({ length: 12 }, (_, i) => `fn-${String(i).padStart(2, '0')}`);

/** 5 calls per function, left in the statuses a call goes through. */
async function fill(queue: Queue): Promise<void> {
  const ids: string[] = [];
  for (let round = 0; round < 5; round++) {
    for (const fn of FUNCTIONS) {
      const call = makeCall({ functionName: fn });
      ids.push(call.id);
      await queue.enqueue(call);
    }
  }
  // Leased in queue order: the first 24 calls. Some end, some stay running.
  for (let i = 0; i < 24; i++) {
    const lease = await queue.next({ timeoutMs: 2000 });
    if (lease === null) throw new Error('nothing to lease');
    await lease.beginAttempt();
    if (i % 3 === 2) continue; // running
    await lease.endAttempt({ statusCode: i % 3 === 0 ? 200 : 500 });
    await lease.finish(i % 3 === 0
      ? { status: 'succeeded', result: { statusCode: 200, headers: {}, body: Buffer.from('ok') } }
      : { status: 'failed', result: null, error: 'answered 500' });
    await lease.ack();
  }
  for (const id of ids.slice(40, 46)) await queue.cancel(id);
}

t.test('list matches the rows for every filter, newest first, without the (status, seq) index', async (t) => {
  const path = join(t.testdir(), 'q.db');
  // A file as an earlier version left it: with the index.
  const first = await createQueue(`sqlite:${path}`);
  await first.close();
  const old = new Database(path);
  old.exec('CREATE INDEX calls_by_status ON calls (status, seq)');
  old.close();

  const queue = await createQueue(`sqlite:${path}`, { ackWaitMs: 60_000 });
  t.teardown(() => queue.close());
  const raw = new Database(path, { readonly: true });
  t.teardown(() => raw.close());
  t.same(raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'calls_by_status'").all(), [], 'opening the file drops the index');

  await fill(queue);
  const rows = raw.prepare('SELECT id, function_name AS fn, status FROM calls ORDER BY seq DESC').all() as Array<{ id: string; fn: string; status: CallStatus }>;
  t.same(new Set(rows.map((r) => r.status)), new Set(['queued', 'running', 'succeeded', 'failed', 'cancelled']), 'every status is in the file');

  const filters: ListFilter[] = [
    {}, { limit: 7 }, { functionName: 'fn-03' }, { functionName: 'fn-03', limit: 2 }, { status: 'queued' }, { status: 'running', limit: 3 },
    { status: ['failed', 'cancelled'] }, { status: ['failed', 'cancelled'], limit: 4 }, { status: [] }, { status: ['queued', 'queued'], limit: 5 },
    { functionName: 'fn-00', status: ['running', 'succeeded'] }, { functionName: 'fn-11', status: 'cancelled' }, { functionName: 'nope' },
    { status: 'expired' }, { limit: 1000 },
  ];
  for (const filter of filters) {
    const statuses = filter.status === undefined ? [] : ([] as CallStatus[]).concat(filter.status);
    const expected = rows
      .filter((r) => (filter.functionName === undefined || r.fn === filter.functionName) && (statuses.length === 0 || statuses.includes(r.status)))
      .slice(0, filter.limit ?? 100)
      .map((r) => r.id);
    const listed: CallRecord[] = await queue.list(filter);
    t.same(listed.map((r) => r.id), expected, `list(${JSON.stringify(filter)})`);
  }
  const [succeeded] = await queue.list({ status: 'succeeded', limit: 1 });
  t.equal(succeeded?.result?.body, null, 'no result bodies');
  t.equal(succeeded?.result?.bodySize, 2);
});

t.test('a (function, status) range is read backwards from the index alone: no table scan, no sort', async (t) => {
  const path = join(t.testdir(), 'q.db');
  const queue = await createQueue(`sqlite:${path}`);
  t.teardown(() => queue.close());
  await queue.enqueue(makeCall({ functionName: 'a' }));
  const raw = new Database(path, { readonly: true });
  t.teardown(() => raw.close());
  const plan = (sql: string, ...params: unknown[]): string => (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
  const range = plan('SELECT seq FROM calls WHERE function_name = ? AND status = ? ORDER BY seq DESC LIMIT ?', 'a', 'queued', 10);
  t.match(range, /USING COVERING INDEX calls_by_function/, range);
  t.notMatch(range, /TEMP B-TREE|SCAN calls\b(?! USING)/, 'neither a sort nor a scan of the table');
  const next = plan('SELECT function_name AS name FROM calls WHERE function_name > ? ORDER BY function_name LIMIT 1', 'a');
  t.match(next, /USING COVERING INDEX calls_by_function/, next);
});

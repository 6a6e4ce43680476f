// The wait-for-work pump and group commit, with a fake source.

import t from 'tap';
import { Waiters } from '../../router/queue/waiters.js';
import { GroupCommit } from '../../router/queue/group-commit.js';

t.test('waiters are served in order, woken without polling, and settle once', async (t) => {
  const items: string[] = [];
  let polls = 0;
  const w = new Waiters<string>({ tryLease: () => { polls++; return items.shift() ?? null; }, msUntilDue: () => null }, 60_000);
  const a = w.wait();
  const b = w.wait();
  await new Promise((r) => setImmediate(r));
  items.push('x', 'y');
  w.wake();
  t.same(await Promise.all([a, b]), ['x', 'y']);
  t.ok(polls <= 4, `few polls (${polls})`);
  const ac = new AbortController();
  const c = w.wait(ac.signal);
  ac.abort();
  t.equal(await c, null);
  t.equal(await w.wait(ac.signal), null, 'an aborted signal returns at once');
  t.equal(await w.wait(undefined, 20), null, 'timeout');
  const d = w.wait();
  w.close();
  t.equal(await d, null);
  t.equal(await w.wait(), null, 'closed');
});

t.test('the pump wakes itself when work is due, and passes errors to the head waiter', async (t) => {
  let dueAt = Date.now() + 50;
  const w = new Waiters<string>({
    tryLease: () => (Date.now() >= dueAt ? (dueAt = Infinity, 'due') : null),
    msUntilDue: () => (dueAt === Infinity ? null : dueAt - Date.now()),
  }, 60_000);
  t.equal(await w.wait(undefined, 2000), 'due');
  let fail = true;
  const e = new Waiters<string>({ tryLease: () => { if (fail) { fail = false; throw new Error('busy'); } return 'ok'; }, msUntilDue: () => null }, 10);
  await t.rejects(e.wait(), { message: 'busy' });
  t.equal(await e.wait(), 'ok');
  w.close(); e.close();
});

t.test('group commit batches one turn into one commit and fails the whole batch together', async (t) => {
  const batches: number[][] = [];
  const gc = new GroupCommit<number, number>((items) => {
    if (items.includes(-1)) throw new Error('rollback');
    batches.push([...items]);
    return items.map((i) => i * 2);
  });
  t.same(await Promise.all([1, 2, 3].map((i) => gc.submit(i))), [2, 4, 6]);
  t.same(batches, [[1, 2, 3]], 'one transaction');
  const results = await Promise.allSettled([gc.submit(4), gc.submit(-1)]);
  t.same(results.map((r) => r.status), ['rejected', 'rejected'], 'nobody in a failed batch is told "accepted"');
  await gc.drained();
  gc.flush();
});

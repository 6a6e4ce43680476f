// The sqlite queue's retry of a locked file (router/queue/sqlite/busy.ts): SQLITE_BUSY is tried again
// after short jittered pauses until the budget, then QueueBusyError; other errors are not retried.

import t from 'tap';
import { QueueBusyError } from '../../router/queue/index.js';
import { BusyBackoff, busyPauseMs, isBusy, retryWhileBusy } from '../../router/queue/sqlite/busy.js';

const busy = (code = 'SQLITE_BUSY'): Error => Object.assign(new Error('database is locked'), { code });

t.test('SQLITE_BUSY and its extended codes are busy; other failures are not', async (t) => {
  t.ok(isBusy(busy()));
  t.ok(isBusy(busy('SQLITE_BUSY_SNAPSHOT')));
  t.ok(isBusy(new QueueBusyError(0)));
  t.notOk(isBusy(busy('SQLITE_CORRUPT')));
  t.notOk(isBusy(new Error('no code')));
  t.notOk(isBusy(null));
});

t.test('a busy operation is tried again until it gets through', async (t) => {
  let tries = 0;
  const value = await retryWhileBusy(() => { if (++tries < 4) throw busy(); return 'done'; }, 1_000);
  t.equal(value, 'done');
  t.equal(tries, 4);
});

t.test('an operation that fails otherwise is not tried again', async (t) => {
  let tries = 0;
  await t.rejects(retryWhileBusy(() => { tries++; throw busy('SQLITE_CORRUPT'); }, 1_000), { code: 'SQLITE_CORRUPT' });
  t.equal(tries, 1);
});

t.test('still busy after the budget: QueueBusyError saying how long it waited, with the last failure as cause', async (t) => {
  const last = busy();
  const err = await retryWhileBusy(() => { throw last; }, 30).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof QueueBusyError);
  t.match(err, { code: 'QUEUE_ERR_BUSY', status: 503, retryAfterS: 1, cause: last });
  t.ok((err as QueueBusyError).waitedMs >= 30, 'waited the whole budget');
});

t.test("pauses start at a millisecond, stay at 2 ms for 50 tries (about a commit's length), then double to 50 ms, and keep half their length at least", async (t) => {
  t.equal(busyPauseMs(1, 0), 0.5);
  t.equal(busyPauseMs(1, 1), 1);
  t.equal(busyPauseMs(2, 1), 2);
  t.equal(busyPauseMs(3, 1), 2, 'not 4: a commit holds the lock for a few ms, and the gaps between commits are short');
  t.equal(busyPauseMs(50, 1), 2);
  t.equal(busyPauseMs(51, 1), 4, 'a lock held ~100 ms is something long: waits grow');
  t.equal(busyPauseMs(53, 1), 16);
  t.equal(busyPauseMs(80, 1), 50);
  t.equal(busyPauseMs(80, 0), 25);
  let waited = 0;
  for (let attempt = 1; attempt <= 50; attempt++) waited += busyPauseMs(attempt, 1);
  t.ok(waited >= 90 && waited <= 100, `the short pauses last ~100 ms at most (${waited} ms)`);
});

t.test('callers that met the same failure (one group commit) draw one pause between them', async (t) => {
  let draws = 0;
  const random = (): number => { draws++; return 0.5; };
  const shared = busy();
  let a = 0;
  let b = 0;
  await Promise.all([
    retryWhileBusy(() => { if (a++ === 0) throw shared; }, 1_000, { random }),
    retryWhileBusy(() => { if (b++ === 0) throw shared; }, 1_000, { random }),
  ]);
  t.equal(draws, 1, 'one draw for one failure');
});

t.test('lease attempts that meet the lock wait longer each time, and not at all once one gets through', async (t) => {
  const backoff = new BusyBackoff(() => 1);
  t.equal(backoff.waitMs(), 0);
  const first = backoff.busy();
  const second = backoff.busy();
  t.ok(second > first, `pauses grow (${first} then ${second} ms)`);
  t.ok(backoff.waitMs() > 0 && backoff.waitMs() <= second);
  backoff.clear();
  t.equal(backoff.waitMs(), 0);
});

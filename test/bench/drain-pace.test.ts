// The async bench's drain pace: calls drained per whole second from the backlog readings, and the rate after
// the worker's warm-up (bench/drain.ts drainPace).

import t from 'tap';
import { drainPace } from '../../bench/drain.js';

t.test('calls per whole second, each second measured between the readings that bound it', async (t) => {
  // Readings every 500 ms: 1,000 left at 0, 800 at 1 s, 300 at 2 s, 0 at 2.5 s.
  const pace = drainPace([[0, 1000], [500, 900], [1000, 800], [1500, 600], [2000, 300], [2500, 0]], 1000);
  t.same(pace.perSecond, [200, 500], 'the last half second is not a whole second');
  t.equal(pace.after, 800 / 1.5, 'from the first reading at or after the warm-up to the last');
});

t.test('readings late by a few ms: a second runs to the first reading a whole second after its start', async (t) => {
  const pace = drainPace([[0, 100], [1004, 60], [1950, 30], [2010, 0]], 1000);
  t.same(pace.perSecond.map((n) => Math.round(n)), [40, 60], 'two whole seconds: 1,004 ms, then 1,006 ms (the reading at 1,950 ms is inside the second)');
  t.equal(Math.round(pace.after), Math.round((60 * 1000) / (2010 - 1004)));
});

t.test('a drain over before the warm-up has no rate after it', async (t) => {
  t.ok(Number.isNaN(drainPace([[0, 10], [800, 0]], 2000).after), 'no reading after the warm-up');
  t.ok(Number.isNaN(drainPace([[0, 10], [800, 5], [2000, 0]], 2000).after), 'only the last reading is at the warm-up');
  t.same(drainPace([[0, 10]], 2000).perSecond, [], 'one reading: no second');
});

import t from 'tap';
import { parseDuration, formatDuration } from '../../common/duration.js';

t.test('whole numbers are seconds, units are Go-style', async (t) => {
  t.equal(parseDuration('30'), 30_000);
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('1m30s'), 90_000);
  t.equal(parseDuration('1.5s'), 1500);
  t.equal(parseDuration('0'), 0);
  t.equal(parseDuration('2h'), 7_200_000);
});

t.test('anything else is rejected with the offending text', async (t) => {
  for (const bad of ['abc', '', '10x', '-1s', 's', '1m 30s', '10s5']) {
    t.throws(() => parseDuration(bad), { message: new RegExp(JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }, bad);
  }
});

t.test('formatDuration reads back', async (t) => {
  for (const ms of [0, 500, 1000, 90_000, 60_000, 3_600_000]) t.equal(parseDuration(formatDuration(ms)), ms);
});

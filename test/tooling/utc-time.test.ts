// Dates written from their UTC fields (common/utc-time.ts) read exactly as V8's toISOString and toUTCString.
import t from 'tap';
import { httpDate, httpDateOf, isoTime } from '../../common/utc-time.js';

const EDGES = [
  0, -1, 1, 951_782_400_000 /* 2000-02-29 */, Date.UTC(1969, 11, 31, 23, 59, 59, 999), Date.UTC(2026, 11, 6, 1, 14, 10, 73),
  Date.UTC(1900, 0, 1), new Date('0000-01-01T00:00:00.000Z').getTime(),
  new Date('9999-12-31T23:59:59.999Z').getTime(), new Date('+010000-01-01T00:00:00.000Z').getTime(), new Date('-000001-06-15T12:00:00.000Z').getTime(),
];

t.test('isoTime and httpDateOf read as toISOString and toUTCString', async (t) => {
  // A fixed pseudo-random walk over 0000-9999 (seeded: the same dates every run).
  let seed = 7;
  const random = (): number => { seed = (seed * 48_271) % 2_147_483_647; return seed / 2_147_483_647; };
  const min = new Date('0000-01-01T00:00:00.000Z').getTime();
  const max = new Date('9999-12-31T23:59:59.999Z').getTime();
  const times = [...EDGES, ...Array.from({ length: 5_000 }, () => Math.floor(min + random() * (max - min)))];
  let mismatches = 0;
  for (const ms of times) {
    const d = new Date(ms);
    if (isoTime(d) !== d.toISOString()) { mismatches++; t.equal(isoTime(d), d.toISOString(), `isoTime(${ms})`); }
    if (httpDateOf(ms) !== d.toUTCString()) { mismatches++; t.equal(httpDateOf(ms), d.toUTCString(), `httpDateOf(${ms})`); }
  }
  t.equal(mismatches, 0, `${times.length} dates, the same text both ways`);
  t.throws(() => isoTime(new Date(Number.NaN)), RangeError, 'an invalid date throws as toISOString does');
});

t.test('httpDate is the HTTP date of the current second', async (t) => {
  const before = Math.floor(Date.now() / 1000) * 1000;
  const now = httpDate();
  const after = Math.floor(Date.now() / 1000) * 1000;
  t.ok(now === httpDateOf(before) || now === httpDateOf(after), `${now} is this second's`);
  t.match(now, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/);
});

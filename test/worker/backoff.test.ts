import t from 'tap';
import { MAX_RETRY_AFTER_MS, backoffMs, nextDelayMs, parseRetryAfter } from '../../router/worker/backoff.js';

const S = { initialRetryWaitMs: 1_000, maxRetryWaitMs: 120_000 };

t.test('full jitter between initial_retry_wait and the exponential cap', async (t) => {
  t.equal(backoffMs(1, S, () => 0), 1_000, 'lowest draw is initial_retry_wait');
  t.equal(backoffMs(1, S, () => 1), 2_000, 'first retry: at most 2 x initial');
  t.equal(backoffMs(3, S, () => 1), 8_000, 'third retry: at most 8 x initial');
  t.equal(backoffMs(3, S, () => 0.5), 4_500, 'uniform inside [initial, cap]');
  t.equal(backoffMs(20, S, () => 1), 120_000, 'capped at max_retry_wait');
  t.equal(backoffMs(5_000, S, () => 1), 120_000, '2^n overflow is harmless');
  t.equal(backoffMs(0, S, () => 1), 2_000, 'retry numbers below 1 count as the first');
  t.equal(backoffMs(4, { initialRetryWaitMs: 100, maxRetryWaitMs: 100 }, () => 0.7), 100, 'initial = max: no spread');
  for (let i = 0; i < 200; i++) {
    const d = backoffMs(1 + (i % 12), S);
    if (d < 1_000 || d > 120_000) t.fail(`out of range: ${d}`);
  }
});

t.test('Retry-After as seconds or HTTP date', async (t) => {
  const now = Date.parse('2026-11-28T12:00:00Z');
  t.equal(parseRetryAfter('2', now), 2_000);
  t.equal(parseRetryAfter(' 0 ', now), 0);
  t.equal(parseRetryAfter(['5', '9'], now), 5_000, 'first of repeated headers');
  t.equal(parseRetryAfter('Sat, 28 Nov 2026 12:00:30 GMT', now), 30_000, 'IMF-fixdate');
  t.equal(parseRetryAfter('Saturday, 28-Nov-26 12:01:00 GMT', now), 60_000, 'RFC 850 date');
  t.equal(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', now), 0, 'a date in the past: now');
  t.equal(parseRetryAfter('999999999', now), MAX_RETRY_AFTER_MS, 'capped at a day');
  for (const junk of [undefined, '', '1.5', '-3', '2s', 'soon', 'Mon, 99 Foo 2026']) t.equal(parseRetryAfter(junk, now), undefined, `ignored: ${String(junk)}`);
});

t.test('Retry-After wins over the backoff', async (t) => {
  const now = 1_000_000;
  t.equal(nextDelayMs(1, '3', S, now, () => 0), 3_000);
  t.equal(nextDelayMs(1, '0', S, now, () => 1), 0, 'even when it is shorter');
  t.equal(nextDelayMs(2, undefined, S, now, () => 1), 4_000, 'absent: backoff');
  t.equal(nextDelayMs(2, 'garbage', S, now, () => 0), 1_000, 'unreadable: backoff');
});

import t from 'tap';
import { attemptsThisRound, decide } from '../../router/worker/policy.js';
import type { CallRecord } from '../../router/queue/index.js';

const P = { retryHttpCodes: [408, 429, 500, 502, 503, 504], maxRetryAttempts: 3 };

t.test('success, retry, or dead letter', async (t) => {
  t.same(decide({ statusCode: 200 }, 1, P), { kind: 'final', status: 'succeeded', reason: null });
  t.same(decide({ statusCode: 302 }, 1, P), { kind: 'final', status: 'succeeded', reason: null }, '3xx is an answer, not a failure');
  t.same(decide({ statusCode: 503 }, 1, P), { kind: 'retry' });
  t.same(decide({ statusCode: 429 }, 2, P), { kind: 'retry' });
  t.same(decide({ statusCode: null }, 2, P), { kind: 'retry' }, 'connection errors and timeouts are retried');
  t.match(decide({ statusCode: 503 }, 3, P), { kind: 'final', status: 'failed', reason: /gave up after 3 attempts/ });
  t.match(decide({ statusCode: null }, 3, P), { kind: 'final', status: 'failed', reason: /could not be reached; gave up/ });
  t.match(decide({ statusCode: 400 }, 1, P), { kind: 'final', status: 'failed', reason: /answered 400 \(not retried\)/ });
  t.match(decide({ statusCode: 500 }, 1, { ...P, retryHttpCodes: [] }), { kind: 'final', status: 'failed' }, 'retry_http_codes empty: only connection errors retry');
});

t.test('attempts count per round', async (t) => {
  const a = (round: number) => ({ number: 0, round, startedAt: 0, finishedAt: 1, statusCode: 503, error: null });
  const record = { round: 1, attempts: [a(0), a(0), a(0), a(1)] } as unknown as CallRecord;
  t.equal(attemptsThisRound(record), 1, 'a redrive starts the count again');
});

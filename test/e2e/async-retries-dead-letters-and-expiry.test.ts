// Retries with backoff, Retry-After, dead letters, /system/calls/{id}/retry, and
// max_event_age, against a real http-mode watchdog whose function answers by script (per call id).
import t from 'tap';
import { join } from 'node:path';
import { request } from 'undici';
import { CallStateError } from '../../router/queue/index.js';
import { startRouter } from '../helpers/start-router.js';
import { startCallbackReceiver } from '../helpers/callback-receiver.js';
import { SCRIPTED_FN, fnStats, postAsync, startHttpFunction, startWorkerProcess, waitForCall } from '../helpers/async-calls.js';

const FAST_RETRIES = { initial_retry_wait: '100ms', max_retry_wait: '300ms', max_retry_attempts: '4' };

t.test('retry policy on one router', async (t) => {
  const fn = await startHttpFunction(t, SCRIPTED_FN);
  const receiver = await startCallbackReceiver(t);
  const router = await startRouter(t, { functions: `fn=${fn.wd.url}`, queue: `sqlite:${join(t.testdir(), 'q.db')}`, ...FAST_RETRIES });
  const post = (path: string, id: string): ReturnType<typeof postAsync> =>
    postAsync(router.url, `fn${path}`, { headers: { 'X-Callback-Url': receiver.url, 'X-Call-Id': id } });

  t.test('503 twice, then 200: one callback with 200 and X-Retry: 2', async (t) => {
    t.equal((await post('/flaky?n=2', 'flaky-1')).status, 202);
    const cb = await receiver.waitFor((c) => c.headers['x-call-id'] === 'flaky-1', 15_000, 'flaky callback');
    t.equal(cb.headers['x-function-status'], '200');
    t.equal(cb.headers['x-retry'], '2', 'two retries before the final attempt');
    t.equal(cb.headers['x-retry-max'], '3');
    t.equal(cb.body.toString(), 'ok after 2');
    const rec = await waitForCall(router.url, 'flaky-1', (c) => c.callback.state === 'delivered', 5_000, 'flaky record');
    t.same(rec.attempts.map((a) => a.statusCode), [503, 503, 200], 'every attempt recorded');
    t.equal(rec.status, 'succeeded');
    const gaps = rec.attempts.slice(1).map((a, i) => a.startedAt - rec.attempts[i]!.finishedAt!);
    for (const gap of gaps) t.ok(gap >= 90 && gap < 2_000, `backoff between attempts within [initial_retry_wait, max_retry_wait] plus slack: ${gap} ms`);
    t.equal(receiver.forCall('flaky-1').length, 1, 'one callback, after the final attempt only');
  });

  t.test('400 is final at once', async (t) => {
    await post('/bad', 'bad-1');
    const cb = await receiver.waitFor((c) => c.headers['x-call-id'] === 'bad-1', 15_000, 'bad callback');
    t.equal(cb.headers['x-function-status'], '400');
    t.equal(cb.headers['x-call-status'], 'failed');
    t.equal(cb.headers['x-retry'], '0');
    t.equal(cb.body.toString(), 'bad input');
    const rec = await waitForCall(router.url, 'bad-1', (c) => c.callback.state === 'delivered', 5_000, 'bad record');
    t.match(rec, { status: 'failed', lastStatusCode: 400, error: /answered 400 \(not retried\)/ });
    t.equal(rec.attempts.length, 1, 'not retried');
    t.equal((await fnStats(fn.direct))['bad-1']?.length, 1);
  });

  t.test('always 503: dead letter after max_retry_attempts, then /retry runs it again', async (t) => {
    await post('/always', 'dead-1');
    const cb = await receiver.waitFor((c) => c.headers['x-call-id'] === 'dead-1', 20_000, 'dead-letter callback');
    t.equal(cb.headers['x-function-status'], '503', 'the callback reports the final failure');
    t.equal(cb.headers['x-call-status'], 'failed');
    t.equal(cb.headers['x-retry'], '3');
    const rec = await waitForCall(router.url, 'dead-1', (c) => c.callback.state === 'delivered', 5_000, 'dead record');
    t.equal(rec.status, 'failed');
    t.match(rec.error, /gave up after 4 attempts/);
    t.same(rec.attempts.map((a) => [a.number, a.round, a.statusCode]), [[1, 0, 503], [2, 0, 503], [3, 0, 503], [4, 0, 503]], 'every attempt listed');
    t.equal((await fnStats(fn.direct))['dead-1']?.length, 4, 'the function saw 4 attempts');

    const retry = await request(`${router.url}/system/calls/dead-1/retry`, { method: 'POST' });
    t.equal(retry.statusCode, 202, '/retry accepted');
    t.match(await retry.body.json(), { id: 'dead-1', status: 'queued', round: 1 });
    await receiver.until(() => receiver.forCall('dead-1').length === 2, 20_000, 'the second round\'s callback');
    const again = await waitForCall(router.url, 'dead-1', (c) => c.status === 'failed' && c.round === 1 && c.callback.state === 'delivered', 5_000, 'round 2 record');
    t.equal(again.attempts.length, 8, 'the history keeps round 0 and adds round 1');
    t.same(again.attempts.slice(4).map((a) => a.round), [1, 1, 1, 1]);
    t.equal((await fnStats(fn.direct))['dead-1']?.length, 8);
    const twice = await request(`${router.url}/system/calls/bad-1/retry`, { method: 'POST' });
    t.equal(twice.statusCode, 202, 'any failed call can be retried');
    await twice.body.dump();
    const nope = await request(`${router.url}/system/calls/flaky-1/retry`, { method: 'POST' });
    t.equal(nope.statusCode, 409, 'a succeeded call cannot be retried');
    t.equal(nope.headers['x-router-error'], new CallStateError('flaky-1', 'succeeded', 'redrive').code, 'the queue\'s own code');
    await nope.body.dump();
  });

  t.test('Retry-After: 2 delays the next attempt by 2 s', async (t) => {
    await post('/retry-after', 'ra-1');
    const cb = await receiver.waitFor((c) => c.headers['x-call-id'] === 'ra-1', 15_000, 'retry-after callback');
    t.equal(cb.headers['x-function-status'], '200');
    const seen = (await fnStats(fn.direct))['ra-1']!;
    t.equal(seen.length, 2);
    const gap = seen[1]!.at - seen[0]!.at;
    t.ok(gap >= 1_900 && gap < 4_000, `second attempt ${gap} ms after the first (Retry-After wins over the 100-300 ms backoff)`);
  });
});

t.test('a call older than max_event_age expires without being invoked', async (t) => {
  const fn = await startHttpFunction(t, SCRIPTED_FN);
  const receiver = await startCallbackReceiver(t);
  const queue = `sqlite:${join(t.testdir(), 'q.db')}`;
  // The router only accepts; no worker runs until the call is older than max_event_age.
  const router = await startRouter(t, { functions: `fn=${fn.wd.url}`, queue, async_worker: 'false', max_event_age: '1s' });
  const posted = await postAsync(router.url, 'fn/ok', { headers: { 'X-Callback-Url': receiver.url, 'X-Call-Id': 'old-1' } });
  t.equal(posted.status, 202);
  await new Promise((r) => setTimeout(r, 1_300));
  t.equal((await waitForCall(router.url, 'old-1', () => true, 1_000, 'record')).status, 'queued', 'still queued without a worker');
  await startWorkerProcess(t, { functions: `fn=${fn.wd.url}`, queue, max_event_age: '1s' });
  const cb = await receiver.waitFor((c) => c.headers['x-call-id'] === 'old-1', 10_000, 'expiry callback');
  t.equal(cb.headers['x-call-status'], 'expired');
  t.equal(cb.headers['x-function-status'], '503', 'no function status: reported as 503');
  t.equal(cb.body.length, 0, 'no body');
  const rec = await waitForCall(router.url, 'old-1', (c) => c.callback.state === 'delivered', 5_000, 'expired record');
  t.match(rec, { status: 'expired', error: /max_event_age/, attempts: [], result: null });
  t.same(await fnStats(fn.direct), {}, 'the function was never invoked');
  // A fresh call on the same worker still runs: expiry is per call.
  const fresh = await postAsync(router.url, 'fn/ok', { headers: { 'X-Callback-Url': receiver.url, 'X-Call-Id': 'new-1' } });
  t.equal(fresh.status, 202);
  const ok = await receiver.waitFor((c) => c.headers['x-call-id'] === 'new-1', 10_000, 'fresh callback');
  t.equal(ok.headers['x-function-status'], '200');
});

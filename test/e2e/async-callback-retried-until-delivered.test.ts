// The callback receiver is down for the first attempts; the callback is retried (with
// its own backoff) until it is delivered, the record counts the attempts, and the function is not
// invoked again.
import t from 'tap';
import { join } from 'node:path';
import { deadPort, startRouter } from '../helpers/start-router.js';
import { startCallbackReceiver } from '../helpers/callback-receiver.js';
import { SCRIPTED_FN, fnStats, postAsync, startHttpFunction, waitForCall } from '../helpers/async-calls.js';

t.test('callback retried until the receiver is up; one invocation', async (t) => {
  const fn = await startHttpFunction(t, SCRIPTED_FN);
  const port = await deadPort();
  const router = await startRouter(t, {
    functions: `fn=${fn.wd.url}`, queue: `sqlite:${join(t.testdir(), 'q.db')}`, initial_retry_wait: '200ms', max_retry_wait: '400ms',
  });
  const posted = await postAsync(router.url, 'fn/ok', { headers: { 'X-Callback-Url': `http://127.0.0.1:${port}/hook`, 'X-Call-Id': 'cb-down-1' }, body: 'result body' });
  t.equal(posted.status, 202);
  const pending = await waitForCall(router.url, 'cb-down-1', (c) => c.callback.attempts >= 3, 15_000, 'three failed callback attempts');
  t.match(pending, { status: 'succeeded', callback: { state: 'pending', lastStatusCode: null, lastError: /ECONNREFUSED|refused/ } });

  const receiver = await startCallbackReceiver(t, { port });
  const cb = await receiver.waitFor((c) => c.headers['x-call-id'] === 'cb-down-1', 10_000, 'the late callback');
  t.equal(cb.path, '/hook');
  t.equal(cb.body.toString(), 'result body', 'the stored result is what is delivered');
  t.equal(cb.headers['x-function-status'], '200');
  const rec = await waitForCall(router.url, 'cb-down-1', (c) => c.callback.state === 'delivered', 5_000, 'delivered in the record');
  t.ok(rec.callback.attempts >= 4, `record counts every callback attempt (${rec.callback.attempts})`);
  t.equal(rec.callback.lastStatusCode, 200);
  t.equal(rec.attempts.length, 1, 'one function attempt');
  t.equal((await fnStats(fn.direct))['cb-down-1']?.length, 1, 'the function was not invoked again');
  t.equal(receiver.forCall('cb-down-1').length, 1, 'delivered once');
});

t.test('a receiver that answers 500 a few times, then 200', async (t) => {
  const fn = await startHttpFunction(t, SCRIPTED_FN);
  let n = 0;
  const receiver = await startCallbackReceiver(t, { status: () => (++n <= 2 ? 500 : 204) });
  const router = await startRouter(t, {
    functions: `fn=${fn.wd.url}`, queue: `sqlite:${join(t.testdir(), 'q.db')}`, initial_retry_wait: '100ms', max_retry_wait: '200ms',
  });
  await postAsync(router.url, 'fn/ok', { headers: { 'X-Callback-Url': receiver.url, 'X-Call-Id': 'cb-500-1' } });
  const rec = await waitForCall(router.url, 'cb-500-1', (c) => c.callback.state === 'delivered', 15_000, 'delivered');
  t.match(rec.callback, { state: 'delivered', attempts: 3, lastStatusCode: 204 });
  t.equal(receiver.forCall('cb-500-1').length, 3, 'two refused, one accepted');
  t.equal((await fnStats(fn.direct))['cb-500-1']?.length, 1);
});

// A call that runs 3 s with ack_wait=1s is invoked exactly once: the worker extends its
// lease while the call runs, so neither it nor a second worker on the same queue picks it up again.
import t from 'tap';
import { join } from 'node:path';
import { startRouter } from '../helpers/start-router.js';
import { startCallbackReceiver } from '../helpers/callback-receiver.js';
import { SCRIPTED_FN, fnStats, postAsync, startHttpFunction, startWorkerProcess, waitForCall } from '../helpers/async-calls.js';

t.test('3 s call, ack_wait 1 s, two workers: one invocation, one callback', async (t) => {
  const fn = await startHttpFunction(t, SCRIPTED_FN);
  const receiver = await startCallbackReceiver(t);
  const queue = `sqlite:${join(t.testdir(), 'q.db')}`;
  const settings = { functions: `fn=${fn.wd.url}`, queue, ack_wait: '1s' };
  const router = await startRouter(t, settings);
  // A second, idle worker on the same file: it would take the call the moment a lease lapsed.
  await startWorkerProcess(t, settings);

  const posted = await postAsync(router.url, 'fn/sleep?ms=3000', { headers: { 'X-Callback-Url': receiver.url, 'X-Call-Id': 'long-1' } });
  t.equal(posted.status, 202);
  const cb = await receiver.waitFor((c) => c.headers['x-call-id'] === 'long-1', 15_000, 'the callback');
  t.equal(cb.headers['x-function-status'], '200');
  t.equal(cb.body.toString(), 'slept 1', 'the first (and only) invocation answered');
  t.ok(Number(cb.headers['x-duration-seconds']) >= 2.9, `ran ~3 s (${cb.headers['x-duration-seconds']})`);
  // Two more ack_wait periods: a lapsed lease would have been redelivered by now.
  await new Promise((r) => setTimeout(r, 2_200));
  const rec = await waitForCall(router.url, 'long-1', (c) => c.callback.state === 'delivered', 5_000, 'the record');
  t.equal(rec.attempts.length, 1, 'one attempt in the record');
  t.equal(rec.status, 'succeeded');
  t.equal((await fnStats(fn.direct))['long-1']?.length, 1, 'the function ran once');
  t.equal(receiver.forCall('long-1').length, 1, 'one callback');
});

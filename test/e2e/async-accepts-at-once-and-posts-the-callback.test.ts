// POST /async-function/echo with X-Callback-Url answers 202 with X-Call-Id before the
// function runs (the function is blocked on a file the test creates only after the 202); the callback
// carries the function's body and the contract headers, signed with callback_secret.
import t from 'tap';
import { createHmac } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRouter, startWatchdog } from '../helpers/start-router.js';
import { startCallbackReceiver } from '../helpers/callback-receiver.js';
import { getCall, postAsync, waitForCall } from '../helpers/async-calls.js';

t.test('202 first, then the callback with the function\'s answer', async (t) => {
  const dir = t.testdir();
  const gate = join(dir, 'gate');
  const started = join(dir, 'started');
  // Records that it started, waits for the gate, then echoes stdin.
  const wd = await startWatchdog(t, {
    fprocess: `sh -c 'touch "$STARTED"; while [ ! -e "$GATE" ]; do sleep 0.02; done; printf "echo:"; cat'`,
    GATE: gate, STARTED: started, content_type: 'text/plain',
  });
  const receiver = await startCallbackReceiver(t);
  const router = await startRouter(t, { functions: `echo=${wd.url}`, queue: `sqlite:${join(dir, 'q.db')}`, callback_secret: 's3cret' });

  const posted = await postAsync(router.url, 'echo', { headers: { 'X-Callback-Url': `${receiver.url}/done?x=1` }, body: 'hello async' });
  t.equal(posted.status, 202, '202 Accepted');
  t.match(posted.callId, /^[0-9a-f-]{36}$/, 'X-Call-Id is a UUID');
  t.same(JSON.parse(posted.body), { callId: posted.callId }, 'body names the call id');
  t.notOk(existsSync(gate), 'the gate was still closed when the 202 came');
  t.equal(receiver.received.length, 0, 'no callback before the function could finish');

  // The function really is waiting (started, not finished) while the call is recorded as running.
  const running = await waitForCall(router.url, posted.callId, (c) => c.status === 'running' && existsSync(started), 10_000, 'the call to be running');
  t.equal(running.attempts.length, 1);
  writeFileSync(gate, '');

  const cb = await receiver.waitFor((c) => c.headers['x-call-id'] === posted.callId, 15_000, 'the callback');
  t.equal(cb.path, '/done?x=1', 'posted to the callback URL with its query');
  t.equal(cb.body.toString(), 'echo:hello async', "the function's body");
  t.equal(cb.headers['x-function-status'], '200');
  t.equal(cb.headers['x-function-name'], 'echo');
  t.equal(cb.headers['x-call-status'], 'succeeded');
  t.equal(cb.headers['x-retry'], '0', 'first try');
  t.equal(cb.headers['x-retry-max'], '9', 'max_retry_attempts 10 = 9 retries');
  t.equal(cb.headers['content-type'], 'text/plain', "the function's own headers");
  t.match(cb.headers['x-duration-seconds'], /^\d+\.\d+$/);
  t.ok(Number(cb.headers['x-duration-seconds']) > 0, 'duration measured');
  const hmac = createHmac('sha256', 's3cret').update(cb.body).digest('hex');
  t.equal(cb.headers['x-callback-signature'], `sha256=${hmac}`, 'HMAC-SHA256 of the body with callback_secret');

  const record = await waitForCall(router.url, posted.callId, (c) => c.callback.state === 'delivered', 5_000, 'the callback outcome in the record');
  t.match(record, {
    status: 'succeeded', functionName: 'echo', method: 'POST', lastStatusCode: 200,
    result: { statusCode: 200, body: 'echo:hello async', encoding: 'utf8' },
    callback: { state: 'delivered', attempts: 1, lastStatusCode: 200 },
  });
  t.equal(receiver.received.length, 1, 'exactly one callback');
  t.ok(await getCall(router.url, posted.callId), 'the record stays after the call');
});

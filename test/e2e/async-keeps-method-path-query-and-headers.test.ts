// An async PUT to /async-function/echo/a/b?q=1 with a custom header reaches the function
// as PUT with Http_Path=/a/b, Http_Query=q=1, the header intact and the body on stdin.
import t from 'tap';
import { join } from 'node:path';
import { startRouter, startWatchdog } from '../helpers/start-router.js';
import { startCallbackReceiver } from '../helpers/callback-receiver.js';
import { postAsync } from '../helpers/async-calls.js';

t.test('method, path suffix, query, headers and body survive the queue', async (t) => {
  const wd = await startWatchdog(t, { fprocess: `sh -c 'env; printf "stdin="; cat'` });
  const receiver = await startCallbackReceiver(t);
  const router = await startRouter(t, { functions: `echo=${wd.url}`, queue: `sqlite:${join(t.testdir(), 'q.db')}` });
  for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
    const posted = await postAsync(router.url, 'echo/a/b?q=1&r=two', {
      method, body: `body of ${method}`,
      headers: {
        'X-Callback-Url': receiver.url, 'X-Custom-Header': 'kept "as is"', 'Content-Type': 'text/plain',
        'X-Forwarded-For': '10.0.0.9', 'X-Start-Time': '1',
      },
    });
    t.equal(posted.status, 202, `${method}: 202`);
    const cb = await receiver.waitFor((c) => c.headers['x-call-id'] === posted.callId, 15_000, `${method} callback`);
    const lines = new Set(cb.body.toString().split('\n'));
    for (const line of [`Http_Method=${method}`, 'Http_Path=/a/b', 'Http_Query=q=1&r=two', 'Http_X_Custom_Header=kept "as is"',
      `Http_X_Call_Id=${posted.callId}`, 'Http_Content_Type=text/plain', `Http_ContentLength=${`body of ${method}`.length}`,
      // The peer is appended as on the sync path, and the router's X-Start-Time replaces the client's.
      'Http_X_Forwarded_For=10.0.0.9, 127.0.0.1']) {
      t.ok(lines.has(line), `${method}: ${line}`);
    }
    t.match(cb.body.toString(), new RegExp(`stdin=body of ${method}$`), `${method}: body on stdin`);
    t.match(cb.body.toString(), /^Http_X_Start_Time=\d{19}$/m, `${method}: X-Start-Time is the router's`);
    t.equal(cb.headers['x-function-status'], '200');
  }
});

// GET and POST through the router reach a real watchdog with the path suffix,
// the raw query and the headers; the response carries X-Call-Id and the function's own headers.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { deadPort, startRouter, startWatchdog } from '../helpers/start-router.js';

const HTTP_FN = fileURLToPath(new URL('../router/fixtures/http-fn.mjs', import.meta.url));

t.test('serializing watchdog sees Http_Path, Http_Query and the headers', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'env' });
  const router = await startRouter(t, { functions: `echo=${wd.url}` });
  for (const method of ['GET', 'POST']) {
    const res = await request(`${router.url}/function/echo/some/path?x=1&y=2`, {
      method, headers: { 'X-Custom-Header': 'kept as is', 'Content-Type': 'text/plain' }, body: method === 'POST' ? 'payload' : undefined,
    });
    const env = await res.body.text();
    t.equal(res.statusCode, 200, method);
    t.match(res.headers['x-call-id'], /^[0-9a-f-]{36}$/, `${method}: X-Call-Id returned`);
    t.match(res.headers['x-duration-seconds'], /^\d/, `${method}: the watchdog's X-Duration-Seconds passes through`);
    t.equal(res.headers['content-type'], 'text/plain', `${method}: the function's content type`);
    const lines = new Set(env.split('\n'));
    for (const line of [`Http_Method=${method}`, 'Http_Path=/some/path', 'Http_Query=x=1&y=2', 'Http_X_Custom_Header=kept as is',
      `Http_X_Call_Id=${res.headers['x-call-id']}`, 'Http_X_Forwarded_For=127.0.0.1', `Http_X_Forwarded_Host=127.0.0.1:${router.port}`]) {
      t.ok(lines.has(line), `${method}: ${line}`);
    }
    if (method === 'POST') t.ok(lines.has('Http_ContentLength=7'), 'POST body length reaches the function');
  }
});

t.test('http-mode watchdog: method, path, query, body and the function\'s own headers round-trip', async (t) => {
  const fnPort = await deadPort();
  const wd = await startWatchdog(t, { mode: 'http', fprocess: `node ${HTTP_FN}`, upstream_url: `http://127.0.0.1:${fnPort}`, FN_PORT: String(fnPort) });
  const router = await startRouter(t, { functions: `api=${wd.url}` });
  const res = await request(`${router.url}/function/api/some/path?x=1&y=2`, {
    method: 'PUT', headers: { 'X-Call-Id': 'client-chosen', 'X-Custom-Header': 'v' }, body: 'hello',
  });
  const seen = await res.body.json() as { method: string; url: string; headers: Record<string, string>; body: string };
  t.equal(res.statusCode, 200);
  t.equal(res.headers['x-fn'], 'http-fn', "the function's own header");
  t.equal(res.headers['x-call-id'], 'client-chosen');
  t.match(seen, { method: 'PUT', url: '/some/path?x=1&y=2', body: 'hello', headers: { 'x-custom-header': 'v', 'x-call-id': 'client-chosen' } });
});

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { ExecTimeoutError, MethodNotAllowedError, OverloadedError, toResponse } from '../../watchdog/errors.js';

async function respondWith(t: Test, fn: (res: ServerResponse) => void) {
  const server = createServer((_, res) => fn(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  return request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
}

t.test('each error has a stable code and status', async (t) => {
  t.match(new ExecTimeoutError(1000), { code: 'WD_ERR_EXEC_TIMEOUT', status: 504, timeoutMs: 1000, name: 'ExecTimeoutError' });
  t.match(new OverloadedError(2), { code: 'WD_ERR_OVERLOADED', status: 429, maxInflight: 2 });
});

t.test('toResponse marks the response as the watchdog\'s own', async (t) => {
  const res = await respondWith(t, (r) => toResponse(r, new ExecTimeoutError(1500), performance.now()));
  t.equal(res.statusCode, 504);
  t.equal(res.headers['x-openfaas-internal'], 'watchdog');
  t.equal(res.headers['x-watchdog-error'], 'WD_ERR_EXEC_TIMEOUT');
  t.match(res.headers['x-duration-seconds'], /^\d+\.\d{6}$/);
  t.equal(await res.body.text(), 'function exceeded exec_timeout of 1500ms and was killed\n');
});

t.test('unknown errors become a generic 500; 405 carries Allow', async (t) => {
  const res = await respondWith(t, (r) => toResponse(r, new Error('secret detail')));
  t.equal(res.statusCode, 500);
  t.equal(await res.body.text(), 'internal error\n');
  const m = await respondWith(t, (r) => toResponse(r, new MethodNotAllowedError('GET, HEAD')));
  t.equal(m.statusCode, 405);
  t.equal(m.headers.allow, 'GET, HEAD');
  await m.body.dump();
});

t.test('after the head is sent, the connection is cut instead', async (t) => {
  const cut = respondWith(t, (r) => { r.writeHead(200); r.write('partial'); setTimeout(() => toResponse(r, new ExecTimeoutError(1)), 50); });
  await t.rejects(cut.then((res) => res.body.text()), 'the client sees a broken response, never a clean end');
});

// HTTP conformance of the router's front: a request head over the limit is 431, an
// absolute-form target (RFC 9112 §3.2.2) is routed like its origin form, CONNECT gets a 405 answer
// instead of a closed socket, and unreserved characters written as percent-encodings in a function
// name (/function/%65cho) name the same function.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../common/log.js';
import { RouterServer } from '../../router/server.js';
import { createStaticResolver } from '../../router/resolver.js';
import { raw } from '../helpers/raw-http.js';

const quiet = createLogger({ write: () => {} });

async function setup(t: { teardown(fn: () => unknown): void }): Promise<number> {
  const up = createServer((req, res) => res.end(`echo ${req.method} ${req.url}`));
  await new Promise<void>((resolve) => up.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => { up.closeAllConnections(); up.close(resolve); }));
  const r = new RouterServer({
    readTimeoutMs: 5_000, writeTimeoutMs: 10_000, upstreamTimeoutMs: 5_000, basicAuth: false, secretMountPath: '/nonexistent', functionNamespace: '',
  }, { resolver: createStaticResolver([['echo', new URL(`http://127.0.0.1:${(up.address() as AddressInfo).port}`)]]), log: quiet });
  const { port } = await r.listen(0, '127.0.0.1');
  t.teardown(() => r.close());
  return port;
}

t.test('a request head over 16 KiB is 431', async (t) => {
  const port = await setup(t);
  const answer = await raw(port, `GET /function/echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  t.match(answer, /^HTTP\/1\.1 431 /, `expected 431, got ${JSON.stringify(answer.slice(0, 40))}`);
  t.match(answer, /X-OpenFaaS-Internal: router/i);
});

t.test('an absolute-form target is routed by its path', async (t) => {
  const port = await setup(t);
  const answer = await raw(port, 'GET http://example.com/function/echo/p?q=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
  t.match(answer, /^HTTP\/1\.1 200 /, `expected 200, got ${JSON.stringify(answer.slice(0, 40))}`);
  t.match(answer, /echo GET \/p\?q=1$/);
  const health = await raw(port, 'GET HTTP://EXAMPLE.COM:8080/healthz HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
  t.match(health, /^HTTP\/1\.1 200 /);
  const dots = await raw(port, 'GET http://example.com/function/../system/functions HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
  t.match(dots, /^HTTP\/1\.1 400 /, 'dot segments are refused in absolute form too');
});

t.test('CONNECT is answered 405 with Allow', async (t) => {
  const port = await setup(t);
  const answer = await raw(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  t.match(answer, /^HTTP\/1\.1 405 /, `expected 405, got ${JSON.stringify(answer.slice(0, 40))}`);
  t.match(answer, /\r\nAllow: [A-Z, ]+\r\n/);
  t.match(answer, /X-Router-Error: ROUTER_ERR_METHOD_NOT_ALLOWED/);
});

t.test('percent-encoded unreserved characters in a name are the same name', async (t) => {
  const port = await setup(t);
  const answer = await raw(port, 'GET /function/%65cho/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.match(answer, /^HTTP\/1\.1 200 /, `expected 200, got ${JSON.stringify(answer.slice(0, 60))}`);
  t.match(answer, /echo GET \/x$/);
  const bad = await raw(port, 'GET /function/a%20b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.match(bad, /^HTTP\/1\.1 400 /, 'a decoded name outside the pattern is still invalid');
  t.match(bad, /ROUTER_ERR_BAD_NAME/);
});

// Unknown function, bad callback URL (or a host outside callback_allow), a bad
// X-Call-Id, an oversized body (announced or streamed) and GET/HEAD each get their status, and nothing
// is queued: the depth stays 0 and /system/calls stays empty.
import t from 'tap';
import { connect } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { startRouter, startUpstream } from '../helpers/start-router.js';
import { postAsync } from '../helpers/async-calls.js';

t.test('refusals before the queue', async (t) => {
  const fn = await startUpstream(t, (_req, res) => res.end('ran'));
  const router = await startRouter(t, {
    functions: `echo=${fn.url}`, queue: `sqlite:${join(t.testdir(), 'q.db')}`,
    max_async_body: '1KiB', callback_allow: 'hooks.example.com,*.example.org,127.0.0.0/8,::1',
  });
  const cases: Array<[string, Parameters<typeof postAsync>[2] & { path?: string }, number, string]> = [
    ['unknown function', { path: 'nope' }, 404, 'ROUTER_ERR_FUNCTION_NOT_FOUND'],
    ['relative callback URL', { headers: { 'X-Callback-Url': '/relative' } }, 400, 'ROUTER_ERR_BAD_CALLBACK_URL'],
    ['ftp callback URL', { headers: { 'X-Callback-Url': 'ftp://127.0.0.1/x' } }, 400, 'ROUTER_ERR_BAD_CALLBACK_URL'],
    ['garbage callback URL', { headers: { 'X-Callback-Url': 'http://' } }, 400, 'ROUTER_ERR_BAD_CALLBACK_URL'],
    ['callback host outside callback_allow', { headers: { 'X-Callback-Url': 'http://evil.example.net/hook' } }, 400, 'ROUTER_ERR_CALLBACK_NOT_ALLOWED'],
    ['callback IP outside the CIDR', { headers: { 'X-Callback-Url': 'http://10.1.2.3/hook' } }, 400, 'ROUTER_ERR_CALLBACK_NOT_ALLOWED'],
    ['suffix rule does not match the bare domain', { headers: { 'X-Callback-Url': 'http://example.org/hook' } }, 400, 'ROUTER_ERR_CALLBACK_NOT_ALLOWED'],
    ['X-Callback-Url sent twice (one allowed, one not: which is meant?)', { headers: { 'X-Callback-Url': ['http://127.0.0.1:9/a', 'http://169.254.169.254/'] } }, 400, 'ROUTER_ERR_BAD_CALLBACK_URL'],
    ['bad X-Call-Id', { headers: { 'X-Call-Id': 'has spaces and / slashes' } }, 400, 'ROUTER_ERR_BAD_CALL_ID'],
    ['X-Call-Id too long', { headers: { 'X-Call-Id': 'x'.repeat(129) } }, 400, 'ROUTER_ERR_BAD_CALL_ID'],
    ['body over max_async_body (Content-Length)', { body: 'x'.repeat(1025) }, 413, 'ROUTER_ERR_BODY_TOO_LARGE'],
    ['GET', { method: 'GET', body: '' }, 405, 'ROUTER_ERR_METHOD_NOT_ALLOWED'],
    ['OPTIONS', { method: 'OPTIONS', body: '' }, 405, 'ROUTER_ERR_METHOD_NOT_ALLOWED'],
  ];
  for (const [what, opts, status, code] of cases) {
    const res = await postAsync(router.url, opts.path ?? 'echo', opts);
    t.equal(res.status, status, `${what}: ${status}`);
    t.equal(res.headers['x-router-error'], code, `${what}: ${code}`);
    t.equal(res.headers['x-openfaas-internal'], 'router', `${what}: marked as the router's own answer`);
    if (status === 405) t.equal(res.headers['allow'], 'POST, PUT, PATCH, DELETE', `${what}: Allow lists the async methods`);
  }
  const head = await request(`${router.url}/async-function/echo`, { method: 'HEAD' });
  await head.body.dump();
  t.equal(head.statusCode, 405, 'HEAD: 405');

  // A chunked body with no Content-Length is counted while it streams; past the limit the router throws away
  // what follows (bounded) before its 413, so closing the connection does not reset it under the client.
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(router.port, '127.0.0.1', () => {
      socket.write('POST /async-function/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let i = 0; i < 8; i++) socket.write(`100\r\n${'y'.repeat(256)}\r\n`);
    });
    let data = '';
    // Writing the rest after the router closed gives EPIPE or ECONNRESET: expected, the answer is in `data`.
    const onError = (err: NodeJS.ErrnoException): void => { if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err); };
    socket.setEncoding('utf8').on('data', (c: string) => { data += c; }).on('error', onError).on('close', () => resolve(data));
  });
  t.match(raw, /^HTTP\/1\.1 413 /, 'streamed oversize: 413');
  t.match(raw, /\r\nconnection: close\r\n/i, 'streamed oversize: Connection: close, the connection ends');

  // Allowed callback hosts pass (and are the only thing queued here, by an id we can check).
  for (const [url, id] of [['http://hooks.example.com/x', 'allowed-1'], ['http://a.b.example.org/x', 'allowed-2'], ['http://127.0.0.9:1/x', 'allowed-3'], ['http://[::1]:1/x', 'allowed-4']] as const) {
    t.equal((await postAsync(router.url, 'echo', { headers: { 'X-Callback-Url': url, 'X-Call-Id': id } })).status, 202, `${url} is allowed`);
  }
  const calls = await (await request(`${router.url}/system/calls`)).body.json() as Array<{ id: string }>;
  t.same(calls.map((c) => c.id).sort(), ['allowed-1', 'allowed-2', 'allowed-3', 'allowed-4'], 'none of the refused requests was queued');
  const metrics = await (await request(`${router.url}/metrics`)).body.text();
  t.notMatch(metrics, /queue_depth\{[^}]*function_name="nope"/, 'no depth for the unknown function');
  t.notMatch(metrics, /gateway_function_invocation_total\{function_name="nope"/, 'refusals are not counted as invocations');
});

t.test('nothing queued at all: depth 0', async (t) => {
  const fn = await startUpstream(t, (_req, res) => res.end('ran'));
  const router = await startRouter(t, { functions: `echo=${fn.url}`, queue: `sqlite:${join(t.testdir(), 'q.db')}`, max_async_body: '10' });
  t.equal((await postAsync(router.url, 'missing')).status, 404);
  t.equal((await postAsync(router.url, 'echo', { headers: { 'X-Callback-Url': 'mailto:x@y' } })).status, 400);
  t.equal((await postAsync(router.url, 'echo', { body: 'eleven byte' })).status, 413);
  t.equal((await postAsync(router.url, 'echo', { method: 'GET', body: '' })).status, 405);
  const metrics = await (await request(`${router.url}/metrics`)).body.text();
  t.notMatch(metrics, /^queue_depth\{/m, 'queue_depth has no series: nothing was ever queued');
  t.same(await (await request(`${router.url}/system/calls`)).body.json(), [], '/system/calls is empty');
  t.equal(fn.requests.length, 0, 'the function was never called');
});

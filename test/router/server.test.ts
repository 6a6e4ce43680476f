// RouterServer in-process against node:http upstreams: headers, errors, system API, hooks.
import t from 'tap';
import { request } from 'undici';
import { createLogger } from '../../common/log.js';
import { RouterServer, type RouterServerDeps } from '../../router/server.js';
import { createStaticResolver, type FunctionResolver } from '../../router/resolver.js';
import { deadPort, startUpstream } from '../helpers/start-router.js';

const quiet = createLogger({ write: () => {} });
const base = { readTimeoutMs: 10_000, writeTimeoutMs: 10_000, upstreamTimeoutMs: 5_000, basicAuth: false, secretMountPath: '/nonexistent', functionNamespace: 'openfaas-fn' };

async function router(t: { teardown(fn: () => unknown): void }, fns: Record<string, string>, config: Partial<typeof base> = {}, deps: Partial<RouterServerDeps> = {}) {
  const resolver: FunctionResolver = createStaticResolver(Object.entries(fns).map(([k, v]) => [k, new URL(v)] as const));
  const r = new RouterServer({ ...base, ...config }, { resolver, log: quiet, ...deps });
  const { url } = await r.listen(0, '127.0.0.1');
  t.teardown(() => r.close());
  return { r, url };
}

t.test('request and response cross the hop with the router headers', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c) => { body += c; }).on('end', () => {
      res.writeHead(201, { 'X-Fn': 'yes', 'Content-Type': 'application/json', Connection: 'keep-alive', 'Keep-Alive': 'timeout=99', 'Proxy-Authenticate': 'x' });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
    });
  });
  const { url } = await router(t, { echo: `${up.url}/base/` });
  const res = await request(`${url}/function/echo/some/path?x=1&y=2`, {
    method: 'POST', body: 'hello', headers: { 'X-Custom': 'v', 'Content-Type': 'text/plain', 'Proxy-Authorization': 'secret' },
  });
  const seen = await res.body.json() as { method: string; url: string; headers: Record<string, string>; body: string };
  t.equal(res.statusCode, 201);
  t.equal(res.headers['x-fn'], 'yes');
  t.match(res.headers['x-call-id'], /^[0-9a-f-]{36}$/);
  t.match(res.headers['x-start-time'], /^\d{19}$/);
  const startedMs = Number(BigInt(String(res.headers['x-start-time'])) / 1_000_000n);
  t.ok(Math.abs(startedMs - Date.now()) < 5_000, `X-Start-Time is the Unix time in nanoseconds (${startedMs} ms against ${Date.now()})`);
  t.match(res.headers['x-duration-seconds'], /^\d+\.\d+$/);
  t.not(res.headers['keep-alive'], 'timeout=99', 'the function hop-by-hop header is dropped (Node sets its own)');
  t.equal(res.headers['proxy-authenticate'], undefined);
  t.same({ method: seen.method, url: seen.url, body: seen.body }, { method: 'POST', url: '/base/some/path?x=1&y=2', body: 'hello' });
  t.equal(seen.headers['x-custom'], 'v');
  t.equal(seen.headers['content-type'], 'text/plain');
  t.equal(seen.headers['content-length'], '5');
  t.equal(seen.headers['x-call-id'], res.headers['x-call-id']);
  t.equal(seen.headers['x-start-time'], res.headers['x-start-time']);
  t.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  t.equal(seen.headers['x-forwarded-host'], new URL(url).host);
  t.equal(seen.headers['x-forwarded-proto'], 'http');
  t.equal(seen.headers['proxy-authorization'], undefined);
  t.equal(seen.headers['host'], new URL(up.url).host);

  // A client's own X-Start-Time and X-Forwarded-For must not reach the function as if the router said so.
  const again = await request(`${url}/function/echo`, { headers: { 'X-Call-Id': 'mine', 'X-Forwarded-For': '10.0.0.9', 'X-Start-Time': '1' } });
  const seen2 = await again.body.json() as { url: string; headers: Record<string, string> };
  t.equal(again.headers['x-call-id'], 'mine');
  t.equal(seen2.headers['x-call-id'], 'mine');
  t.equal(seen2.headers['x-forwarded-for'], '10.0.0.9, 127.0.0.1', 'the peer is appended to the client\'s list');
  t.match(seen2.headers['x-start-time'], /^\d{19}$/, 'the router sets X-Start-Time, whatever the client sent');
  t.equal(again.headers['x-start-time'], seen2.headers['x-start-time']);
  t.equal(seen2.url, '/base');
  t.equal(seen2.headers['transfer-encoding'], undefined, 'a GET without body sends none');
});

t.test('trailers from the function reach the client', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { Trailer: 'X-Exit-Code' });
    res.write('partial');
    res.addTrailers({ 'X-Exit-Code': '3' });
    res.end();
  });
  const { url } = await router(t, { s: up.url });
  const res = await request(`${url}/function/s`);
  t.equal(await res.body.text(), 'partial');
  t.same(res.trailers, { 'x-exit-code': '3' });
});

t.test('errors: unknown 404, refused 502, slow 504, all marked internal', async (t) => {
  const port = await deadPort();
  // upstream_timeout is long enough that a refused or reset connection is told apart from it on a loaded
  // host (at 300 ms a refusal that took longer under load 10 once answered 504), short enough to wait out.
  const slow = await startUpstream(t, (_req, res) => { setTimeout(() => res.end('late'), 10_000).unref(); });
  const reset = await startUpstream(t, (req) => { req.socket.destroy(); });
  const { url } = await router(t, { dead: `http://127.0.0.1:${port}`, slow: slow.url, reset: reset.url }, { upstreamTimeoutMs: 1500 });
  const cases: Array<[string, number, string, RegExp]> = [
    ['/function/missing', 404, 'ROUTER_ERR_FUNCTION_NOT_FOUND', /function not found: missing/],
    ['/function/dead', 502, 'ROUTER_ERR_UPSTREAM_UNREACHABLE', /connection refused/],
    ['/function/reset', 502, 'ROUTER_ERR_UPSTREAM_UNREACHABLE', /unreachable/],
    ['/function/slow', 504, 'ROUTER_ERR_UPSTREAM_TIMEOUT', /1500ms/],
    ['/function/a%20b', 400, 'ROUTER_ERR_BAD_NAME', /invalid function name "a b"/],
  ];
  for (const [path, status, code, text] of cases) {
    const started = performance.now();
    const res = await request(`${url}${path}`, { method: 'POST', body: 'x' });
    t.equal(res.statusCode, status, path);
    t.equal(res.headers['x-openfaas-internal'], 'router', path);
    t.equal(res.headers['x-router-error'], code, path);
    t.match(await res.body.text(), text, path);
    if (status === 504) t.ok(performance.now() - started < 5000, 'timeout answered promptly');
    if (status >= 502) t.ok(res.headers['x-call-id'], 'call id on upstream errors');
  }
  t.equal(slow.requests.length, 1);
});

t.test('system API, healthz, metrics, methods', async (t) => {
  const up = await startUpstream(t, (_req, res) => res.end('ok'));
  const { url } = await router(t, { echo: up.url, other: up.url });
  for (let i = 0; i < 3; i++) await (await request(`${url}/function/echo`)).body.text();
  const list = await request(`${url}/system/functions`);
  const fns = await list.body.json() as Array<Record<string, unknown>>;
  t.match(fns, [{ name: 'echo', upstream: `${up.url}/`, health: 'healthy', invocationCount: 3, invocationsByCode: { 200: 3 } }, { name: 'other', health: 'unknown', invocationCount: 0 }]);
  const one = await request(`${url}/system/function/echo`);
  t.match(await one.body.json(), { name: 'echo', lastStatus: 200 });
  const missing = await request(`${url}/system/function/nope`);
  t.equal(missing.statusCode, 404); await missing.body.dump();
  const post = await request(`${url}/system/functions`, { method: 'POST', body: '{}' });
  t.equal(post.statusCode, 501, 'a deploy is a 501 saying what to do instead, not a 405');
  t.match(await post.body.text(), /does not deploy functions through the API.*stack file/);
  const postInfo = await request(`${url}/system/info`, { method: 'POST', body: '{}' });
  t.equal(postInfo.statusCode, 405); t.equal(postInfo.headers['allow'], 'GET, HEAD'); await postInfo.body.dump();
  const other = await request(`${url}/system/calls`);
  t.equal(other.statusCode, 404); await other.body.dump();
  const health = await request(`${url}/healthz`);
  t.same(await health.body.json(), { status: 'ok' });
  const metrics = await (await request(`${url}/metrics`)).body.text();
  t.match(metrics, /gateway_function_invocation_total\{function_name="echo",code="200"\} 3/);
  t.match(metrics, /gateway_function_invocation_started\{function_name="echo"\} 3/);
  t.match(metrics, /gateway_functions_seconds_count\{function_name="echo",code="200"\} 3/);
  const asyncRes = await request(`${url}/async-function/echo`, { method: 'POST', body: 'x' });
  t.equal(asyncRes.statusCode, 503);
  t.equal(asyncRes.headers['x-router-error'], 'ROUTER_ERR_ASYNC_DISABLED'); await asyncRes.body.dump();
});

t.test('async and system hooks are mounted when given', async (t) => {
  let healthy = true;
  const { url } = await router(t, {}, {}, {
    async: {
      async handle(_req, res, match) { res.writeHead(202, { 'X-Name': match.name }); res.end(match.path); },
      async healthy() { return healthy; },
    },
    systemRoutes: {
      async handle(_req, res, path) { if (path !== '/calls') return false; res.end('calls'); return true; },
    },
  });
  const a = await request(`${url}/async-function/echo/p`, { method: 'POST', body: 'x' });
  t.equal(a.statusCode, 202); t.equal(a.headers['x-name'], 'echo'); t.equal(await a.body.text(), '/p');
  t.equal(await (await request(`${url}/system/calls`)).body.text(), 'calls');
  healthy = false;
  const h = await request(`${url}/healthz`);
  t.equal(h.statusCode, 503); t.same(await h.body.json(), { status: 'unhealthy', queue: false });
});

t.test('basic_auth guards /system only', async (t) => {
  const dir = t.testdir({ 'basic-auth-user': 'admin', 'basic-auth-password': 'pw' });
  const up = await startUpstream(t, (_req, res) => res.end('ok'));
  const { url } = await router(t, { echo: up.url }, { basicAuth: true, secretMountPath: dir });
  const none = await request(`${url}/system/functions`);
  t.equal(none.statusCode, 401); t.equal(none.headers['www-authenticate'], 'Basic realm="Restricted"'); await none.body.dump();
  const auth = (s: string) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });
  const wrong = await request(`${url}/system/functions`, { headers: auth('admin:nope') });
  t.equal(wrong.statusCode, 401); await wrong.body.dump();
  const right = await request(`${url}/system/functions`, { headers: auth('admin:pw') });
  t.equal(right.statusCode, 200); await right.body.dump();
  const fn = await request(`${url}/function/echo`);
  t.equal(fn.statusCode, 200); t.equal(await fn.body.text(), 'ok');
});

t.test('a client that leaves aborts the upstream call', async (t) => {
  let closed!: () => void;
  const upstreamClosed = new Promise<void>((r) => { closed = r; });
  const up = await startUpstream(t, (req, res) => { res.writeHead(200); res.write('x'); req.socket.once('close', closed); });
  const { url, r } = await router(t, { hang: up.url });
  const ac = new AbortController();
  const res = await request(`${url}/function/hang`, { signal: ac.signal });
  ac.abort();
  await t.rejects(res.body.text());
  await upstreamClosed;
  t.pass('upstream socket closed after the client left');
  await new Promise((res2) => setImmediate(res2));
  t.equal(r.stats.get('hang')?.inflight, 0);
});

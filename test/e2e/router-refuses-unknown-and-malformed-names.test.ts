// An unknown function is a 404; names and paths that could mean something else
// (encoded slashes, dot segments, spaces) are refused with a reason and never reach an upstream.
import t from 'tap';
import { request } from 'undici';
import { rawGet, startRouter, startUpstream, startWatchdog } from '../helpers/start-router.js';

t.test('unknown function: 404 with a reason', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'env' });
  const router = await startRouter(t, { functions: `echo=${wd.url}` });
  const res = await request(`${router.url}/function/nope`, { method: 'POST', body: 'x' });
  t.equal(res.statusCode, 404);
  t.equal(res.headers['x-openfaas-internal'], 'router');
  t.equal(res.headers['x-router-error'], 'ROUTER_ERR_FUNCTION_NOT_FOUND');
  t.equal(await res.body.text(), 'function not found: nope (GET /system/functions lists the functions this router knows)\n');
});

t.test('malformed names never reach an upstream', async (t) => {
  // With a template every well-formed name resolves, so only the router's checks stand between
  // these targets and the upstream, which counts what it gets.
  const up = await startUpstream(t, (_req, res) => res.end('reached'));
  const router = await startRouter(t, { function_url_template: `${up.url}/{name}` });
  const cases: Array<[string, number, RegExp]> = [
    ['/function/..%2f..', 400, /encoded slashes/],
    ['/function/..%2F..%2Fsystem', 400, /encoded slashes/],
    ['/function/a%20b', 400, /invalid function name "a b"/],
    ['/function/a b', 400, /malformed request/],
    ['/function/a/b/../c', 400, /dot segments/],
    ['/function/a/%2e%2e/c', 400, /dot segments/],
    ['/function/../system/functions', 400, /dot segments/],
    ['/function/a\\b', 400, /backslash/],
    ['/function/', 404, /no route/],
  ];
  for (const [target, status, reason] of cases) {
    const res = await rawGet(router.port, target);
    t.equal(res.status, status, `${target} → ${status}`);
    t.match(res.head, /X-OpenFaaS-Internal: router/i, `${target} marked as the router's`);
    t.match(res.body, reason, `${target}: reason given`);
  }
  t.equal(up.requests.length, 0, 'the upstream saw none of them');
  const ok = await rawGet(router.port, '/function/fine/x');
  t.equal(ok.status, 200, 'a good name still goes through');
  t.equal(ok.body, 'reached');
  t.equal(up.requests[0]?.url, '/fine/x');
});

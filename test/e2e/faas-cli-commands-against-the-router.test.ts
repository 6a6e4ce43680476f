// Each faas-cli command's requests (faas-cli-client.ts: the exact paths, methods, headers and bodies it
// sends, decoded with the Go types it decodes into) against a real router in front of a real watchdog.
import t from 'tap';
import { join } from 'node:path';
import { request } from 'undici';
import { startCallbackReceiver } from '../helpers/callback-receiver.js';
import { deadPort, startRouter, startWatchdog } from '../helpers/start-router.js';
import * as faas from './faas-cli-client.js';

t.test('list, describe, ready, invoke, namespaces, version: what faas-cli decodes and prints', async (t) => {
  const dir = t.testdir({});
  // fprocess env: the function answers with the CGI environment, so method, query and headers are visible.
  const wd = await startWatchdog(t, { fprocess: 'env' });
  const down = await deadPort();
  const router = await startRouter(t, { functions: `echo=${wd.url},gone=http://127.0.0.1:${down}`, queue: `sqlite:${join(dir, 'q.db')}` });
  const g = router.url;

  const warm = await faas.invoke(g, 'echo', 'hi');
  t.equal(warm.exit, 0, 'faas-cli invoke echo: /function/echo.openfaas-fn resolves');

  const ls = await faas.list(g);
  t.equal(ls.answer.status, 200, 'list with the empty `Authorization: Bearer ` faas-cli sends when not logged in');
  t.same(ls.functions?.map((f) => [f.name, f.replicas, f.availableReplicas, f.namespace]), [['echo', 1, 1, 'openfaas-fn'], ['gone', 1, 0, 'openfaas-fn']],
    'replicas 1; availableReplicas 1 for the healthy function, 0 for the one nobody listens for');
  t.equal(ls.functions?.[0]?.invocationCount, 1, 'invocationCount counts the call');
  const raw = JSON.parse(ls.answer.text) as Array<Record<string, unknown>>;
  t.notOk('createdAt' in raw[0]!, 'no createdAt rather than an empty string for a static function');
  t.equal(raw[0]!['upstream'], `${wd.url}/`, "whippet's own fields stay");

  const d = await faas.describe(g, 'echo');
  t.equal(d.fn?.availableReplicas, 1, 'describe: Ready (availableReplicas > 0), which is also `faas-cli ready echo`');
  t.equal(d.fn?.name, 'echo');
  t.equal((await faas.describe(g, 'echo', { ns: 'openfaas-fn' })).fn?.name, 'echo', 'describe -n openfaas-fn');
  t.equal((await faas.describe(g, 'gone')).fn?.availableReplicas, 0, 'ready gone keeps waiting: Not Ready');
  const missing = await faas.describe(g, 'nope');
  t.equal(missing.answer.status, 404);
  t.equal(missing.error, 'No such function: nope');
  const foreign = await faas.describe(g, 'echo', { ns: 'dev' });
  t.equal(foreign.answer.status, 404, 'describe -n dev: not this router\'s namespace');
  t.match(foreign.answer.text, /echo.*namespace dev.*serves namespace openfaas-fn/);
  const lsForeign = await faas.list(g, { ns: 'dev' });
  t.match(lsForeign.error, /^Server returned unexpected status code: 404 - namespace dev is not served by this router; it serves namespace openfaas-fn only/);

  // `faas-cli ready` without a name: GET <scheme://host>/healthz, no auth, Go's default UA, wants 200.
  const healthz = await request(`${g}/healthz`, { headers: { 'user-agent': 'Go-http-client/1.1' } });
  t.equal(healthz.statusCode, 200, 'faas-cli ready (the gateway)'); await healthz.body.dump();

  const ns = await faas.namespaces(g);
  t.same(ns.names, ['openfaas-fn'], 'namespace list');

  const v = await faas.version(g);
  t.equal(v.answer.status, 200);
  t.match(v.printed, /^Gateway\n uri: {5}http:\/\/127\.0\.0\.1:\d+\n version: \d+\.\d+\.\d+\n sha: {5}\n\nProvider\n name: {10}whippet\n orchestration: functions\n version: {7}\d+\.\d+\.\d+/);

  const sync = await faas.invoke(g, 'echo', 'body', {
    headers: [['X-Foo', 'bar'], ['X-Foo', 'baz']], query: { b: '2', a: '1 x' }, method: 'PUT',
  });
  t.equal(sync.exit, 0);
  t.match(sync.stdout, /Http_Method=PUT/, '--method PUT reaches the function');
  t.match(sync.stdout, /Http_Query=a=1%20x&b=2/, '--query in faas-cli\'s order and encoding');
  t.match(sync.stdout, /Http_X_Foo=bar, ?baz|Http_X_Foo=bar,baz/, 'repeated -H reach the function');
  t.match(sync.stdout, /Http_Content_Type=text\/plain/, 'the default --content-type');
  t.match(sync.stdout, /Http_User_Agent=faas-cli\/dev \(openfaas; linux; amd64\)/);
  const get = await faas.invoke(g, 'echo', '', { method: 'GET', query: { q: 'v' } });
  t.match(get.stdout, /Http_Method=GET/);

  const bad = await faas.invoke(g, 'echo', 'x', { ns: 'dev' });
  t.equal(bad.exit, 1);
  t.match(bad.stdout, /^Server returned unexpected status code: 404 - function echo is asked for in namespace dev, but this router serves namespace openfaas-fn only/);
  const unknown = await faas.invoke(g, 'nope', 'x');
  t.equal(unknown.stdout, 'Server returned unexpected status code: 404 - function not found: nope (GET /system/functions lists the functions this router knows)\n\n');

  const receiver = await startCallbackReceiver(t);
  const queued = await faas.invoke(g, 'echo', 'later', { async: true, headers: [['X-Callback-Url', `${receiver.url}/done`], ['X-Foo', 'async']] });
  t.equal(queued.answer.status, 202);
  t.equal(queued.stderr, 'Function submitted asynchronously.\n');
  t.equal(queued.stdout, '');
  const cb = await receiver.waitFor((c) => c.path === '/done', 15_000, 'the callback of the async invoke');
  const cbBody = cb.body.toString();
  t.match(cbBody, /Http_X_Foo=async/, 'the -H header reached the function through the queue');
  t.match(cbBody, /Http_Path=|Http_Method=POST/);
  const asyncForeign = await faas.invoke(g, 'echo', 'x', { async: true, ns: 'dev' });
  t.equal(asyncForeign.answer.status, 404, 'async into another namespace: 404 too, nothing queued');
});

t.test('writes answer 501 with what whippet does instead; faas-cli prints the body', async (t) => {
  const router = await startRouter(t, { functions: 'echo=http://127.0.0.1:9', async_worker: 'false', queue: `sqlite:${join(t.testdir({}), 'q.db')}` });
  const send = async (method: string, path: string, body?: string): Promise<{ status: number; text: string; code: unknown }> => {
    const res = await request(`${router.url}${path}`, {
      method: method as 'PUT', body, headers: { 'user-agent': faas.PROXY_UA, authorization: 'Bearer ', 'content-type': 'application/json' },
    });
    return { status: res.statusCode, text: await res.body.text(), code: res.headers['x-router-error'] };
  };
  const deploy = JSON.stringify({ service: 'echo', image: 'echo:latest', envProcess: 'cat' });
  for (const [method, path, body, pattern] of [
    ['PUT', '/system/functions', deploy, /^whippet does not deploy functions through the API \(PUT \/system\/functions\): functions come from the stack file \(`whippet up`\) or the router's `functions` \/ `function_url_template` settings\n$/],
    ['POST', '/system/functions', deploy, /^whippet does not deploy functions through the API \(POST/],
    ['DELETE', '/system/functions', JSON.stringify({ functionName: 'echo' }), /^whippet does not remove functions through the API: .*take it out there and restart\n$/],
    ['POST', '/system/scale-function/echo', JSON.stringify({ serviceName: 'echo', replicas: 2 }), /^whippet does not scale functions: .*docker compose --scale, kubectl scale/],
    ['GET', '/system/secrets', undefined, /^whippet has no secrets API: /],
    ['POST', '/system/secrets', JSON.stringify({ name: 's', value: 'v' }), /^whippet has no secrets API: /],
    ['POST', '/system/namespace/', JSON.stringify({ name: 'x' }), /^whippet serves one namespace and cannot create or change namespaces/],
  ] as const) {
    const answer = await send(method, path, body);
    t.equal(answer.status, 501, `${method} ${path}: 501, never 405`);
    t.equal(answer.code, 'ROUTER_ERR_NOT_IMPLEMENTED');
    t.match(answer.text, pattern, `${method} ${path}: one line saying what to do instead`);
    t.equal(answer.text.trim().split('\n').length, 1, 'one line');
  }
  const logs = await request(faas.logsUrl(router.url, 'echo'), { headers: { authorization: 'Bearer ' } });
  t.equal(logs.statusCode, 501, 'a router that is not `whippet up` keeps no logs');
  t.match(await logs.body.text(), /^this router keeps no function logs \(only `whippet up` does\): read the watchdog's own output instead/);
  const unknownLogs = await request(faas.logsUrl(router.url, 'nope'));
  t.equal(unknownLogs.statusCode, 404, 'logs of an unknown function: 404 first');
  t.equal(await unknownLogs.body.text(), 'function not found: nope (GET /system/functions lists the functions this router knows)\n');
});

t.test('with basic_auth: login\'s check request, then the saved Basic on every /system request; invoke stays open', async (t) => {
  const secrets = t.testdir({ 'basic-auth-user': 'admin\n', 'basic-auth-password': 'pw\n' });
  const wd = await startWatchdog(t, { fprocess: 'cat' });
  const router = await startRouter(t, { functions: `echo=${wd.url}`, basic_auth: 'true', secret_mount_path: secrets, async_worker: 'false', queue: `sqlite:${join(secrets, 'q.db')}` });
  t.equal((await faas.loginCheck(router.url, 'admin', 'wrong')).printed, 'Unable to login, either username or password is incorrect');
  t.equal((await faas.loginCheck(router.url, 'admin', 'pw')).printed, `credentials saved for admin ${router.url}`);
  const anonymous = await faas.list(router.url);
  t.equal(anonymous.error, 'Unauthorized access, run "faas-cli login" to setup authentication for this server', 'the empty Bearer is refused when basic_auth is on');
  t.equal((await faas.list(router.url, { basic: 'admin:pw' })).functions?.[0]?.name, 'echo');
  t.equal((await faas.describe(router.url, 'echo', { basic: 'admin:pw' })).fn?.availableReplicas, 1);
  t.same((await faas.namespaces(router.url, 'admin:pw')).names, ['openfaas-fn']);
  const call = await faas.invoke(router.url, 'echo', 'open');
  t.equal(call.stdout, 'open', 'faas-cli invoke sends no credentials, and functions need none');
});

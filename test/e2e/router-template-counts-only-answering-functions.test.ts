// With function_url_template any valid name resolves, so callers choose the names:
// a name is counted in /metrics and listed in /system/functions only once its upstream answered with
// something other than a connection error or 404, and an async call for a name whose host does not
// resolve (or refuses the connection) is 404 at once, not 202 and ten retries.
import t from 'tap';
import { createServer } from 'node:http';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { startRouter } from '../helpers/start-router.js';

t.test('random names leave no series, no listing and no queued calls', async (t) => {
  // One server on every interface; it answers 404 to calls addressed to this machine's own host name, 200 otherwise.
  const host = hostname();
  const other = /^[-a-zA-Z0-9_]+$/.test(host) && host !== 'localhost' && await lookup(host).then(() => true, () => false) ? host : undefined;
  const up = createServer((req, res) => {
    res.writeHead(req.headers.host?.startsWith(`${other}:`) ? 404 : 200);
    res.end('answer');
  });
  await new Promise<void>((resolve) => up.listen(0, resolve));
  t.teardown(() => new Promise((resolve) => { up.closeAllConnections(); up.close(resolve); }));
  const port = (up.address() as AddressInfo).port;
  const router = await startRouter(t, { function_url_template: `http://{name}:${port}`, queue: `sqlite:${join(t.testdir(), 'q.db')}` });

  for (let i = 0; i < 40; i++) {
    const res = await request(`${router.url}/function/rnd-${i}-nohost`);
    await res.body.dump();
    t.equal(res.statusCode, 502, `rnd-${i}-nohost: 502 (host not found)`);
  }
  if (other !== undefined) {
    const res = await request(`${router.url}/function/${other}`);
    await res.body.dump();
    t.equal(res.statusCode, 404, 'the function\'s own 404 passes through');
  }
  const ok = await request(`${router.url}/function/localhost`);
  t.equal(ok.statusCode, 200);
  await ok.body.dump();

  const metrics = await (await request(`${router.url}/metrics`)).body.text();
  t.notMatch(metrics, /function_name="rnd-/, 'no series for names whose host does not resolve');
  if (other !== undefined) t.notMatch(metrics, new RegExp(`function_name="${other}"`), 'no series for a name answered 404');
  t.match(metrics, /gateway_function_invocation_total\{function_name="localhost",code="200"\} 1/);
  t.match(metrics, /gateway_function_invocation_started\{function_name="localhost"\} 1/);
  const listed = await (await request(`${router.url}/system/functions`)).body.json() as Array<{ name: string }>;
  t.same(listed.map((f) => f.name), ['localhost'], 'only the answering function is listed');

  const refused = await request(`${router.url}/async-function/rnd-async-nohost`, { method: 'POST', body: 'x' });
  t.equal(refused.statusCode, 404, 'an async call for a name that does not resolve is 404');
  t.equal(refused.headers['x-router-error'], 'ROUTER_ERR_FUNCTION_NOT_FOUND');
  await refused.body.dump();
  const accepted = await request(`${router.url}/async-function/localhost`, { method: 'POST', body: 'x' });
  t.equal(accepted.statusCode, 202, 'a name whose host answers is accepted');
  await accepted.body.dump();
  const calls = await (await request(`${router.url}/system/calls`)).body.json() as Array<{ functionName: string }>;
  t.same(calls.map((c) => c.functionName), ['localhost'], 'nothing queued for the random name');
});

// A browser holding a Basic login for the router sends it with any request, also one a foreign page
// makes: a state-changing /system request that Fetch metadata or Origin shows came from another site is
// refused with 403 before it does anything; command-line clients (no such headers) and reads pass.

import t from 'tap';
import { request } from 'undici';
import { createLogger } from '../../common/log.js';
import { createStaticResolver } from '../../router/resolver.js';
import { RouterServer } from '../../router/server.js';

const quiet = createLogger({ write: () => {} });
const config = { readTimeoutMs: 10_000, writeTimeoutMs: 10_000, upstreamTimeoutMs: 5_000, basicAuth: false, secretMountPath: '/nonexistent', functionNamespace: 'openfaas-fn' };

t.test('cross-site writes to /system get 403 ROUTER_ERR_CROSS_SITE; same-site, header-less and reads do not', async (t) => {
  const router = new RouterServer(config, { resolver: createStaticResolver([]), log: quiet });
  const { url } = await router.listen(0, '127.0.0.1');
  t.teardown(() => router.close(1_000));
  const host = new URL(url).host;
  const call = async (method: string, headers: Record<string, string>) => {
    const res = await request(`${url}/system/functions`, { method, headers });
    const body = await res.body.text();
    return { status: res.statusCode, code: res.headers['x-router-error'], body };
  };

  for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'http://evil.example' }, { origin: 'null' }] as Array<Record<string, string>>) {
    const answer = await call('DELETE', headers);
    t.equal(answer.status, 403, `DELETE with ${JSON.stringify(headers)}: 403`);
    t.equal(answer.code, 'ROUTER_ERR_CROSS_SITE');
  }
  // What the write gets when it is allowed through: the gateway API's 501 for a delete.
  for (const headers of [{}, { 'sec-fetch-site': 'same-origin', origin: `http://${host}` }, { 'sec-fetch-site': 'none' }] as Array<Record<string, string>>) {
    const answer = await call('DELETE', headers);
    t.equal(answer.status, 501, `DELETE with ${JSON.stringify(headers)} reaches the route`);
  }
  const read = await call('GET', { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' });
  t.equal(read.status, 200, 'a read is not refused (the foreign page cannot see the answer without CORS)');
});

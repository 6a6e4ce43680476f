// max_inflight=1 turns a second concurrent request away with 429, and /_/ready says 429 meanwhile.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import t from 'tap';
import { request } from 'undici';
import { pollStatus, startWatchdog } from '../helpers/start-watchdog.js';

t.test('max_inflight=1: a second concurrent request gets 429 from the watchdog', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', max_inflight: '1' });
  t.equal((await request(`${wd.url}/_/ready`)).statusCode, 200, 'ready while idle');
  // The first request stays in flight as long as its body is open: cat waits on stdin.
  const first = httpRequest(`${wd.url}/`, { method: 'POST', headers: { 'content-type': 'text/plain' } });
  const firstRes = new Promise<IncomingMessage>((resolve) => first.once('response', resolve));
  first.write('one ');
  const ready = await pollStatus(`${wd.url}/_/ready`, 429, 3000);
  t.ok(ready, '/_/ready answers 429 while the limit is reached');
  t.equal(ready?.['x-openfaas-internal'], 'watchdog');
  const second = await request(`${wd.url}/`, { method: 'POST', body: 'two' });
  t.equal(second.statusCode, 429);
  t.equal(second.headers['x-openfaas-internal'], 'watchdog');
  t.equal(second.headers['x-watchdog-error'], 'WD_ERR_OVERLOADED');
  t.match(await second.body.text(), /max_inflight is 1/);
  const health = await request(`${wd.url}/_/health`);
  t.equal(health.statusCode, 200, '/_/health is not affected by the limit');
  await health.body.dump();
  first.end('done');
  const res = await firstRes;
  let body = '';
  for await (const c of res) body += c;
  t.equal(res.statusCode, 200);
  t.equal(body, 'one done');
  const after = await request(`${wd.url}/`, { method: 'POST', body: 'three' });
  t.equal(after.statusCode, 200, 'served again once the first finished');
  t.equal(await after.body.text(), 'three');
  t.equal((await request(`${wd.url}/_/ready`)).statusCode, 200);
});

// The log ring behind GET /system/logs and the readiness probe behind availableReplicas.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFunctionLogs } from '../../router/function-logs.js';
import { Agent } from 'undici';
import { createReadiness } from '../../router/readiness.js';

t.test('function logs: kept per function, capped, tail and since, followers, close ends them', async (t) => {
  let clock = Date.parse('2026-12-04T10:00:00.000Z');
  const logs = createFunctionLogs('openfaas-fn', 3, () => new Date(clock));
  for (const text of ['a', 'b', 'c', 'd']) { logs.append('echo', 'echo-1', text); clock += 1000; }
  logs.append('other', 'other-2', 'x');
  t.same(logs.read('echo').map((e) => e.text), ['b', 'c', 'd'], 'the last 3 kept');
  t.same(logs.read('echo')[0], { name: 'echo', namespace: 'openfaas-fn', instance: 'echo-1', timestamp: '2026-12-04T10:00:01.000Z', text: 'b' });
  t.same(logs.read('echo', { tail: 1 }).map((e) => e.text), ['d']);
  t.same(logs.read('echo', { tail: -1 }).map((e) => e.text), ['b', 'c', 'd'], 'tail ≤ 0: all');
  t.same(logs.read('echo', { sinceMs: Date.parse('2026-12-04T10:00:02.000Z') }).map((e) => e.text), ['c', 'd']);
  t.same(logs.read('nobody'), []);
  const seen: string[] = [];
  let ended = 0;
  const stop = logs.follow('echo', (e) => seen.push(e.text), () => ended++);
  logs.append('other', 'other-2', 'not mine');
  logs.append('echo', 'echo-1', 'e');
  stop();
  logs.append('echo', 'echo-1', 'after unsubscribe');
  t.same(seen, ['e']);
  logs.follow('echo', () => {}, () => ended++);
  logs.close();
  t.equal(ended, 1, 'close ends the followers still there');
  logs.follow('echo', () => {}, () => ended++);
  t.equal(ended, 2, 'following closed logs ends at once');
});

t.test('readiness: /_/health below 500 is ready, 503 or nobody listening is not; answers are remembered briefly', async (t) => {
  let status = 200;
  let probes = 0;
  const server = createServer((req, res) => { probes++; t.equal(req.url, '/base/_/health'); res.writeHead(status).end(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/base`);
  let now = 0;
  const pool = new Agent();
  t.teardown(() => pool.close());
  const readiness = createReadiness(pool, () => now);
  t.equal(await readiness.ready('fn', url), true);
  status = 503;
  t.equal(await readiness.ready('fn', url), true, 'remembered');
  t.equal(probes, 1);
  now += 1000;
  t.equal(await readiness.ready('fn', url), false, 'a watchdog not ready yet answers 503');
  status = 404;
  now += 1000;
  t.equal(await readiness.ready('fn', url), true, 'an upstream without /_/health is up');
  t.equal(await readiness.ready('gone', new URL('http://127.0.0.1:9/')), false, 'nobody listening');
});

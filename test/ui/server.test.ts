// The dashboard's server side in-process (no browser): routes and methods, the built page and its
// headers, p50/p99 from the histogram, the calls stream fed by queue.watch (snapshot, then changes, with
// the status filter), the queue samples, the log ring, and a router close that ends open live views.

import t, { type Test } from 'tap';
import { join } from 'node:path';
import { request } from 'undici';
import { createLogger } from '../../common/log.js';
import { createQueue, type Queue } from '../../router/queue/index.js';
import { requireNats, startNats } from '../helpers/nats-server.js';
import { createStaticResolver } from '../../router/resolver.js';
import { matchRoute } from '../../router/routes.js';
import { RouterServer } from '../../router/server.js';
import { createDashboard, type DashboardOptions } from '../../router/ui/dashboard.js';
import { quantileMs } from '../../router/ui/function-sampler.js';
import { createFunctionLogs } from '../../router/function-logs.js';
import { loadAssets } from '../../router/ui/assets.js';
import { createQueueSampler } from '../../router/ui/queue-sampler.js';
import { makeCall } from '../helpers/calls.js';
import { startUpstream } from '../helpers/start-router.js';
import { holdsWithin } from '../helpers/wait.js';

const quiet = createLogger({ write: () => {} });
const base = { readTimeoutMs: 10_000, writeTimeoutMs: 10_000, upstreamTimeoutMs: 5_000, basicAuth: false, secretMountPath: '/nonexistent', functionNamespace: '' };

async function dashboard(t: Test, options: DashboardOptions, fns: Record<string, string> = {}) {
  const resolver = createStaticResolver(Object.entries(fns).map(([k, v]) => [k, new URL(v)] as const));
  const router = new RouterServer(base, { resolver, log: quiet, ui: createDashboard(options) });
  const { url } = await router.listen(0, '127.0.0.1');
  t.teardown(() => router.close());
  return { router, url };
}

/** Read server-sent events from `url` until `until` returns true for the events so far. */
async function readEvents(url: string, until: (events: Array<{ event: string; data: any }>) => boolean, signal?: AbortSignal) {
  const res = await request(url, { signal });
  const events: Array<{ event: string; data: any }> = [];
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += chunk.toString();
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
    }
    if (until(events)) { res.body.destroy(); break; }
  }
  return { events, headers: res.headers };
}

t.test('/ui routes: match, redirect, page with CSP, 404 and 405', async (t) => {
  t.same(matchRoute('/ui/api/info?x=1'), { kind: 'ui', path: '/api/info', query: 'x=1' });
  t.same(matchRoute('/ui'), { kind: 'ui', path: '', query: '' });
  t.equal((matchRoute('/uix') as { code?: string }).code, 'ROUTER_ERR_NOT_FOUND');
  const { url } = await dashboard(t, {});
  const redirect = await request(`${url}/ui`);
  t.equal(redirect.statusCode, 308);
  t.equal(redirect.headers['location'], '/ui/');
  await redirect.body.dump();
  const page = await request(`${url}/ui/`, { headers: { 'accept-encoding': 'gzip' } });
  t.equal(page.statusCode, 200, 'the built page is served (npm run build ran)');
  t.equal(page.headers['content-encoding'], 'gzip');
  t.match(String(page.headers['content-security-policy']), /default-src 'none'/);
  t.equal(page.headers['x-frame-options'], 'DENY');
  await page.body.dump();
  const cached = await request(`${url}/ui/`, { headers: { 'if-none-match': String(page.headers['etag']) } });
  t.equal(cached.statusCode, 304);
  await cached.body.dump();
  for (const [path, status, code] of [
    ['/ui/assets/nope.js', 404, 'ROUTER_ERR_NOT_FOUND'], ['/ui/api/nope', 404, 'ROUTER_ERR_NOT_FOUND'],
    ['/ui/api/calls', 503, 'ROUTER_ERR_ASYNC_DISABLED'], ['/ui/api/queue/stream', 503, 'ROUTER_ERR_ASYNC_DISABLED'],
    ['/ui/api/logs/stream?function=x', 404, 'ROUTER_ERR_NOT_FOUND'],
  ] as const) {
    const res = await request(`${url}${path}`);
    t.equal(res.statusCode, status, `${path}: ${status}`);
    t.equal(res.headers['x-router-error'], code);
    await res.body.dump();
  }
  const post = await request(`${url}/ui/api/info`, { method: 'POST' });
  t.equal(post.statusCode, 405);
  await post.body.dump();
  const info = await request(`${url}/ui/api/info`);
  t.same(await info.body.json(), { queue: null, logs: false, queueSampleMs: null });
});

t.test('a router whose page was not built says how to build it', async (t) => {
  const { url } = await dashboard(t, { assets: loadAssets(t.testdir()) });
  const res = await request(`${url}/ui/`);
  t.equal(res.statusCode, 503);
  t.equal(res.headers['x-router-error'], 'ROUTER_ERR_UI_NOT_BUILT');
  t.match(await res.body.text(), /npm run build/);
  const api = await request(`${url}/ui/api/functions`);
  t.equal(api.statusCode, 200, 'the API works without the page');
  await api.body.dump();
});

t.test('functions: counts, error rate and p50/p99 from the router histogram', async (t) => {
  const up = await startUpstream(t, (req, res) => { res.writeHead(req.url === '/fail' ? 500 : 200); res.end('ok'); });
  const { url } = await dashboard(t, {}, { fn: up.url });
  for (let i = 0; i < 3; i++) await (await request(`${url}/function/fn`)).body.dump();
  await (await request(`${url}/function/fn/fail`)).body.dump();
  const rows = await (await request(`${url}/ui/api/functions`)).body.json() as Array<Record<string, any>>;
  t.equal(rows.length, 1);
  t.equal(rows[0]!['name'], 'fn');
  t.equal(rows[0]!['replicas'], 1);
  t.equal(rows[0]!['window']['invocations'], 4);
  t.equal(rows[0]!['window']['total'], 4);
  t.equal(rows[0]!['window']['errorRate'], 0.25, 'one 500 in four');
  t.ok(rows[0]!['window']['p50Ms'] > 0 && rows[0]!['window']['p50Ms'] <= rows[0]!['window']['p99Ms'], 'p50 <= p99');

  // Prometheus' interpolation: 10 observations, 5 at <= 0.1 s, 5 more at <= 1 s.
  t.equal(quantileMs(0.5, [0.1, 1, Infinity], [5, 10, 10]), 100);
  t.equal(quantileMs(0.75, [0.1, 1, Infinity], [5, 10, 10]), 550);
  t.equal(quantileMs(0.99, [0.1, 1, Infinity], [5, 5, 10]), 1000, 'the +Inf bucket gives the last finite bound');
  t.equal(quantileMs(0.5, [0.1, Infinity], [0, 0]), null, 'no observations: no quantile');
});

async function callsStream(t: Test, queue: Queue): Promise<void> {
  const before = makeCall({ functionName: 'a' });
  await queue.enqueue(before);
  const { url } = await dashboard(t, { queue });
  const later = makeCall({ functionName: 'a' });
  const other = makeCall({ functionName: 'b' });
  let changed = false;
  const { events, headers } = await readEvents(`${url}/ui/api/calls/stream?function=a&status=queued`, (ev) => {
    if (!changed) { // the snapshot arrived: the stream is watching, make the changes
      changed = true;
      void (async () => { await queue.enqueue(other); await queue.enqueue(later); await queue.cancel(later.id); })();
    }
    return ev.some((e) => e.event === 'call' && e.data.id === later.id && e.data.status === 'cancelled');
  });
  t.equal(headers['content-type'], 'text/event-stream; charset=utf-8');
  t.same(events[0]!.data.map((c: { id: string }) => c.id), [before.id], 'the snapshot holds the queued call of a');
  const calls = events.filter((e) => e.event === 'call');
  t.notOk(calls.some((e) => e.data.id === other.id), 'another function is filtered out');
  t.same(calls.filter((e) => e.data.id === later.id).map((e) => [e.data.status, e.data.matches]).at(-1), ['cancelled', false],
    'the cancel arrives, marked as leaving the status filter');

  const record = await (await request(`${url}/ui/api/calls/${before.id}`)).body.json() as { id: string; headers: Record<string, string> };
  t.equal(record.id, before.id);
  const retry = await request(`${url}/ui/api/calls/${before.id}/retry`, { method: 'POST', headers: { 'x-whippet-ui': '1', origin: url, 'sec-fetch-site': 'same-origin' } });
  t.equal(retry.statusCode, 409, 'a queued call cannot be retried: the calls API error');
  await retry.body.dump();
  const cancel = await request(`${url}/ui/api/calls/${before.id}/cancel`, { method: 'POST', headers: { 'x-whippet-ui': '1', origin: url } });
  t.equal(cancel.statusCode, 200);
  t.equal((await cancel.body.json() as { status: string }).status, 'cancelled');
  const get = await request(`${url}/ui/api/calls/${before.id}/cancel`);
  t.equal(get.statusCode, 405);
  await get.body.dump();
  const missing = await request(`${url}/ui/api/calls/no-such-call`);
  t.equal(missing.statusCode, 404);
  await missing.body.dump();
}

t.test('calls (sqlite): snapshot, then live changes fed by queue.watch, filtered; the page can act', async (t) => {
  const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`);
  t.teardown(() => queue.close());
  await callsStream(t, queue);
});

t.test('calls (jetstream): the same through a KV watch', async (t) => {
  if (!requireNats(t)) return;
  const node = await startNats(t);
  const queue = await createQueue(node.url, { jetstream: { name: 'ui' } });
  t.teardown(() => queue.close());
  await callsStream(t, queue);
});

t.test('a live view whose request was still reading the queue when the router closed is ended, not left open', async (t) => {
  const real = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`);
  t.teardown(() => real.close());
  // The stream's snapshot read waits until the close has happened.
  let listed!: () => void;
  const isListing = new Promise<void>((resolve) => { listed = resolve; });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const queue = new Proxy(real, {
    get(target, key) {
      if (key === 'list') return async (...args: Parameters<Queue['list']>) => { listed(); await gate; return target.list(...args); };
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const router = new RouterServer(base, { resolver: createStaticResolver([]), log: quiet, ui: createDashboard({ queue }) });
  const { url } = await router.listen(0, '127.0.0.1');
  const open = readEvents(`${url}/ui/api/calls/stream`, () => false);
  await isListing;
  const closed = router.close(30_000);
  release();
  await closed; // without the fix: held for the 30 s grace, then the stream is cut (the read below fails)
  const { events } = await open;
  t.same(events.map((e) => e.event), [], 'the late stream ended before anything was sent on it');
});

t.test('queue samples count accepts, completions, retries and dead letters', async (t) => {
  const queue = await createQueue(`sqlite:${join(t.testdir(), 'q.db')}`);
  t.teardown(() => queue.close());
  const sampler = createQueueSampler(queue, 100);
  t.teardown(() => sampler.close());
  const samples: Array<Record<string, number>> = [];
  const off = await sampler.follow((s) => samples.push({ ...s }));
  const ok = makeCall();
  const bad = makeCall();
  await queue.enqueue(ok);
  await queue.enqueue(bad);
  for (const _ of [ok, bad]) {
    const lease = (await queue.next({ timeoutMs: 2_000 }))!;
    await lease.beginAttempt();
    if (lease.request.id === bad.id) {
      await lease.endAttempt({ statusCode: 503 });
      await lease.nak(0);
      const again = (await queue.next({ timeoutMs: 2_000 }))!;
      await again.beginAttempt();
      await again.endAttempt({ statusCode: 400 });
      await again.finish({ status: 'failed', result: null, error: 'bad request' });
      await again.ack();
    } else {
      await lease.endAttempt({ statusCode: 200 });
      await lease.finish({ status: 'succeeded', result: null });
      await lease.ack();
    }
  }
  const sum = (k: string): number => samples.reduce((n, s) => n + s[k]!, 0);
  await holdsWithin(() => sum('completed') >= 2, 5_000, 50);
  off();
  t.equal(sum('accepted'), 2);
  t.equal(sum('completed'), 2);
  t.equal(sum('retried'), 1);
  t.equal(sum('deadLettered'), 1);
  t.equal(samples.at(-1)!['deadLetters'], 1, 'the failed record is a dead letter');
  t.equal(sampler.history().length, samples.length, 'history keeps the samples');
});

t.test('function logs: bounded per function, followed live; a closing router ends live views', async (t) => {
  const ring = createFunctionLogs('openfaas-fn', 3);
  for (let i = 1; i <= 5; i++) ring.append('f', 'f-1', `line ${i}`);
  t.same(ring.read('f').map((entry) => entry.text), ['line 3', 'line 4', 'line 5']);
  t.same(ring.functions(), ['f']);
  // Closed by the test itself (a second close would close the upstream pool twice).
  const router = new RouterServer(base, { resolver: createStaticResolver([]), log: quiet, ui: createDashboard({ logs: ring }) });
  const { url } = await router.listen(0, '127.0.0.1');
  const { events } = await readEvents(`${url}/ui/api/logs/stream?function=f`, (ev) => {
    if (ev.length === 1) ring.append('f', 'f-1', 'line 6'); // the backlog arrived: the tail follows
    return ev.some((e) => e.event === 'line');
  });
  t.same(events[0]!.data.map((l: { line: string }) => l.line), ['line 3', 'line 4', 'line 5']);
  t.equal(events[1]!.data.line, 'line 6');

  // A live view is idle by design: write_timeout (1 s here) must not cut it.
  const patient = new RouterServer({ ...base, writeTimeoutMs: 1_000 }, { resolver: createStaticResolver([]), log: quiet, ui: createDashboard({ logs: ring }) });
  const patientUrl = (await patient.listen(0, '127.0.0.1')).url;
  t.teardown(() => patient.close());
  const late = await readEvents(`${patientUrl}/ui/api/logs/stream?function=f`, (ev) => {
    if (ev.length === 1) setTimeout(() => ring.append('f', 'f-1', 'after write_timeout'), 1_500); // waiting is the point here
    return ev.some((e) => e.event === 'line' && e.data.line === 'after write_timeout');
  });
  t.equal(late.events.at(-1)!.data.line, 'after write_timeout', 'the stream outlived write_timeout');

  let opened!: () => void;
  const isOpen = new Promise<void>((resolve) => { opened = resolve; });
  const open = readEvents(`${url}/ui/api/logs/stream?function=f`, () => { opened(); return false; });
  await isOpen;
  const started = Date.now();
  await router.close(30_000);
  await open;
  t.ok(Date.now() - started < 5_000, 'close does not wait for the open stream');
});

// http mode proxies to a long-running Node upstream (keep-alive), restarts it when it dies, and
// answers 504 when it is slower than exec_timeout.
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { freePort, handler, pollStatus, startWatchdog } from '../helpers/start-watchdog.js';
import { waitFor } from '../helpers/wait.js';

async function startHttpWatchdog(t: Test, env: Record<string, string> = {}) {
  const upstreamPort = await freePort();
  const wd = await startWatchdog(t, {
    mode: 'http',
    fprocess: `${process.execPath} ${handler('upstream.mjs')}`,
    upstream_url: `http://127.0.0.1:${upstreamPort}`,
    UPSTREAM_PORT: String(upstreamPort),
    exec_timeout: '2s',
    ...env,
  });
  t.ok(await pollStatus(`${wd.url}/_/health`, 200, 10_000), 'healthy once the upstream listens');
  return wd;
}

t.test('the upstream receives method, path, query, headers and body; its answer comes back', async (t) => {
  const wd = await startHttpWatchdog(t);
  const dispatcher = new Agent({ connections: 1 });
  t.teardown(() => dispatcher.close());
  for (const round of [1, 2]) {
    const res = await request(`${wd.url}/some/path?a=1&b=two`, {
      dispatcher,
      method: 'PATCH',
      body: `payload ${round}`,
      headers: { 'x-custom': 'yes', 'content-type': 'text/plain', connection: 'keep-alive' },
    });
    t.equal(res.statusCode, 200);
    t.equal(res.headers['x-upstream'], 'yes', 'upstream headers are passed through');
    t.match(res.headers['x-duration-seconds'], /^\d+\.\d{6}$/);
    const seen = (await res.body.json()) as { method: string; url: string; headers: Record<string, string>; body: string };
    t.equal(seen.method, 'PATCH');
    t.equal(seen.url, '/some/path?a=1&b=two');
    t.equal(seen.headers['x-custom'], 'yes');
    t.equal(seen.headers['content-type'], 'text/plain');
    t.equal(seen.headers.connection, 'keep-alive', 'the watchdog keeps its upstream connection alive');
    t.equal(seen.body, `payload ${round}`);
  }
});

t.test('buffer_http sends Content-Length to the upstream', async (t) => {
  const wd = await startHttpWatchdog(t, { buffer_http: 'true' });
  const res = await request(`${wd.url}/`, { method: 'POST', body: Readable.from(['ab', 'cd']) });
  const seen = (await res.body.json()) as { headers: Record<string, string>; body: string };
  t.equal(seen.body, 'abcd');
  t.equal(seen.headers['content-length'], '4');
  t.notOk(seen.headers['transfer-encoding']);
});

const MIB = 1024 * 1024;
/** 1 MiB in 64 KiB pieces, each piece a different letter, so a lost or reordered piece shows. */
const pieces = (): string[] => Array.from({ length: 16 }, (_, i) => String.fromCharCode(97 + i).repeat(MIB / 16));

t.test('bodies: a chunked upload streams through, a GET has none, Expect: 100-continue is answered by the watchdog', async (t) => {
  const wd = await startHttpWatchdog(t);
  const up = await request(`${wd.url}/`, { method: 'POST', body: Readable.from(pieces()) });
  const seen = (await up.body.json()) as { headers: Record<string, string>; body: string };
  t.equal(seen.body, pieces().join(''), 'every piece, in order');
  t.equal(seen.headers['transfer-encoding'], 'chunked', 'streamed on, not buffered');
  const get = await request(`${wd.url}/x`);
  const seenGet = (await get.body.json()) as { method: string; headers: Record<string, string>; body: string };
  t.equal(seenGet.method, 'GET');
  t.equal(seenGet.body, '');
  t.notOk(seenGet.headers['transfer-encoding'], 'no body invented for a GET');
  // undici's client refuses to send Expect; node:http's sends the body once the 100 Continue arrives.
  const answer = await new Promise<{ status: number; text: string; continued: boolean }>((resolve, reject) => {
    let continued = false;
    const req = httpRequest(`${wd.url}/`, { method: 'POST', headers: { expect: '100-continue', 'content-length': '14' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve({ status: res.statusCode!, text, continued }));
    });
    req.on('error', reject).on('continue', () => { continued = true; req.end('after continue'); });
  });
  t.ok(answer.continued, '100 Continue came first');
  t.equal(answer.status, 200);
  const seenExpect = JSON.parse(answer.text) as { headers: Record<string, string>; body: string };
  t.equal(seenExpect.body, 'after continue');
  t.notOk(seenExpect.headers.expect, 'the expectation is hop-level: the upstream does not see it');
});

t.test('buffer_http: a 1 MiB body in many chunks reaches the upstream whole, with its Content-Length', async (t) => {
  const wd = await startHttpWatchdog(t, { buffer_http: 'true' });
  const res = await request(`${wd.url}/`, { method: 'POST', body: Readable.from(pieces()) });
  const seen = (await res.body.json()) as { headers: Record<string, string>; body: string };
  t.equal(seen.headers['content-length'], String(MIB));
  t.notOk(seen.headers['transfer-encoding']);
  t.equal(seen.body, pieces().join(''), 'every piece, in order');
});

t.test('killing the upstream process leads to a restart and later requests succeed', async (t) => {
  const wd = await startHttpWatchdog(t);
  const first = Number(await (await request(`${wd.url}/pid`)).body.text());
  t.ok(first > 1);
  process.kill(first, 'SIGKILL');
  const second = await waitFor(async () => {
    const r = await request(`${wd.url}/pid`);
    const text = await r.body.text();
    return r.statusCode === 200 && Number(text) !== first ? Number(text) : undefined;
  }, 10_000, 'a new upstream pid', { intervalMs: 50, checkMayThrow: true });
  t.ok(second && second !== first, `restarted as pid ${second}`);
  t.ok(wd.records().some((r) => r.msg === 'function process exited, restarting'));
  const res = await request(`${wd.url}/x`, { method: 'POST', body: 'after' });
  t.equal(res.statusCode, 200);
  t.equal(((await res.body.json()) as { body: string }).body, 'after');
});

t.test('a slow upstream past exec_timeout gives 504 from the watchdog', async (t) => {
  const wd = await startHttpWatchdog(t, { exec_timeout: '1s' });
  const started = Date.now();
  const res = await request(`${wd.url}/slow`);
  t.equal(res.statusCode, 504);
  t.equal(res.headers['x-openfaas-internal'], 'watchdog');
  t.equal(res.headers['x-watchdog-error'], 'WD_ERR_EXEC_TIMEOUT');
  await res.body.dump();
  t.ok(Date.now() - started < 3000, 'answered at exec_timeout, not when the upstream did');
});

t.test('the upstream gets SIGTERM only after the drain', async (t) => {
  const wd = await startHttpWatchdog(t, { healthcheck_interval: '500ms' });
  const pid = Number(await (await request(`${wd.url}/pid`)).body.text());
  wd.proc.kill('SIGTERM');
  t.ok(await pollStatus(`${wd.url}/_/health`, 503, 400), 'draining');
  const during = await request(`${wd.url}/during`);
  t.equal(during.statusCode, 200, 'the upstream still serves during the health-check window');
  await during.body.dump();
  t.same(await wd.exited, { code: 0, signal: null });
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'upstream stopped');
});

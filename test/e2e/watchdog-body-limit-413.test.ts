// The paths that hold or re-encode the whole body (marshal_request, buffer_http) refuse a body
// over max_request_body with 413 (declared or streamed), and no request, over the limit or cut off mid-body,
// can end the process: the watchdog answers the next request as before.
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { freePort, handler, pollStatus, startWatchdog, type Watchdog } from '../helpers/start-watchdog.js';

const LIMIT = 1024;

/** A body sent chunked (no Content-Length), so only counting can find it too large. */
const chunked = (bytes: number): Readable => Readable.from((function* () { for (let i = 0; i < bytes; i += 256) yield Buffer.alloc(Math.min(256, bytes - i), 'a'); })());

async function stillServes(t: Test, wd: Watchdog, check: (body: string) => void): Promise<void> {
  const res = await request(`${wd.url}/`, { method: 'POST', body: 'again' });
  t.equal(res.statusCode, 200, 'the next request is served');
  check(await res.body.text());
  t.equal(wd.proc.exitCode, null, 'the watchdog is still running');
}

function assert413(t: Test, res: { statusCode: number; headers: Record<string, unknown> }, what: string): void {
  t.equal(res.statusCode, 413, what);
  t.equal(res.headers['x-watchdog-error'], 'WD_ERR_BODY_TOO_LARGE', `${what}: the code`);
  t.equal(res.headers['x-openfaas-internal'], 'watchdog', `${what}: marked as the watchdog's own`);
}

for (const mode of ['serializing', 'streaming']) {
  t.test(`${mode}, marshal_request: a body over max_request_body is 413 and the handler never starts for a declared one`, async (t) => {
    const dir = t.testdir();
    const ran = join(dir, 'ran');
    const wd = await startWatchdog(t, {
      mode, marshal_request: 'true', max_request_body: '1KiB', RAN: ran,
      fprocess: `sh -c 'touch "$RAN"; cat'`,
    });
    const exact = await request(`${wd.url}/`, { method: 'POST', body: Buffer.alloc(LIMIT, 'b') });
    t.equal(exact.statusCode, 200, 'a body of exactly the limit passes');
    const envelope = JSON.parse(await exact.body.text()) as { body: { raw: string } };
    t.equal(Buffer.from(envelope.body.raw, 'base64').length, LIMIT);

    const { rmSync } = await import('node:fs');
    rmSync(ran);
    const declared = await request(`${wd.url}/`, { method: 'POST', body: Buffer.alloc(LIMIT + 1, 'b') });
    assert413(t, declared, 'Content-Length over the limit');
    t.match(await declared.body.text(), /request body is larger than max_request_body \(1024 bytes\)/);
    t.notOk(existsSync(ran), 'the handler was not started');

    const streamed = await request(`${wd.url}/`, { method: 'POST', body: chunked(LIMIT * 8) });
    assert413(t, streamed, 'a chunked body over the limit');
    await streamed.body.dump();
    await stillServes(t, wd, (body) => t.equal(Buffer.from((JSON.parse(body) as { body: { raw: string } }).body.raw, 'base64').toString(), 'again'));
  });
}

t.test('marshal_request: a client that drops the connection mid-body leaves the server serving', async (t) => {
  const wd = await startWatchdog(t, { marshal_request: 'true', fprocess: 'cat' });
  await new Promise<void>((resolve) => {
    const req = httpRequest(`${wd.url}/`, { method: 'POST', headers: { 'content-length': '100000' } });
    req.on('error', () => resolve());
    req.write(Buffer.alloc(5000, 'x'), () => req.destroy());
  });
  await stillServes(t, wd, (body) => t.match(body, /^\{"header":/));
});

t.test('http mode, buffer_http: a body over max_request_body is 413, declared or chunked', async (t) => {
  const upstreamPort = await freePort();
  const wd = await startWatchdog(t, {
    mode: 'http', buffer_http: 'true', max_request_body: '1k',
    fprocess: `${process.execPath} ${handler('upstream.mjs')}`,
    upstream_url: `http://127.0.0.1:${upstreamPort}`, UPSTREAM_PORT: String(upstreamPort),
  });
  t.ok(await pollStatus(`${wd.url}/_/health`, 200, 10_000), 'healthy once the upstream listens');
  const exact = await request(`${wd.url}/`, { method: 'POST', body: chunked(LIMIT) });
  t.equal(exact.statusCode, 200);
  const seen = (await exact.body.json()) as { headers: Record<string, string>; body: string };
  t.equal(seen.headers['content-length'], String(LIMIT), 'buffered up to the limit, sent with Content-Length');
  t.equal(seen.body.length, LIMIT);
  const declared = await request(`${wd.url}/`, { method: 'POST', body: Buffer.alloc(LIMIT + 1) });
  assert413(t, declared, 'Content-Length over the limit');
  await declared.body.dump();
  const streamed = await request(`${wd.url}/`, { method: 'POST', body: chunked(LIMIT * 8) });
  assert413(t, streamed, 'a chunked body over the limit');
  await streamed.body.dump();
  await stillServes(t, wd, (body) => t.equal((JSON.parse(body) as { body: string }).body, 'again'));
});

t.test('without a buffering setting the body streams and no limit applies', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'wc -c', max_request_body: '1k' });
  const res = await request(`${wd.url}/`, { method: 'POST', body: chunked(LIMIT * 8) });
  t.equal(res.statusCode, 200);
  t.equal((await res.body.text()).trim(), String(LIMIT * 8));
});

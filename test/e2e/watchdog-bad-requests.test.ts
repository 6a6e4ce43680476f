// 1 MB of headers, a lying Content-Length and a one-byte-a-second client each get a 4xx or a
// closed connection, and the watchdog keeps serving others meanwhile.
import { connect, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startWatchdog } from '../helpers/start-watchdog.js';

/** Resolves with everything the server sent once it closes the connection (or after `ms`, then marked). */
function collect(s: Socket, ms: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => { s.destroy(); resolve({ text, closed: false }); }, ms);
    s.setEncoding('utf8').on('data', (c: string) => { text += c; });
    s.on('close', () => { clearTimeout(timer); resolve({ text, closed: true }); });
    s.on('error', () => {});
  });
}

async function stillServes(t: Test, url: string): Promise<void> {
  const res = await request(`${url}/`, { method: 'POST', body: 'other' });
  t.equal(res.statusCode, 200, 'others are served');
  t.equal(await res.body.text(), 'other');
}

t.test('1 MB of headers gets 431 (or a reset) and the connection closes', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat' });
  const s = connect(wd.port, '127.0.0.1');
  const done = collect(s, 5000);
  s.on('connect', () => {
    s.write(`POST / HTTP/1.1\r\nHost: x\r\n`);
    for (let i = 0; i < 1024; i++) s.write(`X-Filler-${i}: ${'a'.repeat(1000)}\r\n`);
    s.write('\r\n');
  });
  const r = await done;
  // The 431 goes out at once; a client still writing may see it replaced by a reset (TCP discards it).
  t.ok(r.text === '' || r.text.startsWith('HTTP/1.1 431 '), `431 or nothing: ${JSON.stringify(r.text.slice(0, 40))}`);
  t.ok(r.closed, 'connection closed');
  await stillServes(t, wd.url);
});

t.test('a lying Content-Length (promises more than it sends) is cut at read_timeout, the handler killed', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', read_timeout: '1s' });
  const s = connect(wd.port, '127.0.0.1');
  const done = collect(s, 6000);
  s.on('connect', () => s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b'));
  await stillServes(t, wd.url);
  const r = await done;
  t.ok(r.closed, 'connection closed by the watchdog');
  t.match(r.text, /^(HTTP\/1\.1 408 |)/, '408 or nothing');
  t.notMatch(r.text, /200 OK/);
  await stillServes(t, wd.url);
});

t.test('a Content-Length shorter than the body: the rest is a malformed next request: 400 and close', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat' });
  const s = connect(wd.port, '127.0.0.1');
  const done = collect(s, 5000);
  s.on('connect', () => s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcdefgh garbage\r\n\r\n'));
  const r = await done;
  // The parser sees the garbage in the same read, so the connection is rejected as a whole.
  t.match(r.text, /HTTP\/1\.1 400 /, 'the rest is rejected');
  t.match(r.text, /X-OpenFaaS-Internal: watchdog/);
  t.ok(r.closed);
  await stillServes(t, wd.url);
});

t.test('a client sending one header byte a second is dropped at read_timeout', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', read_timeout: '2s' });
  const s = connect(wd.port, '127.0.0.1');
  const started = Date.now();
  const done = collect(s, 8000);
  const text = 'POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(100);
  let i = 0;
  const drip = setInterval(() => { if (!s.destroyed) s.write(text[i++ % text.length]!); }, 1000);
  t.teardown(() => clearInterval(drip));
  await stillServes(t, wd.url);
  const r = await done;
  clearInterval(drip);
  t.ok(r.closed, 'connection closed by the watchdog');
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 1900 && elapsed < 6000, `closed after ${elapsed} ms (read_timeout 2s)`);
  t.match(r.text, /^(HTTP\/1\.1 408 |)/);
  await stillServes(t, wd.url);
});

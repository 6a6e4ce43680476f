// static mode serves its folder and nothing outside it; Prometheus metrics; --run-healthcheck; lock file.
import { existsSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { freePort, runWatchdogCli, startWatchdog } from '../helpers/start-watchdog.js';

function rawGet(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let out = '';
    s.setEncoding('utf8').on('data', (c: string) => { out += c; });
    s.on('close', () => resolve(out));
  });
}

t.test('static mode serves static_path and refuses to leave it', async (t) => {
  const root = t.testdir({
    public: { 'index.html': '<h1>hi</h1>', 'app.js': 'let a = 1', sub: { 'index.html': 'sub' } },
    'secret.txt': 'do not serve',
  });
  symlinkSync(`${root}/secret.txt`, `${root}/public/link.txt`);
  const wd = await startWatchdog(t, { mode: 'static', static_path: `${root}/public` });
  const index = await request(`${wd.url}/`);
  t.equal(index.statusCode, 200);
  t.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  t.equal(await index.body.text(), '<h1>hi</h1>');
  const js = await request(`${wd.url}/app.js?v=1`);
  t.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  t.equal(await js.body.text(), 'let a = 1');
  t.equal(await (await request(`${wd.url}/sub/`)).body.text(), 'sub');
  for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/sub/%2e%2e%2f%2e%2e%2fsecret.txt', '/link.txt', '/..%5csecret.txt', '/%00']) {
    const answer = await rawGet(wd.port, path);
    t.match(answer, /^HTTP\/1\.1 (400|404) /, `${path} refused`);
    t.notMatch(answer, /do not serve/);
  }
  const missing = await request(`${wd.url}/nope.html`);
  t.equal(missing.statusCode, 404);
  await missing.body.dump();
  const post = await request(`${wd.url}/`, { method: 'POST', body: 'x' });
  t.equal(post.statusCode, 405);
  await post.body.dump();
});

t.test('metrics_port serves http_requests_total, http_request_duration_seconds and http_requests_in_flight', async (t) => {
  const metricsPort = await freePort();
  const wd = await startWatchdog(t, { fprocess: 'cat', metrics_port: String(metricsPort) });
  for (let i = 0; i < 3; i++) await (await request(`${wd.url}/`, { method: 'POST', body: 'x' })).body.dump();
  const res = await request(`http://127.0.0.1:${metricsPort}/metrics`);
  t.equal(res.statusCode, 200);
  const text = await res.body.text();
  t.match(text, /http_requests_total\{code="200",method="post"\} 3/);
  t.match(text, /http_request_duration_seconds_count\{code="200",method="post"\} 3/);
  t.match(text, /http_requests_in_flight 0/);
  t.match(text, /process_cpu_user_seconds_total \d/, 'the default process metrics are there from the first scrape');
});

t.test('--run-healthcheck exits 0 when healthy and 1 when not', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat' });
  t.ok(existsSync(`${wd.dir}/.lock`), 'lock file written');
  const ok = await runWatchdogCli({ fprocess: 'cat', port: String(wd.port) }, ['--run-healthcheck']);
  t.equal(ok.code, 0);
  await wd.stop('SIGINT');
  const down = await runWatchdogCli({ fprocess: 'cat', port: String(wd.port) }, ['--run-healthcheck']);
  t.equal(down.code, 1);
  t.match(down.stderr, /unhealthy/);
});

t.test('suppress_lock: no lock file, and health still works', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', suppress_lock: 'true' });
  t.notOk(existsSync(`${wd.dir}/.lock`));
  t.equal((await request(`${wd.url}/_/health`)).statusCode, 200);
});

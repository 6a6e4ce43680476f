// The watchdog and the router write their Date headers and log times from UTC fields (common/utc-time.ts,
// common/dated-response.ts): V8's own formatting, and Node's Date header, first load ICU's time zone data,
// ~0.6 MB of an idle process's RSS. A preloaded spy (test/fixtures/date-spy.cjs) records any call of those
// Date methods while both processes answer every kind of route; none may come.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { freePort } from '../../common/free-port.js';
import { startRouter } from '../helpers/start-router.js';
import { ROOT, startWatchdog } from '../helpers/start-watchdog.js';

const SPY = `${ROOT}test/fixtures/date-spy.cjs`;
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

t.test('no Date formatting through the time zone data on the request paths', async (t) => {
  const dir = t.testdir({ 'index.html': '<p>hello</p>' });
  const spyFile = join(dir, 'date-calls.txt');
  writeFileSync(spyFile, '');
  const spyEnv = { NODE_OPTIONS: `--require ${SPY}`, DATE_SPY_FILE: spyFile };
  const metricsPort = await freePort();
  const wd = await startWatchdog(t, { ...spyEnv, fprocess: 'cat', metrics_port: String(metricsPort), log_level: 'debug' });
  const fileServer = await startWatchdog(t, { ...spyEnv, mode: 'static', static_path: dir });
  const router = await startRouter(t, {
    ...spyEnv, functions: `cat=${wd.url}`, queue: `sqlite:${join(dir, 'queue.db')}`, async_worker: 'true',
  });

  const calls: [string, string, string?][] = [
    ['GET', `${wd.url}/_/health`], ['POST', `${wd.url}/`, 'ping'], ['GET', `${wd.url}/_/nothing`], ['GET', `http://127.0.0.1:${metricsPort}/metrics`],
    ['GET', `${fileServer.url}/index.html`], ['GET', `${fileServer.url}/missing.html`],
    ['POST', `${router.url}/function/cat`, 'ping'], ['GET', `${router.url}/system/functions`], ['GET', `${router.url}/healthz`],
    ['GET', `${router.url}/metrics`], ['GET', `${router.url}/nowhere`], ['POST', `${router.url}/function/missing`, 'x'],
    ['POST', `${router.url}/async-function/cat`, 'later'],
  ];
  for (const [method, url, body] of calls) {
    const res = await request(url, { method, body });
    await res.body.dump();
    const date = res.headers['date'];
    t.ok(typeof date === 'string' && IMF_FIXDATE.test(date), `${method} ${url} → ${res.statusCode} has one Date header (${String(date)})`);
  }
  // The async call runs through the in-process worker (its log lines carry times too).
  await new Promise((resolve) => setTimeout(resolve, 500));
  // tap's own loader, injected into every child, stamps its process info once: not ours.
  const seen = readFileSync(spyFile, 'utf8').split('\n').filter((l) => l !== '' && !l.includes('/@tapjs/'));
  t.same(seen, [], 'no zone-data Date method was called by whippet');
});

// In streaming mode a daemon that escaped the handler's process group (setsid) and holds
// its stdout no longer keeps the response open until exec_timeout (then blamed on the handler with 137): once
// the handler exits, the output may linger as long as in serializing mode (1 s), then the response ends with
// the handler's own exit code. A slow client loses nothing to that bound: the linger clock stops while the
// client holds the output back.
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import t from 'tap';
import { handler, startWatchdog } from '../helpers/start-watchdog.js';
import { killIfAlive } from '../helpers/processes.js';

interface Result { status: number; body: Buffer; trailers: NodeJS.Dict<string>; ms: number }

/** GET; the body is read at once, or after `holdMs` of not reading (a slow client). */
function get(url: string, holdMs = 0): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, (res) => {
      const chunks: Buffer[] = [];
      res.pause();
      setTimeout(() => res.resume(), holdMs);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), trailers: res.trailers, ms: Date.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('streaming: an escaped daemon holding stdout does not hold the response; the exit code is the handler\'s', async (t) => {
  const dir = t.testdir();
  const pidFile = `${dir}/daemon.pid`;
  t.teardown(() => { if (existsSync(pidFile)) killIfAlive(Number(readFileSync(pidFile, 'utf8'))); });
  const wd = await startWatchdog(t, {
    mode: 'streaming', exec_timeout: '20s', write_timeout: '20s', PID_FILE: pidFile,
    fprocess: `sh ${handler('escape-daemon.sh')}`,
  });
  const r = await get(`${wd.url}/`);
  t.ok(existsSync(pidFile), 'the daemon ran');
  t.equal(r.status, 200);
  t.equal(r.body.toString(), 'before\nafter\n');
  t.equal(r.trailers['x-exit-code'], '0', 'the handler\'s exit code, not 137');
  t.notOk(r.trailers['x-watchdog-error'], 'no exec_timeout');
  t.ok(r.ms < 5000, `answered in ${r.ms} ms, not at exec_timeout (20 s)`);
});

t.test('streaming: a client that holds the output back longer than the linger still gets all of it', async (t) => {
  const size = 4 * 1024 * 1024;
  const wd = await startWatchdog(t, { mode: 'streaming', fprocess: `head -c ${size} /dev/zero` });
  const r = await get(`${wd.url}/`, 2500);
  t.equal(r.status, 200);
  t.equal(r.body.length, size, 'every byte');
  t.equal(r.trailers['x-exit-code'], '0');
});

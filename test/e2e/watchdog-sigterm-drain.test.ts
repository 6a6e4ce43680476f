// SIGTERM while a 2 s request is in flight: it completes, health is 503 meanwhile, exit 0, no listener.
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { handler, pollStatus, startWatchdog } from '../helpers/start-watchdog.js';
import { waitFor } from '../helpers/wait.js';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

t.test('SIGTERM drains: the in-flight request completes with 200, health is 503, exit 0', async (t) => {
  const dir = t.testdir();
  const pidFile = `${dir}/pid`;
  const wd = await startWatchdog(t, { fprocess: `sh ${handler('sleep.sh')}`, healthcheck_interval: '1s', PID_FILE: pidFile });
  t.equal((await request(`${wd.url}/_/health`)).statusCode, 200);
  t.ok(existsSync(`${wd.dir}/.lock`), 'lock file written');
  const inflight = request(`${wd.url}/`, { method: 'POST', body: 'x' });
  await waitFor(() => (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim()) || undefined, 5000, 'the handler to start');
  const signalled = Date.now();
  wd.proc.kill('SIGTERM');
  t.ok(await pollStatus(`${wd.url}/_/health`, 503, 900), '/_/health answers 503 during the drain');
  t.notOk(existsSync(`${wd.dir}/.lock`), 'lock file removed');
  const res = await inflight;
  t.equal(res.statusCode, 200);
  t.equal(await res.body.text(), 'done\n');
  const exit = await wd.exited;
  t.same(exit, { code: 0, signal: null }, 'exits 0');
  t.ok(Date.now() - signalled >= 1000, 'waited healthcheck_interval');
  t.ok(await refused(wd.port), 'no listener remains');
  t.ok(wd.records().some((r) => r.msg === 'draining'));
});

t.test('SIGINT drains without the healthcheck wait', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', healthcheck_interval: '20s' });
  const started = Date.now();
  wd.proc.kill('SIGINT');
  t.same(await wd.exited, { code: 0, signal: null });
  t.ok(Date.now() - started < 5000, 'did not wait 20 s');
});

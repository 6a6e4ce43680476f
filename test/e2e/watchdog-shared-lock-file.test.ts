// Watchdogs sharing one $TMPDIR share its .lock. The lock holds its owner's PID; a watchdog
// removes only a lock it owns, health never depends on another process's lock, and a survivor takes the lock
// over once its owner is gone. Deleting a watchdog's own lock still fails its health (the OpenFaaS exec probe).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { startWatchdog } from '../helpers/start-watchdog.js';

const health = async (url: string): Promise<number> => {
  const res = await request(`${url}/_/health`);
  await res.body.dump();
  return res.statusCode;
};
const lockPid = (dir: string): number | undefined => (existsSync(join(dir, '.lock')) ? Number(readFileSync(join(dir, '.lock'), 'utf8').trim()) : undefined);

t.test('stopping the first of two watchdogs on one TMPDIR leaves the second healthy, and it takes the lock', async (t) => {
  const dir = t.testdir();
  const first = await startWatchdog(t, { fprocess: 'cat', TMPDIR: dir, healthcheck_interval: '100ms' });
  t.equal(lockPid(dir), first.pid, 'the lock holds the PID of the watchdog that wrote it');
  const second = await startWatchdog(t, { fprocess: 'cat', TMPDIR: dir, healthcheck_interval: '100ms' });
  t.equal(lockPid(dir), first.pid, 'a second watchdog leaves a live owner\'s lock alone');
  t.equal(await health(second.url), 200);
  await first.stop('SIGTERM');
  t.equal(await health(second.url), 200, 'the second stays healthy after the first removed its lock');
  t.equal(lockPid(dir), second.pid, 'the survivor took the lock over');
  t.equal(await health(second.url), 200, 'and stays healthy');
  await second.stop('SIGTERM');
  t.notOk(existsSync(join(dir, '.lock')), 'the last one removes its own lock');
});

t.test('stopping the second leaves the first\'s lock and health alone', async (t) => {
  const dir = t.testdir();
  const first = await startWatchdog(t, { fprocess: 'cat', TMPDIR: dir, healthcheck_interval: '100ms' });
  const second = await startWatchdog(t, { fprocess: 'cat', TMPDIR: dir, healthcheck_interval: '100ms' });
  await second.stop('SIGTERM');
  t.equal(lockPid(dir), first.pid, 'not removed by a watchdog that does not own it');
  t.equal(await health(first.url), 200);
});

t.test('a stale lock (its PID is gone) is replaced; deleting a watchdog\'s own lock fails its health', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, '.lock'), 'not a pid\n');
  const wd = await startWatchdog(t, { fprocess: 'cat', TMPDIR: dir, healthcheck_interval: '100ms' });
  t.equal(lockPid(dir), wd.pid, 'the stale lock was replaced');
  t.equal(await health(wd.url), 200);
  rmSync(join(dir, '.lock'));
  t.equal(await health(wd.url), 503, 'its own lock deleted: unhealthy, as the exec probe of OpenFaaS expects');
});

// Items 3 and 4: exec_timeout and client disconnects kill the handler's whole process group.
import { readFileSync, existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import t from 'tap';
import { request } from 'undici';
import { groupMembers } from '../helpers/processes.js';
import { handler, startWatchdog } from '../helpers/start-watchdog.js';
import { waitFor } from '../helpers/wait.js';

for (const mode of ['serializing', 'streaming'] as const) {
  t.test(`${mode}: exec_timeout=1s with a background grandchild answers 504 within 1.5 s and leaves no process of the group`, async (t) => {
    const dir = t.testdir();
    const pidFile = `${dir}/pid`;
    const wd = await startWatchdog(t, { fprocess: `sh ${handler('grandchild.sh')}`, exec_timeout: '1s', mode, PID_FILE: pidFile });
    const started = Date.now();
    const res = await request(`${wd.url}/`, { method: 'POST', body: '' });
    const elapsed = Date.now() - started;
    t.equal(res.statusCode, 504);
    t.equal(res.headers['x-openfaas-internal'], 'watchdog');
    t.equal(res.headers['x-watchdog-error'], 'WD_ERR_EXEC_TIMEOUT');
    await res.body.dump();
    t.ok(elapsed < 1500, `answered after ${elapsed} ms`);
    t.ok(elapsed >= 950, 'not before exec_timeout');
    const pgid = Number(readFileSync(pidFile, 'utf8'));
    t.ok(pgid > 1);
    const left = await waitFor(() => groupMembers(pgid).length === 0 || undefined, 1000, `group ${pgid} to be empty`).catch(() => groupMembers(pgid));
    t.equal(left, true, `no process left in group ${pgid}`);
  });

  t.test(`${mode}: a client that disconnects mid-request gets its process group killed within 1 s`, async (t) => {
    const dir = t.testdir();
    const pidFile = `${dir}/pid`;
    const wd = await startWatchdog(t, { fprocess: `sh ${handler('grandchild.sh')}`, mode, PID_FILE: pidFile });
    const req = httpRequest(`${wd.url}/`, { method: 'POST' });
    req.on('error', () => {});
    req.write('partial body, never finished');
    // The shell creates the file before `echo` writes it: an empty file is not yet a pid (Number('') is 0, the
    // kernel threads' group, which never empties).
    const pgid = Number(await waitFor(() => (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim()) || undefined, 5000, 'the handler to start'));
    await waitFor(() => groupMembers(pgid).length >= 2 || undefined, 5000, 'the grandchild to start');
    req.destroy();
    const gone = Date.now();
    await waitFor(() => groupMembers(pgid).length === 0 || undefined, 1000, `group ${pgid} to be empty`);
    t.ok(Date.now() - gone <= 1000, 'group gone within 1 s');
    await waitFor(() => wd.records().find((r) => r.msg === 'function killed' && r.reason === 'aborted'), 2000, 'the kill to be logged');
  });
}

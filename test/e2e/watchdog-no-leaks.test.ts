// 20,000 requests through a real watchdog leave nothing behind: no zombie children, the watchdog's
// open fds back where they were, RSS flat. Killed handlers (exec_timeout) leave nothing either.
// posix_spawn gets the 20,000; child_process (WHIPPET_SPAWN_BACKEND=child_process) forks the whole
// watchdog per request, so it gets fewer to stay bounded in time.
import { readdirSync } from 'node:fs';
import t from 'tap';
import { Pool } from 'undici';
import { childrenOf, statusKb } from '../helpers/processes.js';
import { startWatchdog, type Watchdog } from '../helpers/start-watchdog.js';
import { waitFor } from '../helpers/wait.js';

const FORKS_THE_NODE_PROCESS = process.env.WHIPPET_SPAWN_BACKEND === 'child_process';
const REQUESTS = FORKS_THE_NODE_PROCESS ? 2_000 : 20_000;
const CONNECTIONS = 8;
const BODY = 'hello world, this is a small body';
// Bounded by count, not by time: 20,000 requests take 23-28 s where a spawn costs ~0.5 ms and 70-75 s where
// the host makes it cost ~3 ms (a nested VM whose page faults cost 15 µs each). 10 minutes for the file.
t.setTimeout(600_000);

const fds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const rssMb = (pid: number): number => statusKb(pid, 'VmRSS') / 1024;

/** `count` POSTs over CONNECTIONS keep-alive connections; returns the statuses seen, by count. */
async function drive(wd: Watchdog, count: number): Promise<Record<number, number>> {
  const pool = new Pool(wd.url, { connections: CONNECTIONS });
  const statuses: Record<number, number> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next++ < count) {
      const res = await pool.request({ path: '/', method: 'POST', body: BODY, headers: { 'content-type': 'text/plain' } });
      const text = await res.body.text();
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      if (res.statusCode === 200 && text !== BODY) throw new Error(`cat answered ${JSON.stringify(text)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  } finally {
    await pool.close();
  }
  return statuses;
}

/** Once idle, the last handlers are reaped and their fds closed within a moment: wait for it, bounded. */
const settle = (wd: Watchdog, fdLimit: number): Promise<unknown> =>
  waitFor(() => childrenOf(wd.pid).living.length === 0 && childrenOf(wd.pid).zombies.length === 0 && fds(wd.pid) <= fdLimit, 5000, 'the last handlers to be reaped')
    .catch(() => undefined); // the assertions below say what is left

/** The watchdog's fd count once it has held still for 200 ms: the baseline, without sockets of the last
 * requests that are still closing (on child_process each handler also has socketpairs to close). */
async function steadyFds(wd: Watchdog): Promise<number> {
  let last = fds(wd.pid);
  let since = Date.now();
  await waitFor(() => {
    const n = fds(wd.pid);
    if (n !== last) { last = n; since = Date.now(); }
    return Date.now() - since >= 200;
  }, 5000, 'a steady fd count').catch(() => undefined);
  return last;
}

for (const mode of ['serializing', 'streaming']) {
  t.test(`${mode}: ${REQUESTS} requests leave no zombies, no extra fds, flat RSS`, async (t) => {
    // Small heap limits make V8 collect often, so RSS follows live memory: heap growth would otherwise hide a leak.
    const wd = await startWatchdog(t, { fprocess: 'cat', mode, NODE_OPTIONS: '--max-semi-space-size=1 --max-old-space-size=32' });
    t.same(await drive(wd, REQUESTS / 10), { 200: REQUESTS / 10 }, 'warm-up: every request answered 200'); // JIT, heap growth
    await settle(wd, Infinity);
    const fdsBefore = await steadyFds(wd);
    const rss: number[] = [];
    const started = Date.now();
    for (let quarter = 0; quarter < 4; quarter++) {
      t.same(await drive(wd, REQUESTS / 4), { 200: REQUESTS / 4 }, `quarter ${quarter + 1}: every request answered 200`);
      rss.push(rssMb(wd.pid));
    }
    const seconds = (Date.now() - started) / 1000;
    await settle(wd, fdsBefore);
    t.comment(`${REQUESTS} requests in ${seconds.toFixed(1)} s (${(REQUESTS / seconds).toFixed(0)}/s); watchdog RSS by quarter ${rss.map((m) => m.toFixed(1)).join(' / ')} MB`);
    t.same(childrenOf(wd.pid), { zombies: [], living: [] }, 'no zombie (or leftover) children');
    t.equal(fds(wd.pid), fdsBefore, 'open fds back where they started');
    // Noise is a few MB (V8 and malloc give memory back late); a leak of 1 KB a request would add 15 MB.
    const growth = rss[3]! - Math.min(...rss);
    t.ok(growth < 10, `RSS grew by ${growth.toFixed(1)} MB over the lowest reading (limit 10 MB)`);
    t.ok(rss[3]! <= Math.max(...rss.slice(0, 3)) + 2, 'the last reading is no new high (a leak grows every quarter)');
  });
}

t.test('handlers killed at exec_timeout leave no zombies and no fds', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'sleep 5', exec_timeout: '50ms' });
  await drive(wd, 16);
  await settle(wd, Infinity);
  const fdsBefore = await steadyFds(wd);
  t.same(await drive(wd, 200), { 504: 200 }, 'every request timed out with 504');
  await settle(wd, fdsBefore);
  t.same(childrenOf(wd.pid), { zombies: [], living: [] }, 'no zombie (or leftover) children');
  t.equal(fds(wd.pid), fdsBefore, 'open fds back where they started');
});

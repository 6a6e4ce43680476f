// http mode: a watchdog killed with SIGKILL runs no code, so nothing of its own can stop the function process;
// the spawn path must see to it that the process dies too and its port is free for the restarted watchdog.
import { createServer } from 'node:net';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { freePort, handler, pollStatus, startWatchdog } from '../helpers/start-watchdog.js';
import { alive, killIfAlive } from '../helpers/processes.js';
import { holdsWithin } from '../helpers/wait.js';

/** How long after the watchdog's death the upstream may still live (the kernel or a watcher has to act). */
const BOUND_MS = 2000;

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

const UPSTREAM = `${process.execPath} ${handler('upstream.mjs')}`;

async function killWatchdogAndWatch(t: Test, env: Record<string, string>, fprocess = UPSTREAM): Promise<void> {
  const upstreamPort = await freePort();
  const wd = await startWatchdog(t, {
    mode: 'http',
    fprocess,
    upstream_url: `http://127.0.0.1:${upstreamPort}`,
    UPSTREAM_PORT: String(upstreamPort),
    ...env,
  });
  t.ok(await pollStatus(`${wd.url}/_/health`, 200, 10_000), 'healthy once the upstream listens');
  const upstream = Number(await (await request(`${wd.url}/pid`)).body.text());
  t.ok(upstream > 1 && alive(upstream), `the upstream runs (pid ${upstream})`);
  // Whatever happens below, the upstream does not outlive the test.
  t.teardown(() => killIfAlive(upstream));
  t.notOk(await portFree(upstreamPort), 'the upstream holds its port');

  process.kill(wd.pid, 'SIGKILL');
  await wd.exited;
  const killedAt = Date.now();
  const gone = await holdsWithin(() => !alive(upstream), BOUND_MS);
  t.ok(gone, `the upstream is gone within ${BOUND_MS} ms of the watchdog's SIGKILL (${Date.now() - killedAt} ms)`);
  // Closing the sockets of a killed process may finish a moment after /proc shows it dead.
  const free = await holdsWithin(() => portFree(upstreamPort), Math.max(0, BOUND_MS - (Date.now() - killedAt)));
  t.ok(free, `its port is free (${Date.now() - killedAt} ms)`);
}

t.test('a SIGKILLed watchdog takes its http-mode function process with it', (t) => killWatchdogAndWatch(t, {}));

// The native backend's last method (glibc posix_spawn) cannot set anything in the child before exec.
t.test('also when the native backend makes children with posix_spawn', (t) =>
  killWatchdogAndWatch(t, { spawn_method: 'posix_spawn' }));

// The server is not the function process itself but its child, in its process group: the group must go.
t.test('also when the function process is a shell that runs the server as its child', (t) =>
  killWatchdogAndWatch(t, {}, `sh -c "${UPSTREAM}; exit 0"`));

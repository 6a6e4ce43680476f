// 2,000 requests over 50 concurrent connections all succeed, and afterwards the
// router's open sockets go back to what it had when idle (client and upstream keep-alives close).
import t from 'tap';
import { Pool } from 'undici';
import { socketCount, startRouter, startWatchdog } from '../helpers/start-router.js';
import { fileURLToPath } from 'node:url';
import { deadPort } from '../helpers/start-router.js';
import { holdsWithin } from '../helpers/wait.js';

const HTTP_FN = fileURLToPath(new URL('../router/fixtures/http-fn.mjs', import.meta.url));
const TOTAL = 2000;
const CONNECTIONS = 50;

t.test('2,000 requests over 50 connections, then back to idle sockets', async (t) => {
  const fnPort = await deadPort();
  const wd = await startWatchdog(t, { mode: 'http', fprocess: `node ${HTTP_FN}`, upstream_url: `http://127.0.0.1:${fnPort}`, FN_PORT: String(fnPort) });
  const router = await startRouter(t, { functions: `api=${wd.url}` });
  const idle = await socketCount(router.pid);

  const pool = new Pool(router.url, { connections: CONNECTIONS, pipelining: 1 });
  let next = 0;
  const statuses = new Map<number, number>();
  const worker = async (): Promise<void> => {
    while (next < TOTAL) {
      const i = next++;
      const res = await pool.request({ path: `/function/api/n/${i}`, method: 'POST', body: String(i) });
      const body = await res.body.json() as { url: string; body: string };
      const ok = res.statusCode === 200 && body.url === `/n/${i}` && body.body === String(i);
      statuses.set(ok ? 200 : res.statusCode, (statuses.get(ok ? 200 : res.statusCode) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  t.same(Object.fromEntries(statuses), { 200: TOTAL }, 'every request answered 200 with its own body');
  const busy = await socketCount(router.pid);
  t.comment(`router sockets: idle ${idle}, after load ${busy}`);
  await pool.close();

  // Client keep-alives close when the pool does; upstream ones after undici's 4 s keep-alive.
  let now = busy;
  await holdsWithin(async () => (now = await socketCount(router.pid)) <= idle, 20_000, 250);
  t.equal(now, idle, `router sockets back to ${idle} (were ${busy} after the load)`);
});

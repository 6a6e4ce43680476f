// With workers=2 the router is a primary and two worker processes sharing one port: every route answers
// whichever worker takes the connection; /metrics and /system/functions count the requests of both;
// async calls accepted by either worker run once each (the primary's one async worker); SIGKILL of one
// worker leaves the other serving while the primary replaces it; SIGTERM lets an in-flight request finish.
import t from 'tap';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { childrenOf, killIfAlive } from '../helpers/processes.js';
import { startRouter, startUpstream, type Started } from '../helpers/start-router.js';
import { waitForCall } from '../helpers/async-calls.js';
import { waitFor } from '../helpers/wait.js';

interface Answer { status: number; body: string; headers: IncomingMessage['headers'] }

/** One keep-alive connection to the router, and the worker process that holds its server side. */
interface Connection { agent: Agent; pid: number }

function send(agent: Agent, port: number, method: string, path: string, body = ''): Promise<Answer & { localPort: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ agent, host: '127.0.0.1', port, method, path, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers, localPort: req.socket!.localPort! }));
    });
    req.on('error', reject).end(body);
  });
}

/** The pid among `pids` holding the server side of the TCP connection 127.0.0.1:clientPort → 127.0.0.1:serverPort. */
function serverSideOwner(serverPort: number, clientPort: number, pids: readonly number[]): number | undefined {
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
  const line = readFileSync('/proc/net/tcp', 'utf8').split('\n')
    .find((l) => { const f = l.trim().split(/\s+/); return f[1]?.endsWith(`:${hex(serverPort)}`) && f[2]?.endsWith(`:${hex(clientPort)}`); });
  const inode = line?.trim().split(/\s+/)[9];
  if (inode === undefined) return undefined;
  return pids.find((pid) => {
    try { return readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`); } catch { return false; }
  });
}

const workerPids = (router: Started): number[] => childrenOf(router.pid).living.sort();

/** New keep-alive connections until one is held by each worker (the primary hands connections out in turn). */
async function oneConnectionPerWorker(router: Started): Promise<Connection[]> {
  const pids = workerPids(router);
  const byPid = new Map<number, Connection>();
  for (let tries = 0; tries < 20 && byPid.size < pids.length; tries++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const res = await send(agent, router.port, 'GET', '/healthz');
    const pid = serverSideOwner(router.port, res.localPort, pids);
    if (pid !== undefined && !byPid.has(pid)) byPid.set(pid, { agent, pid });
    else agent.destroy();
  }
  return [...byPid.values()];
}

async function startFunctionAndRouter(t: { teardown(fn: () => unknown): void }): Promise<{ router: Started; seen: Map<string, number>; dir: string }> {
  const seen = new Map<string, number>(); // X-Call-Id → invocations
  const fn = await startUpstream(t, (req, res) => {
    const id = String(req.headers['x-call-id'] ?? '');
    seen.set(id, (seen.get(id) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      const wait = req.url?.startsWith('/slow') === true ? 1500 : 0;
      setTimeout(() => res.end(`echo:${Buffer.concat(chunks).toString()}`), wait);
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'whippet-workers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const router = await startRouter(t, { workers: '2', functions: `fn=${fn.url}`, queue: `sqlite:${join(dir, 'queue.db')}` });
  // The helper's teardown stops the primary; a worker left behind (a failed assertion mid-way) goes too.
  t.teardown(() => { for (const pid of workerPids(router)) killIfAlive(pid); });
  return { router, seen, dir };
}

t.test('two workers: every route, summed metrics, async calls once each, a killed worker replaced', async (t) => {
  const { router, seen } = await startFunctionAndRouter(t);
  const first = workerPids(router);
  t.equal(first.length, 2, 'the primary runs two worker processes');
  t.match(router.logs(), /"msg":"listening"[^\n]*"process":"primary"[^\n]*"workers":2/, 'the primary announces the port once both listen');

  const conns = await oneConnectionPerWorker(router);
  t.same(conns.map((c) => c.pid).sort(), first, 'new connections reach both workers');

  // Every route, on each worker.
  for (const { agent, pid } of conns) {
    const sync = await send(agent, router.port, 'POST', '/function/fn/x?y=1', `from ${pid}`);
    t.same([sync.status, sync.body], [200, `echo:from ${pid}`], `sync call through worker ${pid}`);
    for (const path of ['/healthz', '/system/functions', '/system/function/fn', '/system/info', '/system/calls', '/metrics', '/ui/']) {
      const res = await send(agent, router.port, 'GET', path);
      t.equal(res.status, 200, `GET ${path} through worker ${pid}`);
    }
    t.equal((await send(agent, router.port, 'GET', '/function/nope')).status, 404, `unknown function through worker ${pid}`);
  }

  // N sync requests split over the two workers: the aggregated counters say N (+ the 2 above).
  const N = 40;
  await Promise.all(conns.map(async ({ agent }) => {
    for (let i = 0; i < N / 2; i++) t.equal((await send(agent, router.port, 'POST', '/function/fn', 'n')).status, 200);
  }));
  const metrics = await (await request(`${router.url}/metrics`)).body.text();
  t.match(metrics, new RegExp(`^gateway_function_invocation_total\\{function_name="fn",code="200"\\} ${N + 2}$`, 'm'), 'invocations of both workers summed');
  t.match(metrics, new RegExp(`^gateway_function_invocation_started\\{function_name="fn"\\} ${N + 2}$`, 'm'));
  t.match(metrics, new RegExp(`^gateway_functions_seconds_count\\{function_name="fn",code="200"\\} ${N + 2}$`, 'm'));
  t.match(metrics, /^# TYPE queue_depth gauge$/m, 'queue_depth, from the primary');
  t.equal(metrics.match(/^# TYPE gateway_function_invocation_total counter$/gm)?.length, 1, 'one family, not one per process');
  const fns = JSON.parse((await send(conns[0]!.agent, router.port, 'GET', '/system/functions')).body) as Array<{ name: string; invocationCount: number; invocationsByCode: Record<string, number> }>;
  t.same(fns.map((f) => [f.name, f.invocationCount, f.invocationsByCode['200']]), [['fn', N + 2, N + 2]], '/system/functions counts both workers');

  // Async calls accepted by each worker: all run, each once.
  const ids: string[] = [];
  await Promise.all(conns.map(async ({ agent, pid }) => {
    for (let i = 0; i < 5; i++) {
      const res = await send(agent, router.port, 'POST', '/async-function/fn', `async ${pid} ${i}`);
      t.equal(res.status, 202, `async call accepted by worker ${pid}`);
      ids.push(String(res.headers['x-call-id']));
    }
  }));
  for (const id of ids) await waitForCall(router.url, id, (c) => c.status === 'succeeded', 20_000, `call ${id} succeeded`);
  t.same(ids.map((id) => seen.get(id)), ids.map(() => 1), 'each accepted call invoked exactly once');
  t.equal(router.logs().match(/"msg":"async calls enabled"[^\n]*"worker":true/g)?.length, 1, 'one async worker, in the primary');
  for (const c of conns) c.agent.destroy();

  // SIGKILL one worker: the other keeps serving; the primary forks a replacement.
  const [victim, survivor] = first as [number, number];
  process.kill(victim, 'SIGKILL');
  // A connection the primary hands to the victim in the instant before it learns of the death is reset
  // (docs/router.md); from its log line on, connections go to the survivor only.
  await waitFor(() => /"msg":"worker exited, replacing it"/.test(router.logs()), 5_000, 'the primary noticed the death');
  for (let i = 0; i < 6; i++) {
    const res = await request(`${router.url}/function/fn`, { method: 'POST', body: 'still', reset: true });
    t.equal(res.statusCode, 200, 'answered while a worker is down');
    await res.body.dump();
  }
  const after = await waitFor(() => {
    const now = workerPids(router);
    const listening = router.logs().match(/"msg":"worker started"/g)?.length ?? 0; // the primary logs it once the worker listens
    return now.length === 2 && !now.includes(victim) && listening === 3 ? now : undefined;
  }, 15_000, 'two listening workers again');
  t.ok(after.includes(survivor), 'the survivor kept running');
  t.match(router.logs(), /"msg":"worker exited, replacing it"[^\n]*"signal":"SIGKILL"/, 'the primary says why it forked a new worker');
  const replaced = await oneConnectionPerWorker(router);
  t.same(replaced.map((c) => c.pid).sort(), after, 'the replacement takes connections');
  for (const c of replaced) {
    t.equal((await send(c.agent, router.port, 'POST', '/function/fn', 'new')).status, 200);
    c.agent.destroy();
  }
});

t.test('SIGTERM: an in-flight request finishes, then every process exits', async (t) => {
  const { router } = await startFunctionAndRouter(t);
  const workers = workerPids(router);
  const slow = request(`${router.url}/function/fn/slow`, { method: 'POST', body: 'late' });
  await waitFor(() => router.logs().length > 0, 1000, 'router up'); // the request is on its way
  await new Promise((resolve) => setTimeout(resolve, 300)); // the slow call is in the function now
  const exited = router.stop('SIGTERM');
  const res = await slow;
  t.same([res.statusCode, await res.body.text()], [200, 'echo:late'], 'the in-flight request got its answer');
  t.equal(await exited, 0, 'the primary exits 0 after the drain');
  t.same(workers.filter((pid) => { try { process.kill(pid, 0); return true; } catch { return false; } }), [], 'no worker left');
  t.match(router.logs(), /"msg":"stopped"[^\n]*"process":"worker-/, 'the workers drained');
});

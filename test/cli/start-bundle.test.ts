// The start bundles (cli/start-bundle.cts, made by cli/build-start-bundle.mjs): the build leaves code caches this
// Node takes, a cache from another build or a damaged one is refused without harm, and `whippet watchdog` and
// `whippet router` started from them serve, count and drain. The probes run in child processes without
// NODE_OPTIONS: under tap's coverage loader the CLI runs the modules, not the bundle.

import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { request } from 'undici';
import { freePort } from '../../common/free-port.js';
import { childEnv, startCli } from '../helpers/cli-process.js';
import { startUpstream } from '../helpers/start-router.js';

const START = fileURLToPath(new URL('../../dist/cli/start/', import.meta.url));
const LOADER = new URL('../../dist/cli/start-bundle.cjs', import.meta.url).href;

/** codeCache and typeof start of loadStartBundle(name, { dir }) in a fresh, uninstrumented node. */
async function probe(dir?: string, name = 'watchdog'): Promise<{ codeCache: string; start: string }> {
  const script = `import { loadStartBundle } from ${JSON.stringify(LOADER)};
const b = loadStartBundle(${JSON.stringify(name)}, ${dir === undefined ? '{}' : JSON.stringify({ dir })});
process.stdout.write(JSON.stringify({ codeCache: b.codeCache, start: typeof b.start }));`;
  const { stdout } = await promisify(execFile)('env', ['-u', 'NODE_OPTIONS', process.execPath, '--input-type=module', '-e', script], { env: childEnv({}), timeout: 20_000 });
  return JSON.parse(stdout) as { codeCache: string; start: string };
}

t.test('the build leaves code caches that this Node takes', async (t) => {
  t.same(await probe(undefined, 'watchdog'), { codeCache: 'used', start: 'function' }, 'watchdog');
  // Made and taken with the router's --liftoff-only (common/wasm-tier.ts), which the loader sets first.
  t.same(await probe(undefined, 'router'), { codeCache: 'used', start: 'function' }, 'router');
});

t.test('a cache of another build, a damaged one or none: the bundle is compiled as usual', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'whippet-start-bundle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(START, 'watchdog.cjs'), join(dir, 'watchdog.cjs'));
  const cache = readFileSync(join(START, 'watchdog.cache'));
  t.same(await probe(dir), { codeCache: 'none', start: 'function' }, 'no cache');
  const other = Buffer.from(cache);
  other.write('0000000000000000', 0, 'latin1'); // another build id
  writeFileSync(join(dir, 'watchdog.cache'), other);
  t.same(await probe(dir), { codeCache: 'refused', start: 'function' }, 'another build');
  writeFileSync(join(dir, 'watchdog.cache'), cache.subarray(0, cache.length >> 1)); // the right id, half the data
  t.same(await probe(dir), { codeCache: 'refused', start: 'function' }, 'cut short');
});

t.test('whippet watchdog from the start bundle serves, forks, counts and drains', async (t) => {
  const metricsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'whippet-start-bundle-wd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const wd = await startCli(t, 'watchdog', { fprocess: 'cat', metrics_port: String(metricsPort), TMPDIR: dir }, [], 20_000, { uninstrumented: true });
  const health = await request(`${wd.url}/_/health`);
  t.equal(health.statusCode, 200);
  t.equal(await health.body.text(), 'OK\n');
  const echo = await request(wd.url, { method: 'POST', body: 'hello' });
  t.equal(echo.statusCode, 200);
  t.equal(await echo.body.text(), 'hello');
  const metrics = await request(`http://127.0.0.1:${metricsPort}/metrics`);
  const text = await metrics.body.text();
  t.match(text, /http_requests_total\{code="200",method="post"\} 1/);
  t.match(text, /process_cpu_seconds_total/, 'the default process metrics, loaded at the first scrape');
  t.equal(await wd.stop('SIGINT'), 0);
  t.match(wd.logs(), /"msg":"stopped"/);
});

t.test('whippet router from the start bundle proxies, queues an async call, counts and drains', async (t) => {
  const fn = await startUpstream(t, (req, res) => { req.pipe(res); });
  const dir = mkdtempSync(join(tmpdir(), 'whippet-start-bundle-router-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const router = await startCli(t, 'router', { functions: `echo=${fn.url}`, queue: `sqlite:${join(dir, 'queue.db')}` }, [], 20_000, { uninstrumented: true });
  const sync = await request(`${router.url}/function/echo`, { method: 'POST', body: 'hello' });
  t.equal(sync.statusCode, 200);
  t.equal(await sync.body.text(), 'hello');
  const healthz = await request(`${router.url}/healthz`);
  t.equal(healthz.statusCode, 200);
  await healthz.body.dump();
  const before = fn.requests.length;
  const accepted = await request(`${router.url}/async-function/echo`, { method: 'POST', body: 'later' });
  t.equal(accepted.statusCode, 202);
  await accepted.body.dump();
  for (let i = 0; i < 200 && fn.requests.length === before; i++) await new Promise((r) => setTimeout(r, 25));
  t.equal(fn.requests.length, before + 1, 'the in-process worker called the function');
  const metrics = await (await request(`${router.url}/metrics`)).body.text();
  t.match(metrics, /gateway_function_invocation_total\{[^}]*function_name="echo"[^}]*\} 1/);
  t.equal(await router.stop('SIGINT'), 0);
});

// Every example in examples/stack.yml, assembled as `whippet build` would (template + handler in
// function/) and run as the watchdog would, with the Dockerfile's ENV plus the stack's environment.

import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseDuration } from '../../common/duration.js';
import { assembleBuildFolder, folderEnv, REPO, runFprocess, startHttpEntry, stopChild, TEMPLATES, type ForkRequest } from '../helpers/templates.js';

interface StackFunction { lang: string; handler: string; environment?: Record<string, string | number> }
const stackPath = join(REPO, 'examples', 'stack.yml');
const stack = parse(readFileSync(stackPath, 'utf8')) as {
  version: unknown; provider: { name: string; gateway: string }; functions: Record<string, StackFunction>;
};

t.test('stack.yml is in OpenFaaS form and every function has a template and a handler folder', async (t) => {
  t.equal(String(stack.version), '1');
  t.same(stack.provider, { name: 'openfaas', gateway: 'http://127.0.0.1:8080' });
  t.same(Object.keys(stack.functions).sort(), ['echo', 'fail', 'hello', 'receiver', 'slow', 'wordcount']);
  for (const [name, fn] of Object.entries(stack.functions)) {
    t.ok((TEMPLATES as readonly string[]).includes(fn.lang), `${name}: lang ${fn.lang} is a template`);
    t.ok(existsSync(join(REPO, 'examples', fn.handler)), `${name}: handler ${fn.handler} exists beside stack.yml`);
    t.match(name, /^[-a-zA-Z_0-9.]+$/, `${name}: a valid function name`);
  }
  t.equal(parseDuration(String(stack.functions.slow!.environment!.exec_timeout)), 2000, 'slow runs with exec_timeout 2s');
});

/** Assembles one example and runs it once with its stack environment on top of the Dockerfile's ENV. */
function buildExample(dir: string, name: string): { folder: string; env: Record<string, string> } {
  const fn = stack.functions[name]!;
  const folder = assembleBuildFolder(fn.lang, dir, join(REPO, 'examples', fn.handler));
  const env = Object.fromEntries(Object.entries(fn.environment ?? {}).map(([k, v]) => [k, String(v)]));
  return { folder, env };
}
async function call(dir: string, name: string, req: ForkRequest = {}) {
  const { folder, env } = buildExample(dir, name);
  return runFprocess(folder, { ...req, env: { ...env, ...req.env } });
}

t.test('echo returns the body unchanged', async (t) => {
  const body = Buffer.from([0x68, 0x69, 0x0a, 0x00, 0xff, 0xfe, 0x0d, 0x0a]);
  const res = await call(t.testdir(), 'echo', { body });
  t.equal(res.code, 0, res.stderr);
  t.ok(res.stdout.equals(body), `byte for byte: ${res.stdout.toString('hex')}`);
});

t.test('wordcount counts lines, words and bytes like wc', async (t) => {
  const dir = t.testdir();
  const res = await call(dir, 'wordcount', { body: 'one two\nthree  héllo\n\nfour' });
  t.equal(res.code, 0, res.stderr);
  t.equal(res.stdout.toString(), '{"lines":3,"words":5,"bytes":27}\n');
  const empty = await call(t.testdir(), 'wordcount');
  t.same(JSON.parse(empty.stdout.toString()), { lines: 0, words: 0, bytes: 0 });
});

t.test('hello greets by name from JSON, the world when empty, fails on bad JSON', async (t) => {
  const ada = await call(t.testdir(), 'hello', { body: '{"name": "Ada"}' });
  t.equal(ada.code, 0, ada.stderr);
  t.equal(ada.stdout.toString(), '{"message": "Hello, Ada!"}\n');
  const world = await call(t.testdir(), 'hello');
  t.equal(world.stdout.toString(), '{"message": "Hello, world!"}\n');
  const bad = await call(t.testdir(), 'hello', { body: 'not json' });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^JSONDecodeError: /);
  const list = await call(t.testdir(), 'hello', { body: '[1]' });
  t.equal(list.code, 1);
  t.match(list.stderr, /ValueError: expected a JSON object/);
});

t.test('slow sleeps the seconds from the query, else from the body', async (t) => {
  const q = await call(t.testdir(), 'slow', { query: 'x=1&seconds=0.4' });
  t.equal(q.code, 0, q.stderr);
  t.equal(q.stdout.toString(), 'slept 0.4s\n');
  t.ok(q.elapsedMs >= 400, `took ${Math.round(q.elapsedMs)} ms`);
  const b = await call(t.testdir(), 'slow', { body: ' 0.2\n' });
  t.equal(b.stdout.toString(), 'slept 0.2s\n');
  t.ok(b.elapsedMs >= 200, `took ${Math.round(b.elapsedMs)} ms`);
});

t.test('fail writes to stderr and exits 1', async (t) => {
  const res = await call(t.testdir(), 'fail', { body: 'anything' });
  t.equal(res.code, 1);
  t.equal(res.stdout.length, 0);
  t.equal(res.stderr, 'fail: about to fail on purpose\nthis function always fails\n');
});

t.test('receiver keeps the last callbacks with headers and body, lists them on GET', async (t) => {
  const { folder, env } = buildExample(t.testdir(), 'receiver');
  t.equal(folderEnv(folder).mode, 'http');
  const entry = await startHttpEntry(folder, { ...env, keep_callbacks: '2', http_port: '0' });
  t.teardown(() => stopChild(entry.child));

  const empty = await fetch(`${entry.url}/`);
  t.equal(empty.status, 200);
  t.same(await empty.json(), []);
  for (const n of [1, 2, 3]) {
    const res = await fetch(`${entry.url}/cb?n=${n}`, {
      method: 'POST', body: `result ${n}`,
      headers: { 'X-Call-Id': `call-${n}`, 'X-Function-Name': 'echo', 'X-Function-Status': '200' },
    });
    t.equal(res.status, 202);
    t.same(await res.json(), { stored: Math.min(n, 2) });
  }
  const list = await fetch(entry.url);
  t.match(list.headers.get('content-type'), /^application\/json/);
  const got = (await list.json()) as Array<Record<string, unknown>>;
  t.equal(got.length, 2, 'only the last keep_callbacks are kept');
  t.match(got, [
    { method: 'POST', path: '/cb', callId: 'call-2', functionName: 'echo', functionStatus: 200, body: 'result 2', headers: { 'x-call-id': 'call-2' } },
    { callId: 'call-3', body: 'result 3' },
  ]);
  t.match(String(got[0]!.receivedAt), /^\d{4}-\d\d-\d\dT/);

  const patch = await fetch(entry.url, { method: 'PATCH' });
  t.equal(patch.status, 405);
  t.equal(patch.headers.get('allow'), 'GET, POST, PUT, DELETE');
  t.equal((await fetch(entry.url, { method: 'DELETE' })).status, 204);
  t.same(await (await fetch(entry.url)).json(), []);
});

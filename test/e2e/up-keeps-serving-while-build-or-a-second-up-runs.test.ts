// `whippet build` (what `whippet new` suggests next) or a second `whippet up` / `npm
// start` while `whippet up` runs must not pull the folders out from under the running watchdogs. Build
// writes its own folders (never the ones up runs from, swapped in whole), and a second up is refused
// before it touches anything: the stack's lock (.whippet/up.lock) names the up that owns it, and the
// port is checked before anything is built.

import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runWhippet, startUp } from '../helpers/up-process.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function stackIn(dir: string): void {
  cpSync(join(ROOT, 'examples', 'echo'), join(dir, 'echo'), { recursive: true });
  cpSync(join(ROOT, 'examples', 'hello'), join(dir, 'hello'), { recursive: true });
  writeFileSync(join(dir, 'stack.yml'), [
    'functions:',
    '  echo: {lang: bash, handler: ./echo}',
    '  hello: {lang: python3, handler: ./hello, environment: {content_type: application/json}}',
    '',
  ].join('\n'));
}

async function call(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', body });
  return { status: res.status, text: await res.text() };
}

t.test('whippet build while up runs: every call still answers 200', { timeout: 90_000 }, async (t) => {
  const dir = t.testdir();
  stackIn(dir);
  const up = await startUp(t, dir, ['stack.yml']);
  t.same(await call(`${up.url}/function/echo`, 'before'), { status: 200, text: 'before' });

  const built = await runWhippet(['build'], { cwd: dir });
  t.equal(built.code, 0, 'whippet build', { stderr: built.stderr });
  t.match(built.stdout, /^echo: \.whippet\/build\/echo\/ \(bash\)$/m);
  t.equal(readFileSync(join(dir, '.whippet/build/echo/function/handler.sh'), 'utf8'), readFileSync(join(dir, 'echo/handler.sh'), 'utf8'), 'the build folder is complete');

  t.same(await call(`${up.url}/function/echo`, 'after the build'), { status: 200, text: 'after the build' }, 'echo still answers');
  const hello = await call(`${up.url}/function/hello`, '{"name": "build"}');
  t.equal(hello.status, 200, 'hello (python3) still answers', { body: hello.text });
  t.notMatch(up.stderr(), /getcwd|cannot access parent/, 'no watchdog lost its working folder');

  // A second build (the folder exists now) swaps again; still nothing breaks.
  t.equal((await runWhippet(['build', 'echo'], { cwd: dir })).code, 0);
  t.same(await call(`${up.url}/function/echo`, 'after two builds'), { status: 200, text: 'after two builds' });
  t.same(await up.stop('SIGINT'), { code: 0, signal: null });
});

t.test('a second up on the same stack or port exits 1 with a clear message; the first keeps serving', { timeout: 90_000 }, async (t) => {
  const dir = t.testdir();
  stackIn(dir);
  const up = await startUp(t, dir, ['stack.yml']);
  const lock = JSON.parse(readFileSync(join(dir, '.whippet', 'up.lock'), 'utf8')) as { pid: number; url: string };
  t.same(lock, { pid: up.pid, url: up.url, stack: join(dir, 'stack.yml') }, 'the lock names the up that owns the stack');

  // Same stack, same port (a second `npm start`): the lock answers first, naming the running up.
  const same = await runWhippet(['up', 'stack.yml', '--port', String(up.port)], { cwd: dir });
  t.equal(same.code, 1, 'same stack, same port: exit 1', { stderr: same.stderr });
  t.equal(same.stderr, `whippet up: another whippet up (pid ${up.pid}, router ${up.url}) runs this stack; stop it first (Ctrl-C there, or kill ${up.pid}). Lock: .whippet/up.lock\n`);
  // Same stack, another port.
  const other = await runWhippet(['up', 'stack.yml', '--port', '0'], { cwd: dir });
  t.equal(other.code, 1, 'same stack, another port: exit 1');
  t.match(other.stderr, `another whippet up (pid ${up.pid}, router ${up.url}) runs this stack`);
  t.notMatch(other.stderr + same.stderr, /\[(echo|hello)\]/, 'no watchdog was started');

  // Another stack on the running up's port: refused before anything is built.
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere);
  stackIn(elsewhere);
  const taken = await runWhippet(['up', 'stack.yml', '--port', String(up.port)], { cwd: elsewhere });
  t.equal(taken.code, 1, 'another stack, same port: exit 1');
  t.equal(taken.stderr, `whippet up: port ${up.port} on 127.0.0.1 is in use (by another whippet up or another program); pick another with --port\n`);
  t.throws(() => readFileSync(join(elsewhere, '.whippet', 'up', 'echo', 'function', 'handler.sh')), 'nothing was built there');

  for (const [fn, body] of [['echo', 'still here'], ['hello', '{"name": "first"}']] as const) {
    const res = await call(`${up.url}/function/${fn}`, body);
    t.equal(res.status, 200, `${fn}: the first up still serves`, { body: res.text });
  }
  t.same(await up.stop('SIGINT'), { code: 0, signal: null });
  t.throws(() => readFileSync(join(dir, '.whippet', 'up.lock')), 'the lock is gone once up stopped');

  // A lock left by an up that died (kill -9) does not keep the next one out.
  writeFileSync(join(dir, '.whippet', 'up.lock'), JSON.stringify({ pid: 2 ** 22 + 1, url: 'http://127.0.0.1:1', stack: join(dir, 'stack.yml') }));
  const next = await startUp(t, dir, ['stack.yml']);
  t.same(await call(`${next.url}/function/echo`, 'stale lock taken over'), { status: 200, text: 'stale lock taken over' });
  t.match(next.stderr(), /taking over a stale lock .*pid=4194305/);
  t.same(await next.stop('SIGINT'), { code: 0, signal: null });
});

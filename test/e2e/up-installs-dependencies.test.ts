// `whippet up` installs a function's package.json and requirements.txt
// dependencies into its up folder the way the template's Dockerfile would (npm install --omit=dev, or npm
// ci with a lock; pip with a target folder put on PYTHONPATH), only when the dependency files changed, and
// where it cannot (no index, no pip) says so with the exact command instead of failing on the first call.
// The fixture needs no network: a `file:` npm dependency, an empty requirements.txt, one naming a package
// no index has.

import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runWhippet, startUp } from '../helpers/up-process.js';

const FIXTURE = new URL('../fixtures/deps/', import.meta.url).pathname;

async function call(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', body });
  return { status: res.status, text: await res.text() };
}

const installs = (stderr: string, name: string): number => stderr.split('\n').filter((l) => l.includes('installing dependencies') && l.includes(`function=${name} `)).length;

t.test('up installs what the functions declare, once, and names the command when it cannot', { timeout: 120_000 }, async (t) => {
  const dir = t.testdir();
  cpSync(FIXTURE, dir, { recursive: true });

  const first = await startUp(t, dir, ['stack.yml']);
  t.same(await call(`${first.url}/function/greeter`, 'ada'), { status: 200, text: 'hello ada, from a dependency' }, 'the node function found its file: dependency');
  t.same(await call(`${first.url}/function/plain`, 'py'), { status: 200, text: 'plain py' }, 'an empty requirements.txt needs nothing');
  const stderr = first.stderr();
  t.equal(installs(stderr, 'greeter'), 1, 'npm ran for greeter');
  t.match(stderr, /installing dependencies component=up function=greeter run="npm install --omit=dev --no-audit --no-fund --no-update-notifier" in=\.whippet\/up\/greeter\/function/);
  t.equal(installs(stderr, 'plain'), 0, 'nothing to install for plain (its requirements.txt lists nothing)');
  t.notMatch(stderr, /function=plain .*requirements/, 'and nothing said about it');

  // needs: the package cannot be fetched; up said so with the command, and started anyway.
  const warning = stderr.split('\n').find((l) => l.includes('dependencies not installed') && l.includes('function=needs '));
  t.ok(warning, 'a warning for needs', { stderr });
  t.match(warning, 'run="python3 -m pip install --upgrade --target .whippet/deps/needs/python -r needs/requirements.txt"', 'the exact command, paths relative to where up runs');
  t.match(warning, /reason="[^"]*whippet-missing-package-xyz/, 'and why pip failed');
  const took = Number(/tookMs=(\d+)/.exec(warning ?? '')?.[1]);
  t.ok(took < 20_000, `the pip attempt is bounded (${took} ms: --timeout 5 --retries 0)`);
  const needs = await call(`${first.url}/function/needs`, 'x');
  t.equal(needs.status, 500, 'needs runs without its package, as the warning said');
  t.match(needs.text, /No module named 'whippet_missing_package_xyz'/);
  // What the named command would do: the package in .whippet/deps/needs/python, first on PYTHONPATH.
  mkdirSync(join(dir, '.whippet/deps/needs/python/whippet_missing_package_xyz'), { recursive: true });
  writeFileSync(join(dir, '.whippet/deps/needs/python/whippet_missing_package_xyz/__init__.py'), 'GREETING = "installed by hand"\n');
  t.same(await call(`${first.url}/function/needs`, 'x'), { status: 200, text: 'installed by hand' }, 'the next call finds it: no restart needed');
  t.same(await first.stop('SIGINT'), { code: 0, signal: null });

  // Unchanged dependency files: nothing is installed again, greeter still works.
  const second = await startUp(t, dir, ['stack.yml']);
  t.equal(installs(second.stderr(), 'greeter'), 0, 'package.json unchanged: no npm run');
  t.match(second.stderr(), /dependencies up to date component=up function=greeter/);
  t.same(await call(`${second.url}/function/greeter`, 'bob'), { status: 200, text: 'hello bob, from a dependency' });
  t.same(await second.stop('SIGINT'), { code: 0, signal: null });

  // A changed package.json is installed again.
  const manifest = JSON.parse(readFileSync(join(dir, 'greeter', 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'greeter', 'package.json'), JSON.stringify({ ...manifest, description: 'changed' }));
  const third = await startUp(t, dir, ['stack.yml']);
  t.equal(installs(third.stderr(), 'greeter'), 1, 'package.json changed: npm ran again');
  t.same(await call(`${third.url}/function/greeter`, 'cy'), { status: 200, text: 'hello cy, from a dependency' });
  t.same(await third.stop('SIGINT'), { code: 0, signal: null });

  // build installs nothing: the image build does.
  const built = await runWhippet(['build', 'greeter'], { cwd: dir });
  t.equal(built.code, 0);
  t.throws(() => readFileSync(join(dir, '.whippet/build/greeter/function/node_modules/greet/index.js')), 'no node_modules in the docker context');
});

t.test('without pip, up says so with the command to run', { timeout: 60_000 }, async (t) => {
  const dir = t.testdir();
  cpSync(FIXTURE, dir, { recursive: true });
  writeFileSync(join(dir, 'stack.yml'), 'functions:\n  needs: {lang: python3, handler: ./needs}\n');
  // A python3 with no pip module: a wrapper that refuses `-m pip` first on PATH.
  cpSync(join(FIXTURE, 'no-pip'), join(dir, 'bin'), { recursive: true });
  const up = await startUp(t, dir, ['stack.yml'], { PATH: `${join(dir, 'bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}` });
  const warning = up.stderr().split('\n').find((l) => l.includes('dependencies not installed') && l.includes('function=needs '));
  t.match(warning, /reason="[^"]*No module named pip/);
  t.match(warning, 'run="python3 -m pip install --upgrade --target .whippet/deps/needs/python -r needs/requirements.txt"');
  t.same(await up.stop('SIGINT'), { code: 0, signal: null });
});

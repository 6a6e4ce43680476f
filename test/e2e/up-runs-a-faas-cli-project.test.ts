// A project as faas-cli leaves it runs under `whippet up` with its own templates: stack.yaml found
// without naming it, ${VAR} expanded, environment_file and fprocess read; the project's template/python3
// wins over whippet's, its Dockerfile's `ENV PATH=$PATH:...` and legacy `ENV key value` read as Docker
// reads them; http templates listen where their Dockerfile or the stack says, or on the port up picks
// (also given as http_port and PORT); up says what a slow function is waiting for.

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { freePort } from '../../common/free-port.js';
import { runWhippet, startUp } from '../helpers/up-process.js';

const FIXTURE = new URL('../fixtures/faas-template/', import.meta.url).pathname;

/** The fixture with its fixed ports (5000 in fixed-http's code, 3000 in port-reader-http's) replaced by free ones. */
async function project(dir: string): Promise<{ fixedPort: number; readerPort: number }> {
  cpSync(FIXTURE, dir, { recursive: true });
  const fixedPort = await freePort();
  const readerPort = await freePort();
  const replace = (file: string, from: string, to: number): void => {
    const path = join(dir, file);
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll(from, String(to)));
  };
  replace('template/fixed-http/index.js', '5000', fixedPort);
  replace('template/fixed-http/Dockerfile', '5000', fixedPort);
  replace('template/port-reader-http/index.js', '3000', readerPort);
  replace('template/port-reader-http/Dockerfile', '3000', readerPort);
  return { fixedPort, readerPort };
}

async function call(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', body });
  return { status: res.status, text: await res.text() };
}

t.test('up runs a faas-cli project with its own templates', { timeout: 120_000 }, async (t) => {
  const dir = t.testdir();
  const { fixedPort, readerPort } = await project(dir);
  const pinnedPort = await freePort();
  const up = await startUp(t, dir, [], { GREETING: 'hi from the environment', PINNED_PORT: String(pinnedPort) });
  t.match(up.stdout(), /^whippet up: 6 functions from stack\.yaml, router http:\/\/127\.0\.0\.1:\d+$/m, 'stack.yaml is found without naming it');
  t.match(up.stdout(), /^ {2}classic +http:\/\/\S+ +\(python3 from template\/python3, watchdog 127\.0\.0\.1:\d+, pid \d+\)$/m, 'the summary names the project template');
  t.match(up.stderr(), /function template .*function=classic template="python3 from template\/python3"/);

  const classic = await call(`${up.url}/function/classic`, 'ping');
  t.equal(classic.status, 200, 'the classic template forks python3, found on the expanded PATH', { body: classic.text });
  const seen = Object.fromEntries(classic.text.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  t.same(seen, {
    body: 'ping',
    greeting: 'hi from the environment',
    level: 'from-environment-file',
    greeting_source: 'dockerfile legacy form',
    stage: '<unset>',
    PATH: seen['PATH'],
  }, '${VAR:-default} took the environment; environment_file under environment; the final stage only');
  // python3 may be a pyenv shim, which puts its own folders first: the end is what the Dockerfile made.
  t.ok(seen['PATH']!.endsWith(`${process.env['PATH']}:/home/app/.local/bin`), 'PATH=$PATH:/home/app/.local/bin expanded from the base environment', { PATH: seen['PATH'] });

  const shout = await call(`${up.url}/function/shout`, 'quiet please');
  t.equal(shout.text.split('\n')[0], 'BODY=QUIET PLEASE', 'the stack\'s fprocess replaced the template\'s (split as the watchdog splits)');

  const fixed = JSON.parse((await call(`${up.url}/function/fixed`, 'f')).text) as Record<string, unknown>;
  t.same(fixed, { body: 'f', port: fixedPort, http_port: null, PORT: null, upstream_url: `http://127.0.0.1:${fixedPort}` },
    'a port fixed in the code works: the Dockerfile\'s upstream_url won over a picked one');
  const reader = JSON.parse((await call(`${up.url}/function/reader`, 'r')).text) as Record<string, unknown>;
  t.same(reader, { body: 'r', port: readerPort, http_port: null, PORT: null, upstream_url: `http://127.0.0.1:${readerPort}` });
  const second = JSON.parse((await call(`${up.url}/function/reader-two`, 'r2')).text) as Record<string, unknown>;
  t.not(second['port'], readerPort, 'the second function of the template does not share the first one\'s port');
  t.same(second, { body: 'r2', port: second['port'], http_port: String(second['port']), PORT: String(second['port']), upstream_url: `http://127.0.0.1:${second['port']}` },
    'a port up picks is passed as upstream_url, http_port and PORT');
  t.match(up.stderr(), new RegExp(`upstream port taken; picking a free one .*function=reader-two upstream_url=http://127.0.0.1:${readerPort}/ takenBy=reader`));
  const pinned = JSON.parse((await call(`${up.url}/function/pinned`, 'p')).text) as Record<string, unknown>;
  t.same(pinned, { body: 'p', port: pinnedPort, http_port: String(pinnedPort), PORT: null, upstream_url: `http://127.0.0.1:${pinnedPort}` }, 'the stack\'s upstream_url wins');

  const waiting = up.stderr().split('\n').find((line) => line.includes('waiting for function') && line.includes('function=reader-two'));
  t.match(waiting, /waited=\d+s health="\/_\/health answered 503" waitingFor="node index\.js to accept connections at http:\/\/127\.0\.0\.1:\d+ \(the port up picked, also in http_port and PORT\)"/,
    'a function that listens late is reported with what it waits for');
  const readyAt = up.stderr().search(/function ready .*function=reader-two/);
  t.ok(readyAt > up.stderr().indexOf(waiting!), 'the waiting line comes before the function is ready');
  t.same(await up.stop('SIGINT'), { code: 0, signal: null });
});

t.test('build without -f uses stack.yaml and names the project template', { timeout: 30_000 }, async (t) => {
  const dir = t.testdir();
  await project(dir);
  const built = await runWhippet(['build', 'classic', 'fixed'], { cwd: dir, env: { PINNED_PORT: '1' } });
  t.equal(built.code, 0, 'whippet build', { stderr: built.stderr });
  t.equal(built.stdout, [
    'classic: .whippet/build/classic/ (python3 from template/python3)',
    '  docker build -t docker.io/someone/classic:latest .whippet/build/classic',
    'fixed: .whippet/build/fixed/ (fixed-http from template/fixed-http)',
    '  docker build -t fixed:latest .whippet/build/fixed',
    '',
  ].join('\n'), '${REGISTRY:-...} took its default in image');
  t.equal(readFileSync(join(dir, '.whippet/build/classic/function/handler.py'), 'utf8'), readFileSync(join(FIXTURE, 'classic/handler.py'), 'utf8'));
  t.equal(readFileSync(join(dir, '.whippet/build/classic/index.py'), 'utf8'), readFileSync(join(FIXTURE, 'template/python3/index.py'), 'utf8'), 'the project template, not whippet\'s python3');
});

t.test('up refuses, before starting anything, what the watchdog or faas-cli\'s rules would refuse', { timeout: 30_000 }, async (t) => {
  const empty = await runWhippet(['up', '--port', '0'], { cwd: t.testdir() });
  t.equal(empty.code, 1);
  t.match(empty.stderr, /^whippet up: stack\.yaml or stack\.yml: no stack file in \S+: name one, or create stack\.yaml/);

  const dir = t.testdir();
  await project(dir);
  writeFileSync(join(dir, 'stack.yaml'), [
    'functions:',
    '  classic: {lang: python3, handler: ./classic, environment: {exec_timeout: soon}}',
    '  pinned: {lang: port-reader-http, handler: ./reader, environment: {upstream_url: "http://127.0.0.1:${PORT_A}"}}',
    '  again: {lang: port-reader-http, handler: ./reader, environment: {upstream_url: "http://127.0.0.1:${PORT_A}"}}',
    '',
  ].join('\n'));
  const bad = await runWhippet(['up', '--port', '0'], { cwd: dir, env: { PORT_A: '4444' } });
  t.equal(bad.code, 1);
  t.equal(bad.stderr, [
    'whippet up: stack.yaml: ',
    '  functions.classic: exec_timeout (env exec_timeout): expected a duration such as 30 (seconds), 500ms, 10s or 1m30s, got "soon"',
    '  functions.again: upstream_url http://127.0.0.1:4444/ is also pinned\'s; give each function its own port',
    '',
  ].join('\n'), 'every problem at once, each naming the function');
  const refused = bad;
  t.notMatch(refused.stderr, /\[classic\]/, 'no watchdog was started');
});

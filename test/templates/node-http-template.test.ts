// The node-http template: one long-running server (watchdog mode=http) calling an async handler.

import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assembleBuildFolder, childEnv, folderEnv, startHttpEntry, stopChild } from '../helpers/templates.js';
import { freePort } from '../../common/free-port.js';
import { alive, killIfAlive } from '../helpers/processes.js';
import { holdsWithin } from '../helpers/wait.js';

t.test('Dockerfile runs it in http mode at 127.0.0.1:3000 by default', async (t) => {
  const env = folderEnv(assembleBuildFolder('node-http', t.testdir()));
  t.equal(env.mode, 'http');
  t.equal(env.upstream_url, 'http://127.0.0.1:3000');
  t.equal(env.fprocess, 'node index.js');
});

t.test('listens on the port of upstream_url; the skeleton sees method, path, query and body', async (t) => {
  const folder = assembleBuildFolder('node-http', t.testdir());
  const port = await freePort();
  const entry = await startHttpEntry(folder, { upstream_url: `http://127.0.0.1:${port}` });
  t.teardown(() => stopChild(entry.child));
  t.equal(entry.url, `http://127.0.0.1:${port}`);

  const res = await fetch(`${entry.url}/some/path?x=1&y=2`, { method: 'PUT', body: 'payload' });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^application\/json/);
  t.same(await res.json(), { method: 'PUT', path: '/some/path', query: { x: '1', y: '2' }, body: 'payload' });
});

t.test('status, headers and body from the handler; state lives between calls; errors are 500', async (t) => {
  const folder = assembleBuildFolder('node-http', t.testdir());
  writeFileSync(join(folder, 'function', 'handler.js'), `
let calls = 0;
module.exports = async (event, context) => {
  calls++;
  if (event.path === '/text') return { statusCode: 201, headers: { 'X-Calls': String(calls), 'Content-Length': '999' }, body: 'made' };
  if (event.path === '/bare') return 'just a string';
  if (event.path === '/none') return undefined;
  if (event.path === '/throw') throw new Error('handler broke');
  return { body: { calls, callId: context.callId, custom: event.headers['x-custom'], raw: event.rawBody.length } };
};
`);
  const entry = await startHttpEntry(folder, { http_port: '0' });
  t.teardown(() => stopChild(entry.child));

  const text = await fetch(`${entry.url}/text`);
  t.equal(text.status, 201);
  t.equal(text.headers.get('x-calls'), '1');
  t.equal(text.headers.get('content-length'), '4', 'the entry sets the length, not the handler');
  t.equal(await text.text(), 'made');

  const bare = await fetch(`${entry.url}/bare`);
  t.equal(bare.status, 200);
  t.equal(await bare.text(), 'just a string');
  t.equal((await fetch(`${entry.url}/none`)).status, 204);

  const json = await fetch(`${entry.url}/`, { method: 'POST', body: 'héllo', headers: { 'X-Call-Id': 'c-1', 'X-Custom': 'v' } });
  t.same(await json.json(), { calls: 4, callId: 'c-1', custom: 'v', raw: 6 });

  const thrown = await fetch(`${entry.url}/throw`);
  t.equal(thrown.status, 500);
  t.same(await thrown.json(), { error: 'handler broke' });
  t.match(entry.stderr(), /handler failed: Error: handler broke/);
  t.equal((await fetch(`${entry.url}/bare`)).status, 200, 'still serving after a failure');
});

t.test('SIGTERM: exits 0 after closing the server', async (t) => {
  const entry = await startHttpEntry(assembleBuildFolder('node-http', t.testdir()), { http_port: '0' });
  t.teardown(() => stopChild(entry.child));
  const exited = new Promise<number | null>((r) => entry.child.once('exit', (code) => r(code)));
  entry.child.kill('SIGTERM');
  t.equal(await exited, 0);
});

t.test('a bad http_port or a missing handler stops the start with a message', async (t) => {
  const folder = assembleBuildFolder('node-http', t.testdir());
  await t.rejects(startHttpEntry(folder, { http_port: 'abc' }), /exited with 1 .*http_port: not a port: abc/s);
  writeFileSync(join(folder, 'function', 'handler.js'), 'module.exports = {};\n');
  await t.rejects(startHttpEntry(folder, { http_port: '0' }), /must export a function/);
});

t.test('a parent killed with SIGKILL: the entry leaves and frees its port', async (t) => {
  const folder = assembleBuildFolder('node-http', t.testdir());
  const port = await freePort();
  // A stand-in watchdog: starts the entry, reports its pid, then is killed without a chance to clean up.
  const parent = spawn(process.execPath, ['-e', `
    const c = require('node:child_process').spawn('node', ['index.js'], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr.on('data', (d) => { if (/listening/.test(String(d))) console.log(c.pid); });
  `], { cwd: folder, env: childEnv({ upstream_url: `http://127.0.0.1:${port}` }), stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => stopChild(parent));
  const childPid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  // Should the entry outlive the test (the behaviour under test broken), it must not outlive tap.
  t.teardown(() => killIfAlive(childPid));
  t.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);
  await stopChild(parent, 'SIGKILL');
  t.ok(await holdsWithin(() => !alive(childPid), 5000, 100), 'the entry exited after its parent died');
  await t.rejects(fetch(`http://127.0.0.1:${port}/`), 'nothing listens on the port any more');
});

// The fork-per-request templates (bash, node, python3): each build folder's fprocess, taken from its
// Dockerfile's ENV, run with a request on stdin as the watchdog runs it.

import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assembleBuildFolder, runFprocess } from '../helpers/templates.js';

t.test('bash skeleton echoes bytes exactly, and a failing handler keeps its exit status', async (t) => {
  const folder = assembleBuildFolder('bash', t.testdir());
  const body = randomBytes(256 * 1024);
  const ok = await runFprocess(folder, { body });
  t.equal(ok.code, 0, ok.stderr);
  t.ok(ok.stdout.equals(body), 'stdout is the body, byte for byte');

  writeFileSync(join(folder, 'function', 'handler.sh'), 'echo "out"\necho "went wrong: $Http_X_Custom" >&2\nexit 3\n');
  const bad = await runFprocess(folder, { headers: { Http_X_Custom: 'abc' } });
  t.equal(bad.code, 3);
  t.equal(bad.stdout.toString(), 'out\n');
  t.equal(bad.stderr, 'went wrong: abc\n');
});

t.test('node skeleton gets body and request details, answers JSON', async (t) => {
  const folder = assembleBuildFolder('node', t.testdir());
  const res = await runFprocess(folder, { body: 'hi there', method: 'PUT' });
  t.equal(res.code, 0, res.stderr);
  t.same(JSON.parse(res.stdout.toString()), { status: 'done', method: 'PUT', received: 'hi there' });
});

t.test('node context: method, path, query, headers, raw body; strings go out as they are', async (t) => {
  const folder = assembleBuildFolder('node', t.testdir());
  writeFileSync(join(folder, 'function', 'handler.js'),
    "module.exports = async (body, ctx) => JSON.stringify({ body, ctx: { ...ctx, rawBody: ctx.rawBody.length } });\n");
  const res = await runFprocess(folder, {
    body: 'héllo', method: 'GET', path: '/a/b', query: 'x=1&y=two',
    headers: { Http_X_Call_Id: 'id-1', Http_Content_Type: 'text/plain', Http_Host: 'example:8080' },
  });
  t.equal(res.code, 0, res.stderr);
  const got = JSON.parse(res.stdout.toString());
  t.equal(got.body, 'héllo');
  t.match(got.ctx, {
    method: 'GET', path: '/a/b', rawQuery: 'x=1&y=two', query: { x: '1', y: 'two' }, rawBody: 6,
    headers: { 'x-call-id': 'id-1', 'content-type': 'text/plain', host: 'example:8080' },
  });
  t.notOk('method' in got.ctx.headers || 'query' in got.ctx.headers || 'contentlength' in got.ctx.headers, 'Http_Method etc. are not headers');
});

t.test('node handler as an ES module works too', async (t) => {
  const folder = assembleBuildFolder('node', t.testdir());
  writeFileSync(join(folder, 'function', 'package.json'), '{"type": "module"}\n');
  writeFileSync(join(folder, 'function', 'handler.js'), 'export default async (body) => body.toUpperCase();\n');
  const res = await runFprocess(folder, { body: 'abc' });
  t.equal(res.code, 0, res.stderr);
  t.equal(res.stdout.toString(), 'ABC');
});

t.test('node handler that throws or is not a function: exit 1, message on stderr, nothing on stdout', async (t) => {
  const folder = assembleBuildFolder('node', t.testdir());
  writeFileSync(join(folder, 'function', 'handler.js'), "module.exports = async () => { throw new Error('boom 42'); };\n");
  const thrown = await runFprocess(folder, { body: 'x' });
  t.equal(thrown.code, 1);
  t.equal(thrown.stdout.length, 0);
  t.equal(thrown.stderr, 'boom 42\n');
  const debug = await runFprocess(folder, { body: 'x', env: { write_debug: 'true' } });
  t.match(debug.stderr, /^Error: boom 42\n\s+at /, 'write_debug=true adds the stack');

  writeFileSync(join(folder, 'function', 'handler.js'), 'module.exports = 42;\n');
  const notFn = await runFprocess(folder);
  t.equal(notFn.code, 1);
  t.match(notFn.stderr, /must export a function/);
});

t.test('python3 skeleton echoes; dicts go out as JSON; exceptions exit 1', async (t) => {
  const folder = assembleBuildFolder('python3', t.testdir());
  const res = await runFprocess(folder, { body: 'ünïcode ok' });
  t.equal(res.code, 0, res.stderr);
  t.equal(res.stdout.toString(), 'ünïcode ok');

  writeFileSync(join(folder, 'function', 'handler.py'),
    'import os\n\ndef handle(req):\n    if req == "fail":\n        raise RuntimeError("nope")\n'
    + '    return {"body": req, "method": os.environ["Http_Method"], "custom": os.environ.get("Http_X_Custom")}\n');
  const json = await runFprocess(folder, { body: 'x', method: 'PATCH', headers: { Http_X_Custom: 'c' } });
  t.equal(json.code, 0, json.stderr);
  t.equal(json.stdout.toString(), '{"body": "x", "method": "PATCH", "custom": "c"}\n');

  const failed = await runFprocess(folder, { body: 'fail' });
  t.equal(failed.code, 1);
  t.equal(failed.stdout.length, 0);
  t.equal(failed.stderr, 'RuntimeError: nope\n');
});

t.test('python3 handler may import its own modules relatively', async (t) => {
  const folder = assembleBuildFolder('python3', t.testdir());
  mkdirSync(join(folder, 'function'), { recursive: true });
  writeFileSync(join(folder, 'function', 'helper.py'), 'def shout(s):\n    return s.upper()\n');
  writeFileSync(join(folder, 'function', 'handler.py'), 'from .helper import shout\n\ndef handle(req):\n    return shout(req)\n');
  const res = await runFprocess(folder, { body: 'quiet' });
  t.equal(res.code, 0, res.stderr);
  t.equal(res.stdout.toString(), 'QUIET');
});

// Unit tests of the stack machinery: parsing and validation, adding a function (comments kept), the
// build folder, the watchdog environment's precedence, log-line tagging, invoke's URL, the README parser.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { addFunction } from '../../cli/stack/add-function.js';
import { assemble, readDockerfileEnv } from '../../cli/stack/build-folder.js';
import { lineSplitter, listeningPort, tagLine } from '../../cli/stack/lines.js';
import { loadStack, parseStack, selectFunctions, StackError } from '../../cli/stack/stack-file.js';
import { createStackResolver } from '../../cli/stack/stack-resolver.js';
import { listTemplates, templateDir } from '../../cli/stack/templates.js';
import { functionLimit, isHttpMode, watchdogEnv } from '../../cli/stack/watchdog-env.js';
import { invocation } from '../../cli/commands/invoke.js';
import { createFunction } from '../../cli/commands/new.js';
import { consoleSteps, matchesOutput } from './readme-blocks.js';

const TEMPLATES = ['bash', 'node', 'node-http', 'python3'];

const problems = (fn: () => unknown): readonly string[] => {
  try { fn(); } catch (err) { if (err instanceof StackError) return err.problems; throw err; }
  return [];
};

t.test('templates are found in the package, not the cwd', async (t) => {
  t.same(listTemplates(), TEMPLATES);
  t.match(templateDir('node'), /templates\/node$/);
  t.equal(templateDir('../etc'), undefined);
  t.equal(templateDir('rust'), undefined);
});

t.test('parseStack: functions with environment as strings, handlers relative to the file', async (t) => {
  const s = parseStack('functions:\n  a:\n    lang: bash\n    handler: ./a\n    environment: {n: 5, b: true, s: x}\n    labels: {x: y}\n', '/p/stack.yml', TEMPLATES);
  t.same(s.functions, [{ name: 'a', lang: 'bash', handler: '/p/a', environment: { n: '5', b: 'true', s: 'x' } }]);
  t.equal(s.dir, '/p');
});

t.test('parseStack reports every problem, naming the function and key', async (t) => {
  t.same(problems(() => parseStack('functions: [', 's.yml', TEMPLATES)).length, 1);
  t.match(problems(() => parseStack('functions: [', 's.yml', TEMPLATES))[0], /^not valid YAML: .* at line 1, column \d+$/);
  t.same(problems(() => parseStack('version: 1\n', 's.yml', TEMPLATES)), ['expected a top-level `functions:` map with at least one function (name: {lang, handler})']);
  t.same(problems(() => parseStack([
    'functions:',
    '  bad.name: {lang: bash, handler: ./x}',
    '  a: {lang: rust, handler: ./a, environmnet: {}}',
    '  b: {handler: 3}',
    '  c: {lang: node, handler: ./c, environment: {ok: 1, "no-dash": 2, list: [1], nil: null}}',
    '  d: just a string',
  ].join('\n'), 's.yml', TEMPLATES)), [
    'functions.bad.name: invalid function name, expected letters, digits, - and _ (starting with a letter or digit)',
    'functions.a.environmnet: unknown key (known: lang, handler, environment, image; ignored locally: labels, annotations, secrets, limits, requests, constraints, build_args, build_options, namespace, readonly_root_filesystem, skip_build)',
    'functions.a.lang: unknown template "rust" (installed: bash, node, node-http, python3)',
    'functions.b.lang: required, one of bash, node, node-http, python3',
    'functions.b.handler: required, the folder of the function\'s code relative to the stack file',
    'functions.c.environment.no-dash: not a valid variable name',
    'functions.c.environment.list: expected a string, number or boolean, got [1]',
    'functions.c.environment.nil: expected a string, number or boolean, got nothing',
    'functions.d: expected a map with lang and handler',
  ]);
  const err = (() => { try { parseStack('functions: {a: {lang: x, handler: y}}', 'my.yml', ['bash']); } catch (e) { return e as StackError; } })();
  t.equal(err?.code, 'STACK_INVALID');
  t.equal(err?.message, 'my.yml: functions.a.lang: unknown template "x" (installed: bash)');
});

t.test('loadStack checks handler folders; selectFunctions names unknown functions', async (t) => {
  const dir = t.testdir({ 'stack.yml': 'functions:\n  a: {lang: bash, handler: ./a}\n  b: {lang: bash, handler: ./b}\n', a: { 'handler.sh': 'cat\n' } });
  t.same(problems(() => loadStack(join(dir, 'stack.yml'), TEMPLATES)), [`functions.b.handler: no such folder ${join(dir, 'b')}`]);
  t.same(problems(() => loadStack(join(dir, 'none.yml'), TEMPLATES)), ['cannot read the stack file (ENOENT)']);
  mkdirSync(join(dir, 'b'));
  const stack = loadStack(join(dir, 'stack.yml'), TEMPLATES);
  t.same(selectFunctions(stack, []).map((f) => f.name), ['a', 'b']);
  t.same(selectFunctions(stack, ['b']).map((f) => f.name), ['b']);
  t.same(problems(() => selectFunctions(stack, ['zz'])), ['no function "zz" (the stack has a, b)']);
});

t.test('addFunction keeps comments and order, creates a file, refuses duplicates', async (t) => {
  const text = '# my stack\nversion: 1.0\nfunctions:\n  # the first one\n  x:\n    lang: bash # why bash\n    handler: ./x\n';
  t.equal(addFunction(text, 's.yml', 'y', { lang: 'node', handler: './y' }), `${text}  y:\n    lang: node\n    handler: ./y\n`);
  const fresh = addFunction(undefined, 's.yml', 'y', { lang: 'node', handler: './y' });
  t.match(fresh, /^# whippet stack file/);
  t.same(parseStack(fresh, '/s.yml', TEMPLATES).functions.map((f) => f.name), ['y']);
  t.equal(addFunction('functions:\n', 's.yml', 'z', { lang: 'bash', handler: './z' }), 'functions:\n  z:\n    lang: bash\n    handler: ./z\n');
  t.same(problems(() => addFunction(text, 's.yml', 'x', { lang: 'bash', handler: './x' })), ['functions.x: already exists; pick another name or remove it first']);
  t.same(problems(() => addFunction('- a list\n', 's.yml', 'x', { lang: 'bash', handler: './x' })), ['expected a map at the top (version, provider, functions)']);
  t.same(problems(() => addFunction('functions: [1]\n', 's.yml', 'x', { lang: 'bash', handler: './x' })), ['functions: expected a map of name: {lang, handler}']);
});

t.test('createFunction copies the skeleton and refuses what would overwrite', async (t) => {
  const dir = t.testdir({ taken: { 'f.txt': 'x' } });
  const out = createFunction({ name: 'f1', lang: 'node', stack: 'stack.yml' }, dir);
  t.match(out, 'Created f1/ from the node template: handler.js, package.json');
  t.match(out, 'Created stack.yml: f1 (lang: node, handler: ./f1)');
  t.ok(existsSync(join(dir, 'f1', 'handler.js')));
  const nested = createFunction({ name: 'f2', lang: 'bash', stack: 'stack.yml', handler: 'fns/two' }, dir);
  t.match(nested, 'Updated stack.yml: f2 (lang: bash, handler: ./fns/two)');
  t.same(problems(() => createFunction({ name: 'f1', lang: 'bash', stack: 'stack.yml', handler: 'other' }, dir)), ['functions.f1: already exists; pick another name or remove it first']);
  t.throws(() => createFunction({ name: 'f3', lang: 'bash', stack: 'stack.yml', handler: 'taken' }, dir), /taken already exists and is not empty/);
  t.throws(() => createFunction({ name: 'f.3', lang: 'bash', stack: 'stack.yml' }, dir), /invalid function name "f.3"/);
  t.throws(() => createFunction({ name: 'f4', lang: 'go', stack: 'stack.yml' }, dir), /unknown template "go"; installed: bash, node, node-http, python3/);
  t.notOk(existsSync(join(dir, 'f3')), 'nothing was written for a refusal');
});

t.test('assemble: template files + handler in function/, cleaned first, .whippet never copied into itself', async (t) => {
  const dir = t.testdir({ 'stack.yml': 'functions:\n  self: {lang: bash, handler: .}\n', 'handler.sh': 'cat\n', 'package.json': '{"dependencies":{"left-pad":"1"}}' });
  const stack = loadStack(join(dir, 'stack.yml'), TEMPLATES);
  const fn = stack.functions[0]!;
  mkdirSync(join(dir, '.whippet', 'build', 'self', 'function'), { recursive: true });
  writeFileSync(join(dir, '.whippet', 'build', 'self', 'stale.txt'), 'old');
  const built = assemble(stack, fn, templateDir('bash')!);
  t.equal(built.folder, join(dir, '.whippet', 'build', 'self'));
  t.notOk(existsSync(join(built.folder, 'stale.txt')), 'the folder was emptied first');
  t.ok(existsSync(join(built.folder, 'index.sh')));
  t.equal(readFileSync(join(built.folder, 'function', 'handler.sh'), 'utf8'), 'cat\n');
  t.notOk(existsSync(join(built.folder, 'function', '.whippet')), 'the stack\'s own .whippet is not copied');
  t.same(built.dockerEnv, readDockerfileEnv(templateDir('bash')!));
  t.equal(built.dockerEnv['fprocess'], 'bash index.sh');
  t.match(built.warnings, [/self: package.json lists dependencies but .* has no node_modules/]);
  writeFileSync(join(built.folder, 'Dockerfile'), 'FROM x\nENV a=$HOME\n');
  t.throws(() => readDockerfileEnv(built.folder), { code: 'DOCKERFILE_INVALID', message: /Dockerfile: ENV a=\$HOME: bare values may not contain/ });
});

t.test('watchdogEnv: base < defaults < Dockerfile < stack < what up controls', async (t) => {
  const env = watchdogEnv({
    base: { PATH: '/bin', exec_timeout: '1s', metrics_port: '9', unset: undefined },
    dockerfile: { exec_timeout: '30s', mode: 'serializing', read_timeout: '30s' },
    stack: { read_timeout: '5s', port: '9999', TMPDIR: '/mine' },
    tmpDir: '/t',
  });
  t.same(env, { PATH: '/bin', exec_timeout: '30s', metrics_port: '0', TMPDIR: '/mine', mode: 'serializing', read_timeout: '5s', port: '0' });
  const http = watchdogEnv({ base: {}, dockerfile: { mode: 'http', upstream_url: 'http://127.0.0.1:3000' }, stack: { http_upstream_url: 'x' }, tmpDir: '/t', upstreamPort: 4321 });
  t.equal(http['upstream_url'], 'http://127.0.0.1:4321');
  t.equal(http['http_upstream_url'], undefined);
  t.ok(isHttpMode({ mode: ' http ' }));
  t.notOk(isHttpMode({}));
  t.equal(functionLimit({ max_inflight: '4' }), 4);
  t.equal(functionLimit({ max_inflight: '0' }), undefined);
  t.equal(functionLimit({}), undefined);
});

t.test('log lines: split, tagged, listening port found', async (t) => {
  const lines: string[] = [];
  const s = lineSplitter((l) => lines.push(l));
  s.push('a\nb');
  s.push('c\n\nd');
  s.flush();
  t.same(lines, ['a', 'bc', '', 'd']);
  t.equal(tagLine('fn', '{"time":"t","msg":"x"}'), '{"function":"fn","time":"t","msg":"x"}');
  t.equal(tagLine('fn', '{not json'), '[fn] {not json');
  t.equal(tagLine('fn', 'plain'), '[fn] plain');
  t.equal(listeningPort('{"time":"t","level":"info","msg":"listening","port":4242,"url":"u"}'), 4242);
  t.equal(listeningPort('2026-01-01T00:00:00.000Z info  listening component=watchdog port=555 url=x'), 555);
  t.equal(listeningPort('2026-01-01T00:00:00.000Z info  function said: listening port=1'), undefined);
  t.equal(listeningPort('{"msg":"listening soon","port":1}'), undefined);
});

t.test('the stack resolver follows restarts', async (t) => {
  const r = createStackResolver();
  t.equal(r.resolve('a'), undefined);
  r.set('a', new URL('http://127.0.0.1:1'));
  r.set('a', new URL('http://127.0.0.1:2'));
  t.equal(r.resolve('a')?.port, '2');
  t.same(r.list().map((e) => [e.name, e.url.port]), [['a', '2']]);
});

t.test('invocation: URL and headers of a call', async (t) => {
  const sync = invocation({ name: 'echo', async: false, gateway: 'http://127.0.0.1:8080/', query: ['a=1', '?b=2'], header: ['X-A=1=2', 'X-B='] });
  t.equal(sync.url.href, 'http://127.0.0.1:8080/function/echo?a=1&b=2');
  t.same(sync.headers, { 'X-A': '1=2', 'X-B': '' });
  const async = invocation({ name: 'echo', async: true, callback: 'http://cb/', gateway: 'https://gw' });
  t.equal(async.url.href, 'https://gw/async-function/echo');
  t.same(async.headers, { 'X-Callback-Url': 'http://cb/' });
  t.throws(() => invocation({ name: 'e', async: false, callback: 'http://cb/', gateway: 'http://gw' }), /--callback needs --async/);
  t.throws(() => invocation({ name: 'e', async: false, header: ['=x'], gateway: 'http://gw' }), /--header: expected 'Key: Value' or key=value/);
  const colon = invocation({ name: 'e', async: true, gateway: 'http://gw', header: ['X-Trace: 1', 'X-Callback-Url: http://cb:8/x', 'x-callback-url=http://cb:9/', 'X-Trace:2'] });
  t.same(colon.headers, { 'X-Trace': '1, 2', 'X-Callback-Url': 'http://cb:8/x', 'x-callback-url': 'http://cb:9/' },
    "faas-cli's 'Key: Value' form; key=value whose value holds a colon stays the = form; a repeated header is joined");
  t.throws(() => invocation({ name: 'e', async: false, header: ['X Y: z'], gateway: 'http://gw' }), /--header: expected 'Key: Value' or key=value with a header name, got "X Y: z"/);
  t.throws(() => invocation({ name: 'e', async: false, gateway: 'gw:8080' }), /--gateway: expected an http\(s\) URL/);
});

t.test('README blocks: steps and output matching', async (t) => {
  const md = 'text\n```console\n$ a\nout <id>\n...\nend ... here\n$ b\n```\n```sh\n$ not me\n```\n';
  const steps = consoleSteps(md);
  t.same(steps, [{ command: 'a', expected: ['out <id>', '...', 'end ... here'] }, { command: 'b', expected: [] }]);
  t.ok(matchesOutput(steps[0]!.expected, 'out 1234-ab\nx\ny\nend of it here\n'));
  t.ok(matchesOutput(steps[0]!.expected, 'out 1\r\nend - here\r\n'));
  t.notOk(matchesOutput(steps[0]!.expected, 'out two words\nend - here\n'), '<id> is one value');
  t.notOk(matchesOutput(steps[0]!.expected, 'out 1\nend - here\nextra\n'));
  t.ok(matchesOutput([], ''));
  t.notOk(matchesOutput([], 'something'));
});

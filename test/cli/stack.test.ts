// Unit tests of the stack machinery: parsing and validation, adding a function (comments kept), the
// build folder, the watchdog environment's precedence, log-line tagging, invoke's URL, the README parser.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError } from '../../common/options.js';
import { addFunction } from '../../stack/add-function.js';
import { assemble, readDockerfileEnv } from '../../stack/build-folder.js';
import { prepareUpFolder } from '../../stack/up-folder.js';
import { createLogger } from '../../common/log.js';
import { listeningPort, tagLine } from '../../stack/lines.js';
import { StackError } from '../../stack/errors.js';
import { expandVariables, findStackFile, loadStack, parseStack, selectFunctions } from '../../stack/stack-file.js';
import { createStackResolver } from '../../stack/stack-resolver.js';
import { findTemplate, knownTemplates, listTemplates, templateDir } from '../../stack/templates.js';
import { functionSettings, watchdogEnv } from '../../stack/watchdog-env.js';
import { invocation } from '../../cli/commands/invoke.js';
import { createFunction } from '../../stack/new-function.js';
import { consoleSteps, matchesOutput } from '../helpers/readme-blocks.js';

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
    'functions.a.environmnet: unknown key (known: lang, handler, environment, environment_file, fprocess, image; ignored locally: labels, annotations, secrets, limits, requests, constraints, build_args, build_options, namespace, readonly_root_filesystem, skip_build)',
    'functions.a.lang: unknown template "rust" (known: bash, node, node-http, python3; a project\'s own go in template/<lang>/ beside the stack file)',
    'functions.b.lang: required, one of bash, node, node-http, python3',
    'functions.b.handler: required, the folder of the function\'s code relative to the stack file',
    'functions.c.environment.no-dash: not a valid variable name',
    'functions.c.environment.list: expected a string, number or boolean, got [1]',
    'functions.c.environment.nil: expected a string, number or boolean, got nothing',
    'functions.d: expected a map with lang and handler',
  ]);
  const err = (() => { try { parseStack('functions: {a: {lang: x, handler: y}}', 'my.yml', ['bash']); } catch (e) { return e as StackError; } })();
  t.equal(err?.code, 'STACK_ERR_INVALID');
  t.equal(err?.status, 400);
  t.equal(err?.message, 'my.yml: functions.a.lang: unknown template "x" (known: bash; a project\'s own go in template/<lang>/ beside the stack file)');
});

t.test('expandVariables: ${VAR} and ${VAR:-default} as faas-cli expands them, before the YAML is read', async (t) => {
  const env = { TAG: '1.2', EMPTY: '', USER: 'ada' };
  t.same(expandVariables('image: fn:${TAG}\nuser: ${USER}\nnone: "${NOPE}"\n', env), { text: 'image: fn:1.2\nuser: ada\nnone: ""\n', problems: [] });
  t.equal(expandVariables('${EMPTY:-dflt} ${NOPE:-dflt} ${EMPTY-dflt} ${NOPE-dflt} ${TAG:-dflt}', env).text, 'dflt dflt  dflt 1.2', ':- for unset or empty, - for unset only');
  t.equal(expandVariables("fprocess: sh -c 'echo $HOME $$ $${TAG}'", env).text, "fprocess: sh -c 'echo $HOME $$ ${TAG}'", 'bare $VAR stays for the function; $${ is a literal ${');
  t.same(expandVariables('a: ${TAG\nb: ${1x}\nc: ${X:?must}\n', env).problems, [
    'line 1: ${TAG has no closing }',
    'line 2: ${1x}: expected ${VAR} or ${VAR:-default}',
    'line 3: ${X:?must}: expected ${VAR} or ${VAR:-default}',
  ]);
  const stack = parseStack('functions:\n  ${NAME:-fn}:\n    lang: bash\n    handler: ./${DIR}\n    environment: {tag: "${TAG}"}\n', '/p/stack.yaml', TEMPLATES, { env: { DIR: 'src', TAG: '7' } });
  t.same(stack.functions, [{ name: 'fn', lang: 'bash', handler: '/p/src', environment: { tag: '7' } }], 'the whole text is expanded: keys, paths, values');
  t.same(problems(() => parseStack('functions:\n  a: {lang: bash, handler: ${H\n', 's.yml', TEMPLATES)), ['line 2: ${H has no closing }']);
});

t.test('environment_file and fprocess: files in order, then environment, then fprocess', async (t) => {
  const files: Record<string, string> = {
    '/p/common.yml': 'environment:\n  level: common\n  shared: from-common\n  n: 1\n',
    '/p/env/plain.yaml': 'level: plain\nflag: true\n',
    '/p/bad.yml': 'environment:\n  ok: 1\n  "no-dash": 2\n  list: [1]\n',
    '/p/list.yml': '- a\n',
  };
  const readFile = (path: string): string => {
    if (files[path] === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return files[path]!;
  };
  const text = [
    'functions:',
    '  a:',
    '    lang: bash',
    '    handler: ./a',
    '    environment_file: [common.yml, env/plain.yaml]',
    '    environment: {level: inline, fprocess: from-environment}',
    `    fprocess: bash -c 'echo "a b"'`,
  ].join('\n');
  const [fn] = parseStack(text, '/p/stack.yml', TEMPLATES, { readFile }).functions;
  t.same(fn?.environment, { level: 'inline', shared: 'from-common', n: '1', flag: 'true', fprocess: `bash -c 'echo "a b"'` });
  t.equal(fn?.fprocess, `bash -c 'echo "a b"'`);
  t.same(problems(() => parseStack([
    'functions:',
    '  a: {lang: bash, handler: ./a, environment_file: [missing.yml, bad.yml, list.yml]}',
    '  b: {lang: bash, handler: ./b, environment_file: common.yml, fprocess: "python3 \'open"}',
    '  c: {lang: bash, handler: ./c, fprocess: [1]}',
  ].join('\n'), '/p/stack.yml', TEMPLATES, { readFile })), [
    'functions.a.environment_file[0] (missing.yml): cannot read /p/missing.yml (ENOENT)',
    'functions.a.environment_file[1] (bad.yml).no-dash: not a valid variable name',
    'functions.a.environment_file[1] (bad.yml).list: expected a string, number or boolean, got [1]',
    'functions.a.environment_file[2] (list.yml): expected an environment: map of NAME: value in /p/list.yml',
    'functions.b.environment_file: expected a list of YAML file names, relative to the stack file',
    `functions.b.fprocess: expected a closing ' quote, got "python3 'open"`,
    'functions.c.fprocess: expected a command line, got [1]',
  ]);
});

t.test('findStackFile: the one given, else stack.yaml, else stack.yml', async (t) => {
  const dir = t.testdir({ both: { 'stack.yaml': '', 'stack.yml': '' }, yml: { 'stack.yml': '' }, none: {} });
  t.equal(findStackFile('my.yml', join(dir, 'none')), 'my.yml');
  t.equal(findStackFile(undefined, join(dir, 'both')), 'stack.yaml');
  t.equal(findStackFile(undefined, join(dir, 'yml')), 'stack.yml');
  t.throws(() => findStackFile(undefined, join(dir, 'none')), { code: 'STACK_ERR_INVALID', message: /^stack\.yaml or stack\.yml: no stack file in .*none: name one, or create stack\.yaml/ });
});

t.test("a project's template/<lang>/ comes before the built-in template of the same name", async (t) => {
  const dir = t.testdir({
    template: { python3: { Dockerfile: 'FROM x\n', 'template.yml': 'fprocess: python3 index.py\n' }, mine: { Dockerfile: 'FROM x\n' }, 'not-one': { 'README.md': '' } },
  });
  t.same(findTemplate('python3', dir), { lang: 'python3', dir: join(dir, 'template', 'python3'), source: 'project' });
  t.same(findTemplate('bash', dir), { lang: 'bash', dir: templateDir('bash'), source: 'built-in' });
  t.equal(findTemplate('not-one', dir), undefined, 'a folder without a Dockerfile is no template');
  t.equal(findTemplate('../template/mine', dir), undefined);
  t.same(knownTemplates(dir), ['bash', 'mine', 'node', 'node-http', 'python3']);
  t.same(knownTemplates(join(dir, 'template', 'mine')), TEMPLATES, 'no template/ folder: the built-in ones');
});

t.test('loadStack checks handler folders; selectFunctions names unknown functions', async (t) => {
  const dir = t.testdir({ 'stack.yml': 'functions:\n  a: {lang: bash, handler: ./a}\n  b: {lang: bash, handler: ./b}\n', a: { 'handler.sh': 'cat\n' } });
  t.same(problems(() => loadStack(join(dir, 'stack.yml'), {})), [`functions.b.handler: no such folder ${join(dir, 'b')}`]);
  t.same(problems(() => loadStack(join(dir, 'none.yml'), {})), ['cannot read the stack file (ENOENT)']);
  mkdirSync(join(dir, 'b'));
  const stack = loadStack(join(dir, 'stack.yml'), {});
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

t.test('assemble: template files + handler in function/, made afresh, .whippet never copied into itself', async (t) => {
  const dir = t.testdir({ 'stack.yml': 'functions:\n  self: {lang: bash, handler: .}\n', 'handler.sh': 'cat\n', 'package.json': '{"dependencies":{"left-pad":"1"}}' });
  const stack = loadStack(join(dir, 'stack.yml'), {});
  const fn = stack.functions[0]!;
  mkdirSync(join(dir, '.whippet', 'build', 'self', 'function'), { recursive: true });
  writeFileSync(join(dir, '.whippet', 'build', 'self', 'stale.txt'), 'old');
  const built = assemble(stack, fn, {});
  t.same(built.template, { lang: 'bash', dir: templateDir('bash'), source: 'built-in' });
  t.equal(built.folder, join(dir, '.whippet', 'build', 'self'));
  t.notOk(existsSync(join(built.folder, 'stale.txt')), 'the old folder was replaced');
  t.same(readdirSync(join(dir, '.whippet', 'build')), ['self'], 'nothing left beside it (the fresh folder was renamed in, the old one removed)');
  t.ok(existsSync(join(built.folder, 'index.sh')));
  t.equal(readFileSync(join(built.folder, 'function', 'handler.sh'), 'utf8'), 'cat\n');
  t.notOk(existsSync(join(built.folder, 'function', '.whippet')), 'the stack\'s own .whippet is not copied');
  t.same(built.dockerEnv, readDockerfileEnv(templateDir('bash')!));
  t.equal(built.dockerEnv['fprocess'], 'bash index.sh');
  t.notOk(existsSync(join(built.folder, 'function', 'node_modules')), 'build installs no dependencies: the image build does');
  writeFileSync(join(built.folder, 'Dockerfile'), 'FROM x\nENV a=$HOME\n');
  t.same(readDockerfileEnv(built.folder, { HOME: '/home/me' }), { a: '/home/me', fprocess: 'bash index.sh' }, '$HOME from the base environment; fprocess from template.yml when the Dockerfile sets none');
  writeFileSync(join(built.folder, 'Dockerfile'), 'FROM x\nENV a="open\n');
  t.throws(() => readDockerfileEnv(built.folder), { code: 'STACK_ERR_DOCKERFILE', message: /Dockerfile: ENV a="open: an unterminated double quote at column 8$/ });
});

t.test('up folder: made afresh beside build\'s, an interrupted run\'s leftovers removed, installs carried over only when up made them', async (t) => {
  const dir = t.testdir({ 'stack.yml': 'functions:\n  self: {lang: bash, handler: ./h}\n', h: { 'handler.sh': 'cat\n' } });
  const stack = loadStack(join(dir, 'stack.yml'), {});
  const fn = stack.functions[0]!;
  const up = join(dir, '.whippet', 'up');
  for (const left of ['.self.new-abc123', '.self.old-xyz789', '.selfish.new-keep01']) mkdirSync(join(up, left), { recursive: true });
  mkdirSync(join(up, 'self', 'function', 'node_modules', 'made-by-up'), { recursive: true });
  writeFileSync(join(up, 'self', 'function', 'node_modules', '.whippet-installed'), 'hash');
  mkdirSync(join(up, 'self', 'node_modules'), { recursive: true }); // no stamp: not up's
  const log = createLogger({ format: 'text', write: () => undefined }, { component: 'up' });
  const built = await prepareUpFolder({ stack, env: {}, log }, fn);
  t.equal(built.folder, join(up, 'self'));
  t.same(readdirSync(up).sort(), ['.selfish.new-keep01', 'self'], 'self\'s leftovers removed, another function\'s kept');
  t.ok(existsSync(join(built.folder, 'function', 'node_modules', 'made-by-up')), 'a node_modules up installed is carried over');
  t.notOk(existsSync(join(built.folder, 'node_modules')), 'one up did not make is not');
  t.equal(readFileSync(join(built.folder, 'function', 'handler.sh'), 'utf8'), 'cat\n');
  t.equal(built.pythonPath, undefined, 'no requirements: no pip folder');
  t.notOk(existsSync(join(dir, '.whippet', 'build')), 'build\'s folder is not touched');
});

t.test('watchdogEnv: up\'s pip folder goes first on PYTHONPATH, before the Dockerfile\'s and the stack\'s', async (t) => {
  const env = (dockerfile: Record<string, string>, stack: Record<string, string> = {}): string | undefined =>
    watchdogEnv({ base: { PYTHONPATH: '/base' }, dockerfile, stack, tmpDir: '/t', pythonPath: '/p/.whippet/deps/f/python' })['PYTHONPATH'];
  t.equal(env({}), '/p/.whippet/deps/f/python:/base');
  t.equal(env({ PYTHONPATH: ':/home/app/python' }), '/p/.whippet/deps/f/python::/home/app/python', 'an image path kept after it (it may exist here too)');
  t.equal(env({ PYTHONPATH: '/img' }, { PYTHONPATH: '' }), '/p/.whippet/deps/f/python', 'an empty one set in the stack: only up\'s');
  t.equal(watchdogEnv({ base: { PYTHONPATH: '/base' }, dockerfile: {}, stack: {}, tmpDir: '/t' })['PYTHONPATH'], '/base', 'no pip folder: left alone');
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
  t.equal(http['http_port'], '4321', 'a port up picks is told to the process too');
  t.equal(http['PORT'], '4321');
  t.equal(http['http_upstream_url'], undefined);
  const set = watchdogEnv({ base: {}, dockerfile: { mode: 'http', upstream_url: 'http://127.0.0.1:5000' }, stack: {}, tmpDir: '/t' });
  t.equal(set['upstream_url'], 'http://127.0.0.1:5000', 'without a picked port the Dockerfile\'s stays');
  t.equal(set['http_port'], undefined);
  const fork = { fprocess: 'cat' };
  t.equal(functionSettings({ ...fork, mode: ' http ', upstream_url: 'http://127.0.0.1:3000' }).mode, 'http');
  t.equal(functionSettings(fork).mode, 'serializing');
  t.equal(functionSettings({ ...fork, max_inflight: '4' }).maxInflight, 4);
  t.equal(functionSettings(fork).maxInflight, 0);
  t.equal(functionSettings({ ...fork, http_upstream_url: 'http://127.0.0.1:5000' }).upstreamUrl?.port, '5000', 'the watchdog\'s alias counts');
  t.equal(functionSettings({ mode: 'static' }).mode, 'static', 'static mode needs no fprocess');
  const refused = (error: () => unknown): readonly string[] | undefined => { try { error(); } catch (err) { if (err instanceof ConfigError) return err.problems; throw err; } return undefined; };
  t.match(refused(() => functionSettings({ ...fork, mode: 'fast', max_inflight: '-1', exec_timeout: 'soon' })), [
    /^mode \(env mode\): expected one of/, /^exec_timeout \(env exec_timeout\): expected a duration/, /^max_inflight \(env max_inflight\): expected a whole number/,
  ], 'every value is checked by the watchdog\'s own table');
  t.same(refused(() => functionSettings({ mode: 'streaming' })), ['fprocess: required when mode is streaming; set it with ENV fprocess in the Dockerfile, fprocess: in template.yml, or fprocess: in the stack']);
});

t.test('log lines: tagged, listening port found', async (t) => {
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

// What an OpenFaaS user types keeps working: `whippet --version`, `whippet new --list`, `invoke -H 'Key: Value'`,
// and `whippet calls` using the login `faas-cli login` saved (cli/openfaas-config.ts reads faas-cli's file).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { RefusedError } from '../../cli/errors.js';
import { authorizationOf, normaliseGateway, openfaasConfigDir, savedAuth } from '../../cli/openfaas-config.js';
import { startRouter, startWatchdog } from '../helpers/start-router.js';
import { runWhippet } from '../helpers/up-process.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

t.test('faas-cli\'s config: where it is, how a gateway is keyed, basic and oauth2 entries', async (t) => {
  t.equal(openfaasConfigDir({ OPENFAAS_CONFIG: '/x/y' }, '/cwd', '/home/u'), '/x/y');
  t.equal(openfaasConfigDir({ CI: 'true' }, '/cwd', '/home/u'), '/cwd/.openfaas');
  t.equal(openfaasConfigDir({ CI: '1' }, '/cwd', '/home/u'), '/cwd/.openfaas');
  t.equal(openfaasConfigDir({}, '/cwd', '/home/u'), '/home/u/.openfaas');
  t.equal(normaliseGateway('HTTP://127.0.0.1:8080/'), 'http://127.0.0.1:8080');
  t.equal(normaliseGateway('gw.example.com:8080'), 'http://gw.example.com:8080');
  const dir = t.testdir({
    'config.yml': [
      'auths:',
      '- gateway: http://127.0.0.1:8080',
      '  auth: basic',
      `  token: ${b64('admin:pa:ss')}`,
      '- gateway: https://gw.example.com',
      '  auth: oauth2',
      '  token: abc.def',
      '  options:',
      '  - name: x',
      '    value: y',
      '',
    ].join('\n'),
  });
  t.same(savedAuth('http://127.0.0.1:8080/', dir), { kind: 'basic', user: 'admin', password: 'pa:ss' }, 'split at the first colon');
  t.same(savedAuth('https://GW.example.com', dir), { kind: 'bearer', token: 'abc.def' });
  t.equal(savedAuth('http://other:8080', dir), undefined, 'no entry for that gateway');
  t.equal(savedAuth('http://127.0.0.1:8080', join(dir, 'nowhere')), undefined, 'no file');
  t.equal(authorizationOf({ kind: 'basic', user: 'a', password: 'b' }), `Basic ${b64('a:b')}`);
  t.equal(authorizationOf({ kind: 'bearer', token: 't' }), 'Bearer t');
  const bad = t.testdir({ 'config.yml': 'auths: {gateway: x}\n' });
  const err = t.throws(() => savedAuth('http://x', bad)) as RefusedError;
  t.ok(err instanceof RefusedError);
  t.match(err.message, /config\.yml: auths must be a list of \{gateway, auth, token\}/);
});

t.test('whippet --version and whippet new --list', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const version = await runWhippet(['--version']);
  t.equal(version.code, 0);
  t.equal(version.stdout, `whippet ${pkg.version}\n`);
  const list = await runWhippet(['new', '--list']);
  t.equal(list.code, 0);
  t.equal(list.stdout, 'Languages available as templates:\n- bash\n- node\n- node-http\n- python3\n\n', "faas-cli's new --list form");
});

t.test('invoke -H \'Key: Value\' and key=value reach the function; no gateway credentials are sent', async (t) => {
  const dir = t.testdir({});
  const wd = await startWatchdog(t, { fprocess: 'env' });
  const router = await startRouter(t, { functions: `echo=${wd.url}`, async_worker: 'false', queue: `sqlite:${join(dir, 'q.db')}` });
  const config = join(dir, 'openfaas');
  mkdirSync(config);
  writeFileSync(join(config, 'config.yml'), `auths:\n- gateway: ${router.url}\n  auth: basic\n  token: ${b64('admin:secret')}\n`);
  const res = await runWhippet(['invoke', 'echo', '-g', router.url, '-H', 'X-Trace: abc', '-H', 'x-legacy=1', '--query', 'a=b'], { input: 'hi', env: { OPENFAAS_CONFIG: config } });
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /Http_X_Trace=abc/);
  t.match(res.stdout, /Http_X_Legacy=1/);
  t.match(res.stdout, /Http_Query=a=b/);
  t.notMatch(res.stdout, /Http_Authorization/, 'the saved gateway login never reaches a function (as with faas-cli invoke)');
});

t.test('whippet calls uses the login faas-cli saved for that gateway when no --user is given', async (t) => {
  const dir = t.testdir({ 'basic-auth-user': 'admin\n', 'basic-auth-password': 'secret\n' });
  const router = await startRouter(t, { basic_auth: 'true', secret_mount_path: dir, async_worker: 'false', queue: `sqlite:${join(dir, 'q.db')}` });
  const config = join(dir, 'openfaas');
  mkdirSync(config);
  const without = await runWhippet(['calls', 'list', '--gateway', router.url], { env: { OPENFAAS_CONFIG: config } });
  t.equal(without.code, 1, 'no saved login: the router says 401');
  t.match(without.stderr, /^whippet calls: 401 /);
  // faas-cli saves the gateway lower-cased without the trailing slash; whippet finds it from the URL as typed.
  writeFileSync(join(config, 'config.yml'), `auths:\n  - gateway: ${router.url}\n    auth: basic\n    token: ${b64('admin:secret')}\n`);
  const saved = await runWhippet(['calls', 'list', '--gateway', `${router.url.toUpperCase().replace('HTTP://', 'http://')}/`], { env: { OPENFAAS_CONFIG: config } });
  t.equal(saved.code, 0, saved.stderr);
  t.match(saved.stdout, /^CALL ID\s+FUNCTION\s+STATUS/);
  const explicit = await runWhippet(['calls', 'list', '--gateway', router.url, '--user', 'admin', '--password', 'wrong'], { env: { OPENFAAS_CONFIG: config } });
  t.equal(explicit.code, 1, 'explicit credentials win over the saved ones');
  writeFileSync(join(config, 'config.yml'), 'auths: [unclosed\n');
  const broken = await runWhippet(['calls', 'list', '--gateway', router.url], { env: { OPENFAAS_CONFIG: config } });
  t.equal(broken.code, 1);
  t.match(broken.stderr, /config\.yml is not faas-cli's config \(not YAML: .*\); run faas-cli login again or pass --user\/--password/);
});

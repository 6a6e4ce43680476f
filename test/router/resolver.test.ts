import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../common/options.js';
import { ForeignNamespaceError } from '../../router/errors.js';
import { chainResolvers, createResolver, createStaticResolver, createTemplateResolver, parseFunctionMap, parseFunctionName } from '../../router/resolver.js';

t.test('name=url pairs', async (t) => {
  const m = parseFunctionMap('echo=http://127.0.0.1:9000, figlet.dev=http://f:8080/base/');
  t.equal(m.get('echo')?.href, 'http://127.0.0.1:9000/');
  t.equal(m.get('figlet.dev')?.href, 'http://f:8080/base/');
});

t.test('a YAML or JSON file, flat or under functions:', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'a.yml'), 'echo: http://e:8080\nsleep: http://s:8080\n');
  writeFileSync(join(dir, 'b.json'), JSON.stringify({ functions: { echo: { url: 'http://e:8080' } } }));
  t.same([...parseFunctionMap(join(dir, 'a.yml')).keys()], ['echo', 'sleep']);
  t.equal(parseFunctionMap(join(dir, 'b.json')).get('echo')?.host, 'e:8080');
});

t.test('bad entries are all reported', async (t) => {
  const err = t.throws(() => parseFunctionMap('a b=http://x,ok=ftp://y,z')) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.equal(err.problems.length, 3);
  t.match(t.throws(() => parseFunctionMap('/no/such/file.yml')), { problems: [/cannot read/] });
});

t.test('one parser: name or name.<router namespace>; another namespace is a 404 naming both', async (t) => {
  t.equal(parseFunctionName('figlet', 'openfaas-fn'), 'figlet');
  t.equal(parseFunctionName('figlet.openfaas-fn', 'openfaas-fn'), 'figlet');
  t.equal(parseFunctionName('a.b.openfaas-fn', 'openfaas-fn'), 'a.b', 'split on the last dot');
  t.equal(parseFunctionName('.hidden', 'openfaas-fn'), '.hidden', 'a leading dot is no namespace');
  const err = t.throws(() => parseFunctionName('figlet.dev', 'openfaas-fn')) as ForeignNamespaceError;
  t.ok(err instanceof ForeignNamespaceError);
  t.equal(err.status, 404);
  t.equal(err.code, 'ROUTER_ERR_NAMESPACE_NOT_FOUND');
  t.match(err.message, /figlet.*namespace dev.*serves namespace openfaas-fn/);
});

t.test('template: {namespace} is the router\'s; every resolver agrees on name and name.namespace', async (t) => {
  const r = createTemplateResolver('http://{name}.{namespace}:8080', 'openfaas-fn');
  t.equal(r.resolve('figlet')?.href, 'http://figlet.openfaas-fn:8080/');
  t.equal(r.resolve('figlet.openfaas-fn')?.href, 'http://figlet.openfaas-fn:8080/');
  t.equal(r.resolve('figlet')?.href, 'http://figlet.openfaas-fn:8080/', 'cached');
  t.equal(r.resolve('figlet.dev'), undefined, 'another namespace resolves to nothing');
  t.same(r.list(), []);
  const stack = createStaticResolver([['echo', new URL('http://stack:1')]]);
  const all = createResolver({ functions: 'wc=http://static:1,hi.team=http://static:2', functionUrlTemplate: 'http://{name}.{namespace}:8080', functionNamespace: 'team' }, [stack]);
  for (const [name, host] of [['echo', 'stack:1'], ['echo.team', 'stack:1'], ['wc', 'static:1'], ['wc.team', 'static:1'], ['hi', 'static:2'], ['hi.team', 'static:2'], ['other', 'other.team:8080'], ['other.team', 'other.team:8080']]) {
    t.equal(all.resolve(name!)?.host, host, name);
  }
  for (const name of ['echo.openfaas-fn', 'wc.x', 'other.dev']) t.equal(all.resolve(name), undefined, `${name}: another namespace`);
  t.same(all.list().map((e) => e.name), ['echo', 'wc', 'hi'], 'a static key hi.team is stored as hi');
  t.match(t.throws(() => createResolver({ functions: 'x.dev=http://a:1', functionNamespace: 'team' })), { problems: [/x\.dev names another namespace.*serves namespace team/] });
});

t.test('chain: static first, then template; extra resolvers plug in first', async (t) => {
  const stack = createStaticResolver([['echo', new URL('http://stack:1')]]);
  const r = createResolver({ functions: 'echo=http://static:1,other=http://static:2', functionUrlTemplate: 'http://{name}:8080', functionNamespace: 'openfaas-fn' }, [stack]);
  t.equal(r.resolve('echo')?.host, 'stack:1');
  t.equal(r.resolve('other')?.host, 'static:2');
  t.equal(r.resolve('anything')?.host, 'anything:8080');
  t.same(r.list().map((e) => e.name), ['echo', 'other']);
  t.equal(createResolver({ functionNamespace: 'openfaas-fn' }).resolve('x'), undefined);
  t.equal(chainResolvers([stack]), stack);
});

import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../common/options.js';
import { chainResolvers, createResolver, createStaticResolver, createTemplateResolver, parseFunctionMap, splitName } from '../../router/resolver.js';

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

t.test('template: name.namespace, the default namespace, or none', async (t) => {
  t.same(splitName('figlet.dev', 'fn'), { fn: 'figlet', namespace: 'dev' });
  t.same(splitName('figlet', 'fn'), { fn: 'figlet', namespace: 'fn' });
  const r = createTemplateResolver('http://{name}.{namespace}:8080', 'openfaas-fn');
  t.equal(r.resolve('figlet.dev')?.href, 'http://figlet.dev:8080/');
  t.equal(r.resolve('figlet')?.href, 'http://figlet.openfaas-fn:8080/');
  t.equal(r.resolve('figlet')?.href, 'http://figlet.openfaas-fn:8080/', 'cached');
  t.equal(createTemplateResolver('http://{name}.{namespace}:8080', '').resolve('echo')?.href, 'http://echo:8080/');
  t.same(r.list(), []);
});

t.test('chain: static first, then template; extra resolvers plug in first', async (t) => {
  const stack = createStaticResolver([['echo', new URL('http://stack:1')]]);
  const r = createResolver({ functions: 'echo=http://static:1,other=http://static:2', functionUrlTemplate: 'http://{name}:8080', functionNamespace: '' }, [stack]);
  t.equal(r.resolve('echo')?.host, 'stack:1');
  t.equal(r.resolve('other')?.host, 'static:2');
  t.equal(r.resolve('anything')?.host, 'anything:8080');
  t.same(r.list().map((e) => e.name), ['echo', 'other']);
  t.equal(createResolver({ functionNamespace: '' }).resolve('x'), undefined);
  t.equal(chainResolvers([stack]), stack);
});

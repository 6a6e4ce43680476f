import t from 'tap';
import { matchRoute, pathProblem } from '../../router/routes.js';
import { RouterError } from '../../router/errors.js';

t.test('function routes carry the name, the raw path suffix and the raw query', async (t) => {
  t.same(matchRoute('/function/echo'), { kind: 'function', name: 'echo', path: '', query: '' });
  t.same(matchRoute('/function/echo/'), { kind: 'function', name: 'echo', path: '/', query: '' });
  t.same(matchRoute('/function/echo/some/path?x=1&y=2'), { kind: 'function', name: 'echo', path: '/some/path', query: 'x=1&y=2' });
  t.same(matchRoute('/function/figlet.dev/a%20b?q'), { kind: 'function', name: 'figlet.dev', path: '/a%20b', query: 'q' });
  t.same(matchRoute('/async-function/echo/a/b?q=1'), { kind: 'async', name: 'echo', path: '/a/b', query: 'q=1' });
});

t.test('system, health and metrics routes', async (t) => {
  t.same(matchRoute('/system/functions'), { kind: 'system', path: '/functions', query: '' });
  t.same(matchRoute('/system/calls?function=echo'), { kind: 'system', path: '/calls', query: 'function=echo' });
  t.same(matchRoute('/healthz'), { kind: 'healthz', query: '' });
  t.same(matchRoute('/metrics'), { kind: 'metrics', query: '' });
});

const cases: Array<[string, string, number]> = [
  ['/function/..%2f..', 'ROUTER_ERR_BAD_PATH', 400],
  ['/function/a%2Fb', 'ROUTER_ERR_BAD_PATH', 400],
  ['/function/a%5cb', 'ROUTER_ERR_BAD_PATH', 400],
  ['/function/a%20b', 'ROUTER_ERR_BAD_NAME', 400],
  ['/function/a b', 'ROUTER_ERR_BAD_PATH', 400],
  ['/function/a/b/../c', 'ROUTER_ERR_BAD_PATH', 400],
  ['/function/a/%2e%2e/c', 'ROUTER_ERR_BAD_PATH', 400],
  ['/function/./x', 'ROUTER_ERR_BAD_PATH', 400],
  ['/function/..', 'ROUTER_ERR_BAD_PATH', 400],
  ['/function/a$b', 'ROUTER_ERR_BAD_NAME', 400],
  ['/function/ok/%zz', 'ROUTER_ERR_BAD_PATH', 400],
  ['/function/ok/a%00', 'ROUTER_ERR_BAD_PATH', 400],
  ['/function/', 'ROUTER_ERR_NOT_FOUND', 404],
  ['/nothing', 'ROUTER_ERR_NOT_FOUND', 404],
  ['/functionx/echo', 'ROUTER_ERR_NOT_FOUND', 404],
  ['http://evil/function/echo', 'ROUTER_ERR_BAD_PATH', 400],
];
for (const [target, code, status] of cases) {
  t.test(`${target} is refused with ${code}`, async (t) => {
    const m = matchRoute(target);
    t.ok(m instanceof RouterError, 'an error, not a route');
    t.match(m, { code, status });
    t.ok((m as RouterError).message.length > 10, 'the error says why');
  });
}

t.test('pathProblem accepts ordinary paths', async (t) => {
  for (const ok of ['/', '/function/echo/a/b.c/..d/e..', '/function/x/%41%20b', '/function/x//y']) t.equal(pathProblem(ok), undefined, ok);
});

// A request body that arrived with its head goes to the function as one Buffer (sent with the head, no
// stream listeners); a body still arriving is streamed. Node's server parses straight from the socket, so
// the body is parsed in a later call into JS than the head: the proxy must look once the whole read is parsed.
import t from 'tap';
import type { Dispatcher } from 'undici';
import { createLogger } from '../../common/log.js';
import { RouterServer } from '../../router/server.js';
import { createStaticResolver } from '../../router/resolver.js';
import { createUpstreamDispatcher } from '../../router/upstream.js';
import { startUpstream } from '../helpers/start-router.js';
import { raw } from '../helpers/raw-http.js';

type BodyKind = 'none' | 'buffer' | 'stream';

async function setUp(t: { teardown(fn: () => unknown): void }) {
  const up = await startUpstream(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => res.end(Buffer.concat(chunks)));
  });
  const real = createUpstreamDispatcher({ upstreamTimeoutMs: 10_000 });
  t.teardown(() => real.close());
  const bodies: BodyKind[] = [];
  // The pool as the router uses it, noting what each call's body was handed over as.
  const spy = Object.create(real) as Dispatcher;
  spy.dispatch = (opts, handler) => {
    bodies.push(opts.body == null ? 'none' : Buffer.isBuffer(opts.body) ? 'buffer' : 'stream');
    return real.dispatch(opts, handler);
  };
  const r = new RouterServer({
    readTimeoutMs: 10_000, writeTimeoutMs: 10_000, upstreamTimeoutMs: 10_000, basicAuth: false, secretMountPath: '/nonexistent', functionNamespace: '',
  }, { resolver: createStaticResolver([['echo', new URL(up.url)]]), log: createLogger({ format: 'json', write: () => {} }), dispatcher: spy });
  const { port } = await r.listen(0, '127.0.0.1');
  t.teardown(() => r.close(0));
  return { port, bodies };
}

const BODY = 'hello world, this is a small body';
const HEAD = `POST /function/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${BODY.length}\r\n\r\n`;

t.test('a small body sent with its head is dispatched as one Buffer and arrives whole', async (t) => {
  const { port, bodies } = await setUp(t);
  const answer = await raw(port, [HEAD + BODY]);
  t.match(answer, /^HTTP\/1\.1 200 /);
  t.ok(answer.endsWith(`\r\n\r\n${BODY}`), 'the function got the body and echoed it');
  t.same(bodies, ['buffer']);
});

t.test('a body that comes after its head is streamed and arrives whole', async (t) => {
  const { port, bodies } = await setUp(t);
  const answer = await raw(port, [HEAD, BODY.slice(0, 10), BODY.slice(10)], 3_000, 50);
  t.match(answer, /^HTTP\/1\.1 200 /);
  t.ok(answer.endsWith(`\r\n\r\n${BODY}`), 'the function got the body and echoed it');
  t.same(bodies, ['stream']);
});

t.test('a call without a body is dispatched without one', async (t) => {
  const { port, bodies } = await setUp(t);
  const answer = await raw(port, ['GET /function/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
  t.match(answer, /^HTTP\/1\.1 200 /);
  t.same(bodies, ['none']);
});

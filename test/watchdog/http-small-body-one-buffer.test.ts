// http mode: a request body that arrived with its head goes to the function as one Buffer (sent with the
// head, no stream listeners); a body still arriving is streamed. Node's server parses straight from the
// socket and calls into JS once for the head and again for the body, so the runner looks only once the whole
// read is parsed (an immediate); a microtask saw every body as still arriving.
import t from 'tap';
import { createServer } from 'node:http';
import type { Dispatcher } from 'undici';
import { createLogger } from '../../common/log.js';
import { loadWatchdogConfig } from '../../watchdog/config.js';
import { HttpRunner } from '../../watchdog/runners/http.js';
import { selectSpawnBackend } from '../../watchdog/spawn/select.js';
import { freePort } from '../../common/free-port.js';
import { raw } from '../helpers/raw-http.js';

type BodyKind = 'none' | 'buffer' | 'stream';

const ECHO = "require('http').createServer((q,s)=>{const c=[];q.on('data',d=>c.push(d)).on('end',()=>s.end(Buffer.concat(c)))}).listen(Number(process.env.ECHO_PORT),'127.0.0.1')";

async function setUp(t: { teardown(fn: () => unknown): void }) {
  const echoPort = await freePort();
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ECHO_PORT: String(echoPort) };
  const config = loadWatchdogConfig({}, { mode: 'http', fprocess: `${process.execPath} -e ${JSON.stringify(ECHO)}`, upstream_url: `http://127.0.0.1:${echoPort}`, spawn_backend: 'child_process' });
  const log = createLogger({ format: 'json', write: () => {} });
  const backend = await selectSpawnBackend('child_process', log);
  const runner = new HttpRunner({ config, backend, env, log, output: { format: 'json', prefix: false, write: () => {} } });
  await runner.start();
  t.teardown(() => runner.stop());
  const bodies: BodyKind[] = [];
  // The runner's pool, noting what each call's body was handed over as.
  const inner = runner as unknown as { pool: Dispatcher };
  const real = inner.pool;
  const spy = Object.create(real) as Dispatcher;
  spy.dispatch = (opts, handler) => {
    bodies.push(opts.body == null ? 'none' : Buffer.isBuffer(opts.body) ? 'buffer' : 'stream');
    return real.dispatch(opts, handler);
  };
  inner.pool = spy;
  const server = createServer((req, res) => runner.handle(req, res, performance.now()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  for (let i = 0; i < 200 && !runner.ready(); i++) await new Promise((r) => setTimeout(r, 25));
  return { port: (server.address() as { port: number }).port, bodies };
}

const BODY = 'hello world, this is a small body';
const HEAD = `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${BODY.length}\r\n\r\n`;

t.test('http mode: a small body sent with its head goes up as one Buffer, one still arriving is streamed', async (t) => {
  const { port, bodies } = await setUp(t);
  const whole = await raw(port, [HEAD + BODY]);
  t.match(whole, /^HTTP\/1\.1 200 /);
  t.ok(whole.endsWith(`\r\n\r\n${BODY}`), 'the function got the body and echoed it');
  const split = await raw(port, [HEAD, BODY.slice(0, 10), BODY.slice(10)], 3_000, 50);
  t.match(split, /^HTTP\/1\.1 200 /);
  t.ok(split.endsWith(`\r\n\r\n${BODY}`), 'the function got the streamed body and echoed it');
  t.same(bodies, ['buffer', 'stream']);
});

// Slowloris: a client that never finishes its headers is answered 408 and cut within about a second of
// read_timeout, not up to Node's 30 s connections-checking period later.
import t from 'tap';
import { connect } from 'node:net';
import { createLogger } from '../../common/log.js';
import { RouterServer } from '../../router/server.js';
import { createStaticResolver } from '../../router/resolver.js';

const quiet = createLogger({ write: () => {} });

t.test('an unfinished request head gets 408 within about a second of read_timeout', async (t) => {
  const readTimeoutMs = 1_500;
  const r = new RouterServer({
    readTimeoutMs, writeTimeoutMs: 10_000, upstreamTimeoutMs: 5_000, basicAuth: false, secretMountPath: '/nonexistent', functionNamespace: '',
  }, { resolver: createStaticResolver([]), log: quiet });
  const { port } = await r.listen(0, '127.0.0.1');
  t.teardown(() => r.close());
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  // Keep trickling one header byte at a time, as a slowloris client does.
  const trickle = setInterval(() => { if (socket.writable) socket.write('a'); }, 200);
  t.teardown(() => clearInterval(trickle));
  let answer = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => { answer += chunk; });
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const elapsed = performance.now() - started;
  t.match(answer, /^HTTP\/1\.1 408 /, 'the client is told why');
  t.ok(elapsed >= readTimeoutMs - 50, `not before read_timeout (${Math.round(elapsed)}ms)`);
  t.ok(elapsed < readTimeoutMs + 1_200, `cut within about a second of read_timeout ${readTimeoutMs}ms, took ${Math.round(elapsed)}ms`);
});

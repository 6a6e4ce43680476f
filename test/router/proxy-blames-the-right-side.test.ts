// Logs and metrics blame the side that failed: a client that stops reading is not an
// upstream timeout and does not make the function unhealthy; a client that closes is 499 client_closed.
import t from 'tap';
import { connect } from 'node:net';
import { createLogger } from '../../common/log.js';
import { RouterServer } from '../../router/server.js';
import { createStaticResolver } from '../../router/resolver.js';
import { startUpstream } from '../helpers/start-router.js';

interface Line { msg: string; [key: string]: unknown }

/** A router whose log lines can be awaited. */
async function router(t: { teardown(fn: () => unknown): void }, upstream: string, upstreamTimeoutMs: number) {
  const lines: Line[] = [];
  const waiters: Array<{ match: (l: Line) => boolean; resolve: (l: Line) => void }> = [];
  const log = createLogger({
    format: 'json',
    write: (text) => {
      const line = JSON.parse(text) as Line;
      lines.push(line);
      for (const w of waiters.splice(0)) if (w.match(line)) w.resolve(line); else waiters.push(w);
    },
  });
  const r = new RouterServer({
    readTimeoutMs: 10_000, writeTimeoutMs: 10_000, upstreamTimeoutMs, basicAuth: false, secretMountPath: '/nonexistent', functionNamespace: '',
  }, { resolver: createStaticResolver([['big', new URL(upstream)]]), log });
  const { port } = await r.listen(0, '127.0.0.1');
  t.teardown(() => r.close(0));
  const next = (match: (l: Line) => boolean): Promise<Line> =>
    new Promise((resolve) => { const seen = lines.find(match); if (seen) resolve(seen); else waiters.push({ match, resolve }); });
  return { r, port, lines, next };
}

// 64 MiB in 1 MiB pieces, so the client's and the router's socket buffers fill long before the end.
async function bigUpstream(t: { teardown(fn: () => unknown): void }) {
  const piece = Buffer.alloc(1 << 20, 0x61);
  return startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    let left = 64;
    const pump = (): void => {
      while (left > 0) { left--; if (!res.write(piece)) { res.once('drain', pump); return; } }
      res.end();
    };
    res.on('close', () => { left = 0; });
    pump();
  });
}

t.test('a client that stops reading is cut as client_stalled, counted 499, and the function stays healthy', async (t) => {
  const up = await bigUpstream(t);
  const { r, port, lines, next } = await router(t, up.url, 800);
  const socket = connect(port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  socket.write('GET /function/big HTTP/1.1\r\nHost: x\r\n\r\n');
  socket.pause(); // and never read
  const cut = await next((l) => l['function'] === 'big' && (l['cut'] !== undefined || l['code'] !== undefined));
  t.equal(cut['cut'], 'client_stalled', `the log names the client: ${JSON.stringify(cut)}`);
  t.equal(cut['sentStatus'], 200, 'and the status the client already had');
  t.notOk(lines.some((l) => l['code'] === 'ROUTER_ERR_UPSTREAM_TIMEOUT'), 'no upstream timeout is logged');
  const metrics = await r.metrics.registry.getSingleMetricAsString('gateway_function_invocation_total');
  t.match(metrics, /gateway_function_invocation_total\{function_name="big",code="499"\} 1/);
  t.notMatch(metrics, /code="504"/);
  t.not(r.stats.get('big')?.health, 'timeout', 'the function is not marked as timing out');
});

t.test('a client that closes mid-response is 499 client_closed', async (t) => {
  const up = await bigUpstream(t);
  const { r, port, next } = await router(t, up.url, 10_000);
  const socket = connect(port, '127.0.0.1');
  socket.write('GET /function/big HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.destroy();
  const cut = await next((l) => l['function'] === 'big' && l['cut'] !== undefined);
  t.equal(cut['cut'], 'client_closed');
  const metrics = await r.metrics.registry.getSingleMetricAsString('gateway_function_invocation_total');
  t.match(metrics, /gateway_function_invocation_total\{function_name="big",code="499"\} 1/);
});

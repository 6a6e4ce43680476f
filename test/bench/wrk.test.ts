// bench/wrk.ts reads its figures from wrk's Lua `done` hook: requests, rate, p50/p99/p99.9, and 4xx/5xx
// answers counted as errors. Skipped without wrk, unless REQUIRE_WRK=1 (CI), where it fails.

import { createServer, type Server } from 'node:http';
import t from 'tap';
import { hasWrk, runWrk } from '../../bench/wrk.js';

async function serve(status: number): Promise<{ server: Server; url: string; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); }).on('end', () => {
      if (bodies.length < 3) bodies.push(`${req.method} ${req.headers['content-type']} ${body}`);
      res.statusCode = status;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, bodies };
}

if (!hasWrk()) {
  if (process.env.REQUIRE_WRK === '1') t.fail('wrk is not installed (REQUIRE_WRK=1)');
  else t.pass('skipped', { skip: 'wrk is not installed' });
} else {
  t.test('a run reports its rate, percentiles up to p99.9, and sends the request asked for', async (t) => {
    const { server, url, bodies } = await serve(200);
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const r = await runWrk({ url, method: 'POST', body: 'ping', headers: { 'Content-Type': 'text/plain' }, connections: 2, durationMs: 1000 });
    t.ok(r.requests > 0, `${r.requests} requests`);
    t.equal(r.errors, 0);
    t.ok(Math.abs(r.rps - r.requests / (r.elapsedMs / 1000)) < 1e-6, 'rate = requests ÷ elapsed');
    t.ok(r.elapsedMs >= 900 && r.elapsedMs < 5000, `elapsed ${r.elapsedMs} ms`);
    t.ok(r.p50 > 0 && r.p50 <= r.p99 && r.p99 <= r.p999, `p50 ${r.p50} ≤ p99 ${r.p99} ≤ p99.9 ${r.p999} ms`);
    t.ok(r.p999 < 1000, 'latencies are in milliseconds');
    t.same(bodies[0], 'POST text/plain ping');
  });

  t.test('answers of 400 and above count as errors', async (t) => {
    const { server, url } = await serve(503);
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const r = await runWrk({ url, connections: 1, durationMs: 1000 });
    t.ok(r.requests > 0);
    t.equal(r.errors, r.requests, 'every 503 is an error');
  });
}

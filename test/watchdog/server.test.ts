// The HTTP front on its own: a runner that breaks its contract (throws from handle) fails that one request
// with a 500 marked as the watchdog's own; the server goes on serving.
import t from 'tap';
import { request } from 'undici';
import { loadWatchdogConfig } from '../../watchdog/config.js';
import { createLogger } from '../../common/log.js';
import { NO_METRICS } from '../../watchdog/metrics.js';
import type { Runner } from '../../watchdog/runners/types.js';
import { WatchdogServer } from '../../watchdog/server.js';

t.test('a runner that throws fails its request, and the next request is served', async (t) => {
  const lines: string[] = [];
  let calls = 0;
  const runner: Runner = {
    async start() {},
    ready: () => true,
    async stop() {},
    handle(_req, res) {
      if (++calls === 1) throw new Error('broken runner');
      res.end('fine');
    },
  };
  const config = loadWatchdogConfig({}, { fprocess: 'cat', port: '0' });
  const server = new WatchdogServer(config, { runner, metrics: NO_METRICS, log: createLogger({ write: (l) => lines.push(l) }), lock: undefined });
  const port = await server.listen();
  server.accepting = true;
  t.teardown(() => server.close(0));
  const failed = await request(`http://127.0.0.1:${port}/`);
  t.equal(failed.statusCode, 500);
  t.equal(failed.headers['x-watchdog-error'], 'WD_ERR_INTERNAL');
  t.equal(await failed.body.text(), 'internal error\n', 'no detail leaks to the client');
  t.match(lines.join(''), /request failed err="broken runner"/);
  const next = await request(`http://127.0.0.1:${port}/`);
  t.equal(next.statusCode, 200);
  t.equal(await next.body.text(), 'fine');
});

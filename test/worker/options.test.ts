// The worker's settings: its own table (a declared subset of the router's) and the router's
// in-process worker reading the router's values.
import t from 'tap';
import { ConfigError } from '../../common/options.js';
import { loadRouterConfig } from '../../router/config.js';
import { loadWorkerConfig, workerConfigOf } from '../../router/worker/options.js';

t.test('whippet worker reads the shared settings under the router\'s names, and its own port', async (t) => {
  const config = loadWorkerConfig({ 'max-inflight': '3' }, { ack_wait: '2s', port: '0', retry_http_codes: '503', functions: 'a=http://127.0.0.1:1' });
  t.match(config, { port: 0, maxInflight: 3, ackWaitMs: 2_000, retryHttpCodes: [503], writeTimeoutMs: 60_000 });
  t.ok(Object.isFrozen(config), 'parsed once and frozen');
  t.equal(loadWorkerConfig({}, { function_url_template: 'http://{name}:8080' }).port, 8082, 'port defaults to 8082');
});

t.test('every problem is reported at once, cross-field rules included', async (t) => {
  const err = t.throws(() => loadWorkerConfig({}, { max_inflight: '0', ack_wait: 'soon', functions: 'a=http://127.0.0.1:1' }));
  t.ok(err instanceof ConfigError, 'a ConfigError');
  t.equal((err as ConfigError).problems.length, 2, 'both problems named');
  t.throws(() => loadWorkerConfig({}, { initial_retry_wait: '10s', max_retry_wait: '1s', functions: 'a=http://127.0.0.1:1' }), /max_retry_wait \(1000ms\) must not be below initial_retry_wait/);
  t.throws(() => loadWorkerConfig({}, {}), /no way to find the functions: set functions \(name=url,...\) or function_url_template/,
    'a worker that could call no function does not start (every call would be dead-lettered)');
});

t.test('a router\'s in-process worker gets the router\'s values and serves nothing itself', async (t) => {
  const router = loadRouterConfig({}, { max_inflight: '7', ack_wait: '3s', write_timeout: '20s', upstream_timeout: '10s', callback_secret: 'k' });
  const worker = workerConfigOf(router);
  t.match(worker, { port: 0, maxInflight: 7, ackWaitMs: 3_000, writeTimeoutMs: 20_000, upstreamTimeoutMs: 10_000, callbackSecret: 'k', queue: router.queue });
  t.ok(Object.isFrozen(worker));
});

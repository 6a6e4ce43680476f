import t from 'tap';
import { ConfigError } from '../../common/options.js';
import { join } from 'node:path';
import { machineCores } from '../../router/cluster/cores.js';
import { ROUTER_OPTIONS, loadRouterConfig, parseHostList, parseWorkers, parseLongDurationMs, parseStatusList, parseUrlTemplate } from '../../router/config.js';
import { BACKENDS, createQueue } from '../../router/queue/index.js';

t.test('defaults follow the DESIGN table', async (t) => {
  const c = loadRouterConfig({}, {});
  t.match(c, {
    port: 8080, readTimeoutMs: 60_000, writeTimeoutMs: 60_000, upstreamTimeoutMs: 60_000, functions: undefined,
    functionUrlTemplate: undefined, functionNamespace: 'openfaas-fn', queue: 'sqlite:.whippet/queue.db', ackWaitMs: 30_000,
    maxInflight: 16, retryHttpCodes: [408, 429, 500, 502, 503, 504], initialRetryWaitMs: 1000, maxRetryWaitMs: 120_000,
    maxRetryAttempts: 10, maxEventAgeMs: 6 * 3_600_000, callRetentionMs: 7 * 86_400_000, maxAsyncBodyBytes: 1024 * 1024,
    callbackAllow: undefined, callbackSecret: undefined, basicAuth: false, secretMountPath: '/run/secrets', logFormat: 'text',
  });
  t.ok(Object.isFrozen(c));
});

t.test('workers: one process unless set; 1 or more, or auto (the cores this process may use)', async (t) => {
  t.equal(loadRouterConfig({}, {}).workers, 1);
  t.equal(loadRouterConfig({}, { workers: 'auto' }).workers, machineCores().cores, 'auto reads the machine');
  t.equal(loadRouterConfig({ workers: 'AUTO' }, {}).workers, machineCores().cores, 'any case, as a flag too');
  t.equal(parseWorkers('auto', () => 3), 3);
  t.equal(parseWorkers('2', () => 3), 2, 'a number is taken as it is');
  t.equal(loadRouterConfig({ workers: '1' }, { workers: '3' }).workers, 1, 'the flag beats the env');
  t.equal(loadRouterConfig({}, { workers: '3' }).workers, 3);
  for (const bad of ['0', '-1', 'two', '1.5', 'automatic']) t.throws(() => loadRouterConfig({}, { workers: bad }), ConfigError, bad);
});

t.test('every setting of the table is an env name with a flag', async (t) => {
  const envs: string[] = Object.values(ROUTER_OPTIONS).map((o) => o.env[0]);
  for (const name of ['port', 'read_timeout', 'write_timeout', 'upstream_timeout', 'functions', 'function_url_template',
    'namespace', 'queue', 'ack_wait', 'max_inflight', 'retry_http_codes', 'initial_retry_wait', 'max_retry_wait',
    'max_retry_attempts', 'max_event_age', 'call_retention', 'max_async_body', 'callback_allow', 'callback_secret',
    'basic_auth', 'secret_mount_path', 'log_format']) t.ok(envs.includes(name), name);
});

t.test('flag beats env beats default', async (t) => {
  const c = loadRouterConfig({ 'upstream-timeout': '2s' }, { upstream_timeout: '5s', port: '0', basic_auth: 'true' });
  t.equal(c.upstreamTimeoutMs, 2000);
  t.equal(c.port, 0);
  t.equal(c.basicAuth, true);
});

t.test('every bad value is reported at once, naming the variable and the value', async (t) => {
  const err = t.throws(() => loadRouterConfig({}, { port: 'x', upstream_timeout: 'soon', queue: 'redis://x', retry_http_codes: '500,abc' })) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.equal(err.problems.length, 4);
  t.match(err.message, /port \(env port\).*"x"/);
  t.match(err.message, /upstream_timeout \(env upstream_timeout\).*"soon"/);
  t.match(err.message, /queue.*"redis:\/\/x"/);
  t.match(err.message, /retry_http_codes.*"500,abc"/);
});

t.test('cross-field rules', async (t) => {
  t.match(t.throws(() => loadRouterConfig({}, { upstream_timeout: '90s' })), { problems: [/upstream_timeout .* must not exceed write_timeout/] });
  t.match(t.throws(() => loadRouterConfig({}, { initial_retry_wait: '10s', max_retry_wait: '1s' })), { problems: [/max_retry_wait/] });
});

t.test('parsers', async (t) => {
  t.equal(parseLongDurationMs('7d'), 7 * 86_400_000);
  t.equal(parseLongDurationMs('1d12h'), 36 * 3_600_000);
  t.equal(parseLongDurationMs('90s'), 90_000);
  t.throws(() => parseLongDurationMs('1w'));
  t.same(parseStatusList('429, 503'), [429, 503]);
  t.throws(() => parseStatusList('42'));
  t.throws(() => parseStatusList('503,200'), /200 is a success, so it is never retried: list codes of 300 or more/);
  t.same(parseStatusList('307,503'), [307, 503], 'a 3xx stays allowed: a callback is delivered only on 2xx');
  t.same(parseHostList('Example.com,*.svc.local,10.0.0.0/8,::1,127.0.0.1'), ['example.com', '*.svc.local', '10.0.0.0/8', '::1', '127.0.0.1']);
  t.throws(() => parseHostList('10.0.0.0/33'));
  t.throws(() => parseHostList('http://x'));
  t.equal(parseUrlTemplate('http://{name}.{namespace}:8080'), 'http://{name}.{namespace}:8080');
  t.throws(() => parseUrlTemplate('http://fixed:8080'));
  t.throws(() => parseUrlTemplate('ftp://{name}'));
});

t.test('namespace: one the router serves, function_namespace still read as its alias', async (t) => {
  t.equal(loadRouterConfig({}, { namespace: 'team-a' }).functionNamespace, 'team-a');
  t.equal(loadRouterConfig({}, { function_namespace: 'whippet-fn' }).functionNamespace, 'whippet-fn');
  t.match(t.throws(() => loadRouterConfig({}, { namespace: 'Bad_NS' })), { problems: [/namespace.*lower-case/] });
});

t.test('the queue setting accepts exactly the URLs the queue opens, for every scheme in the backend table', async (t) => {
  const dir = t.testdir();
  // Per scheme, URLs the backend takes and URLs it refuses. Port 1 refuses connections: a network
  // backend given a good URL fails to connect (QUEUE_ERR_UNAVAILABLE), not to parse (QUEUE_ERR_URL).
  const candidates: Record<string, string[]> = {
    'sqlite:': [`sqlite:${join(dir, 'a.db')}`, `sqlite://${join(dir, 'b.db')}?synchronous=normal`, 'sqlite:', 'sqlite::memory:', `sqlite:${join(dir, 'c.db')}?synchronous=off`],
    'nats://': ['nats://127.0.0.1:1', 'nats://127.0.0.1:1,nats://127.0.0.1:2?replicas=3&name=x-1', 'nats://', 'nats://127.0.0.1:1?replicas=2', 'nats://127.0.0.1:1,http://b'],
    'tls://': ['tls://127.0.0.1:1', 'nats://127.0.0.1:1,tls://127.0.0.1:2', 'tls://', 'tls://127.0.0.1:1/path'],
    other: ['redis://127.0.0.1:1', 'http://127.0.0.1:1', ''],
  };
  const schemes = BACKENDS.flatMap((backend) => backend.schemes);
  t.same(schemes.filter((scheme) => candidates[scheme] === undefined), [], 'every scheme in the table has candidate URLs here');
  for (const url of Object.values(candidates).flat()) {
    const configAccepts = (() => { try { return loadRouterConfig({}, { queue: url }).queue === url; } catch { return false; } })();
    const opened = await createQueue(url, { ackWaitMs: 1_000 }).then(async (queue) => { await queue.close(); return null; }, (err: unknown) => err);
    const queueAccepts = (opened as { code?: unknown } | null)?.code !== 'QUEUE_ERR_URL';
    t.equal(configAccepts, queueAccepts, `${JSON.stringify(url)}: config ${configAccepts ? 'accepts' : 'refuses'}, the queue ${queueAccepts ? 'accepts' : 'refuses'}`);
  }
  t.ok(loadRouterConfig({}, { queue: 'tls://nats.example:4222' }), 'tls:// is a queue URL (docs/queues.md)');
});

import t from 'tap';
import { loadWatchdogConfig } from '../../watchdog/config.js';
import { ConfigError } from '../../common/options.js';

t.test('defaults follow the contract', async (t) => {
  const c = loadWatchdogConfig({}, { fprocess: 'node index.js' });
  t.same(c.fprocess, ['node', 'index.js']);
  t.equal(c.mode, 'serializing');
  t.equal(c.port, 8080);
  t.equal(c.readTimeoutMs, 30_000);
  t.equal(c.writeTimeoutMs, 30_000);
  t.equal(c.execTimeoutMs, 30_000);
  t.equal(c.healthcheckIntervalMs, 5000, 'min(write_timeout, 5s)');
  t.equal(c.maxInflight, 0);
  t.equal(c.contentType, undefined);
  t.equal(c.combineOutput, true);
  t.equal(c.writeDebug, false);
  t.equal(c.prefixLogs, true);
  t.equal(c.logFormat, 'text');
  t.equal(c.suppressLock, false);
  t.equal(c.marshalRequest, false);
  t.equal(c.maxRequestBodyBytes, 64 * 1024 * 1024, 'max_request_body 64MiB');
  t.equal(c.metricsPort, 8081);
  t.equal(c.spawnBackend, 'auto');
  t.equal(c.spawnMethod, 'auto');
  t.ok(Object.isFrozen(c));
});

t.test('spawn_backend: native, with posix_spawn as its former name; spawn_method caps how it makes children', async (t) => {
  t.equal(loadWatchdogConfig({}, { fprocess: 'cat', spawn_backend: 'native' }).spawnBackend, 'native');
  t.equal(loadWatchdogConfig({}, { fprocess: 'cat', spawn_backend: 'posix_spawn' }).spawnBackend, 'native');
  t.equal(loadWatchdogConfig({ 'spawn-method': 'clone' }, { fprocess: 'cat', spawn_method: 'posix_spawn' }).spawnMethod, 'clone');
  t.equal(loadWatchdogConfig({}, { fprocess: 'cat', spawn_method: 'posix_spawn' }).spawnMethod, 'posix_spawn');
  t.throws(() => loadWatchdogConfig({}, { fprocess: 'cat', spawn_method: 'vfork' }), { name: 'ConfigError', message: /spawn_method \(env spawn_method\): expected one of auto, clone3, clone, posix_spawn, got "vfork"/ });
});

t.test('flag beats env; function_process is an alias; healthcheck_interval follows a short write_timeout', async (t) => {
  const c = loadWatchdogConfig({ 'exec-timeout': '2s', 'write-timeout': '3s' }, { function_process: 'cat', exec_timeout: '9s', mode: 'streaming' });
  t.same(c.fprocess, ['cat']);
  t.equal(c.execTimeoutMs, 2000);
  t.equal(c.healthcheckIntervalMs, 3000);
  t.equal(c.mode, 'streaming');
});

t.test('static mode needs no fprocess; http mode needs upstream_url', async (t) => {
  t.same(loadWatchdogConfig({}, { mode: 'static' }).fprocess, []);
  t.throws(() => loadWatchdogConfig({}, { mode: 'http', fprocess: 'node s.js' }), { name: 'ConfigError', message: /upstream_url.*required/ });
  const h = loadWatchdogConfig({}, { mode: 'http', fprocess: 'node s.js', upstream_url: 'http://127.0.0.1:3000' });
  t.equal(h.upstreamUrl?.port, '3000');
  t.throws(() => loadWatchdogConfig({}, { mode: 'http', fprocess: 'x', upstream_url: 'ftp://x' }), { name: 'ConfigError', message: /upstream_url.*http:\/\// });
});

t.test('every problem is reported at once, naming variable and value', async (t) => {
  try {
    loadWatchdogConfig({}, { exec_timeout: 'abc', port: '-1', mode: 'bogus', max_inflight: 'x', combine_output: 'maybe' });
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    const text = (err as ConfigError).message;
    for (const re of [/exec_timeout.*"abc"/, /port.*"-1"/, /mode.*"bogus"/, /max_inflight.*"x"/, /combine_output.*"maybe"/]) t.match(text, re);
  }
  t.throws(() => loadWatchdogConfig({}, {}), { name: 'ConfigError', message: /fprocess.*required/ });
});

t.test('max_request_body takes sizes with units; 0 is no limit; nonsense names the setting', async (t) => {
  t.equal(loadWatchdogConfig({}, { fprocess: 'cat', max_request_body: '512k' }).maxRequestBodyBytes, 512 * 1024);
  t.equal(loadWatchdogConfig({}, { fprocess: 'cat', max_request_body: '2MiB' }).maxRequestBodyBytes, 2 * 1024 * 1024);
  t.equal(loadWatchdogConfig({ 'max-request-body': '1g' }, { fprocess: 'cat' }).maxRequestBodyBytes, 1024 ** 3);
  t.equal(loadWatchdogConfig({}, { fprocess: 'cat', max_request_body: '0' }).maxRequestBodyBytes, 0);
  t.throws(() => loadWatchdogConfig({}, { fprocess: 'cat', max_request_body: 'lots' }), { name: 'ConfigError', message: /max_request_body \(env max_request_body\): expected a size.*"lots"/ });
});

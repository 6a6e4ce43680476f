// Bad configuration exits 1 naming the variable and the bad value, and never listens.
import t from 'tap';
import { runWatchdogCli } from '../helpers/start-watchdog.js';

const cases: { name: string; env: Record<string, string>; args?: string[]; expect: RegExp[] }[] = [
  { name: 'exec_timeout=abc', env: { fprocess: 'cat', exec_timeout: 'abc' }, expect: [/exec_timeout/, /"abc"/] },
  { name: 'port=-1', env: { fprocess: 'cat', port: '-1' }, expect: [/port/, /"-1"/] },
  { name: 'mode=bogus', env: { fprocess: 'cat', mode: 'bogus' }, expect: [/mode/, /"bogus"/, /serializing/] },
  { name: 'no fprocess', env: {}, expect: [/fprocess/, /required/] },
  { name: 'a flag is named as a flag', env: { fprocess: 'cat' }, args: ['--write-timeout', '0'], expect: [/write_timeout \(--write-timeout\)/, /"0"/] },
  { name: 'unbalanced quotes in fprocess', env: { fprocess: `sh -c 'echo` }, expect: [/fprocess/, /quote/] },
  { name: 'http mode without upstream_url', env: { fprocess: 'cat', mode: 'http' }, expect: [/upstream_url/] },
  { name: 'max_request_body=huge', env: { fprocess: 'cat', max_request_body: 'huge' }, expect: [/max_request_body/, /"huge"/, /512k/] },
  { name: 'several problems at once', env: { fprocess: 'cat', exec_timeout: 'soon', max_inflight: 'many' }, expect: [/exec_timeout.*"soon"/, /max_inflight.*"many"/] },
];

for (const c of cases) {
  t.test(`${c.name}: exit 1, message names the variable and value, never listens`, async (t) => {
    const r = await runWatchdogCli({ port: '0', metrics_port: '0', ...c.env }, c.args);
    t.equal(r.code, 1, 'exit code 1');
    for (const re of c.expect) t.match(r.stderr, re);
    t.notMatch(r.stderr, /listening/, 'never listened');
    t.notMatch(r.stderr, /    at /, 'no stack trace');
  });
}

t.test('a missing static_path stops the start', async (t) => {
  const r = await runWatchdogCli({ port: '0', metrics_port: '0', mode: 'static', static_path: '/nonexistent/public' });
  t.equal(r.code, 1);
  t.match(r.stderr, /static_path.*\/nonexistent\/public.*ENOENT/);
  t.notMatch(r.stderr, /listening/);
});

t.test('an unknown spawn_backend stops the start', async (t) => {
  const r = await runWatchdogCli({ port: '0', metrics_port: '0', fprocess: 'cat', spawn_backend: 'vfork' });
  t.equal(r.code, 1);
  t.match(r.stderr, /spawn_backend.*"vfork"/);
});

t.test('an unknown spawn_method stops the start; --help lists the setting', async (t) => {
  const r = await runWatchdogCli({ port: '0', metrics_port: '0', fprocess: 'cat', spawn_method: 'vfork' });
  t.equal(r.code, 1);
  t.match(r.stderr, /spawn_method.*"vfork"/);
  const help = await runWatchdogCli({}, ['--help']);
  t.match(help.stdout.replace(/\s+/g, ' '), /--spawn-method .*env: spawn_method\b/);
});

t.test('--help lists every setting with its env name and default', async (t) => {
  const r = await runWatchdogCli({}, ['--help']);
  t.equal(r.code, 0);
  const help = r.stdout.replace(/\s+/g, ' ');
  for (const env of ['fprocess', 'function_process', 'mode', 'port', 'read_timeout', 'write_timeout', 'exec_timeout', 'healthcheck_interval',
    'max_inflight', 'content_type', 'combine_output', 'write_debug', 'prefix_logs', 'log_format', 'suppress_lock', 'upstream_url',
    'buffer_http', 'marshal_request', 'max_request_body', 'metrics_port', 'static_path', 'spawn_backend']) {
    t.match(help, new RegExp(`env: [^\\]]*\\b${env}\\b`), env);
  }
  t.match(r.stdout, /--run-healthcheck/);
  t.match(r.stdout, /--exec-timeout/);
});

// A failing handler gives 500 with its output and X-Exit-Code; combine_output=false logs stderr instead.
import t from 'tap';
import { request } from 'undici';
import { handler, startWatchdog } from '../helpers/start-watchdog.js';
import { waitFor } from '../helpers/wait.js';

t.test('exit 3 with output on both streams: 500, both streams in the body, X-Exit-Code: 3', async (t) => {
  const wd = await startWatchdog(t, { fprocess: `sh ${handler('fail.sh')}` });
  const res = await request(`${wd.url}/`, { method: 'POST', body: 'x' });
  t.equal(res.statusCode, 500);
  t.equal(res.headers['x-exit-code'], '3');
  t.match(res.headers['x-duration-seconds'], /^\d+\.\d{6}$/);
  t.notOk(res.headers['x-openfaas-internal'], 'the function failed, not the watchdog');
  const body = await res.body.text();
  t.match(body, /^exit status 3\n/);
  t.match(body, /to-stdout\n/);
  t.match(body, /to-stderr\n/);
});

t.test('combine_output=false: stderr goes to the log, not the body', async (t) => {
  const wd = await startWatchdog(t, { fprocess: `sh ${handler('fail.sh')}`, combine_output: 'false' });
  const res = await request(`${wd.url}/`, { method: 'POST', body: 'x' });
  t.equal(res.statusCode, 500);
  t.equal(res.headers['x-exit-code'], '3');
  t.equal(await res.body.text(), 'exit status 3\nto-stdout\n');
  const line = await waitFor(() => wd.records().find((r) => r.msg === 'function output'), 3000, 'the stderr log line');
  t.match(line, { stream: 'stderr', line: 'to-stderr' });
});

t.test('prefix_logs and log_format shape function output lines', async (t) => {
  const wd = await startWatchdog(t, { fprocess: `sh ${handler('fail.sh')}`, combine_output: 'false', log_format: 'text' });
  await (await request(`${wd.url}/`, { method: 'POST', body: 'x' })).body.dump();
  await waitFor(() => /^\d{4}-\d\d-\d\dT[\d:.]+Z stderr: to-stderr$/m.test(wd.logs()), 3000, 'a prefixed text line');
  const plain = await startWatchdog(t, { fprocess: `sh ${handler('fail.sh')}`, combine_output: 'false', log_format: 'text', prefix_logs: 'false' });
  await (await request(`${plain.url}/`, { method: 'POST', body: 'x' })).body.dump();
  await waitFor(() => /^to-stderr$/m.test(plain.logs()), 3000, 'an unprefixed line');
  t.pass('both shapes seen');
});

t.test('content_type, write_debug and marshal_request', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', content_type: 'text/x-fixed', write_debug: 'true', marshal_request: 'true' });
  const res = await request(`${wd.url}/`, { method: 'POST', body: 'hello', headers: { 'x-one': 'a' } });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'text/x-fixed');
  const marshalled = JSON.parse(await res.body.text()) as { header: Record<string, string[]>; body: { raw: string } };
  t.same(marshalled.header['X-One'], ['a']);
  t.equal(Buffer.from(marshalled.body.raw, 'base64').toString(), 'hello');
  await waitFor(() => wd.records().find((r) => r.msg === 'function response'), 3000, 'the write_debug line');
});

t.test('a program that does not exist: 500 marked as the watchdog\'s own', async (t) => {
  const wd = await startWatchdog(t, { fprocess: '/nonexistent/handler' });
  const res = await request(`${wd.url}/`);
  t.equal(res.statusCode, 500);
  t.equal(res.headers['x-openfaas-internal'], 'watchdog');
  t.equal(res.headers['x-watchdog-error'], 'WD_ERR_SPAWN');
  t.match(await res.body.text(), /cannot start \/nonexistent\/handler/);
});

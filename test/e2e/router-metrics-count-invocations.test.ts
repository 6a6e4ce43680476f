// After 10 calls /metrics has the OpenFaaS gateway metrics with function_name and code.
import t from 'tap';
import { request } from 'undici';
import { startRouter, startWatchdog } from '../helpers/start-router.js';

t.test('10 calls are counted by function and status code', async (t) => {
  const ok = await startWatchdog(t, { fprocess: 'env' });
  const fail = await startWatchdog(t, { fprocess: 'false' });
  const router = await startRouter(t, { functions: `echo=${ok.url},broken=${fail.url}` });
  for (let i = 0; i < 7; i++) await (await request(`${router.url}/function/echo`, { method: 'POST', body: String(i) })).body.dump();
  for (let i = 0; i < 3; i++) await (await request(`${router.url}/function/broken`)).body.dump();
  const res = await request(`${router.url}/metrics`);
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain/);
  const text = await res.body.text();
  t.match(text, /^gateway_function_invocation_total\{function_name="echo",code="200"\} 7$/m);
  t.match(text, /^gateway_function_invocation_total\{function_name="broken",code="500"\} 3$/m);
  t.match(text, /^gateway_function_invocation_started\{function_name="echo"\} 7$/m);
  t.match(text, /^gateway_function_invocation_started\{function_name="broken"\} 3$/m);
  t.match(text, /^gateway_functions_seconds_count\{function_name="echo",code="200"\} 7$/m);
  t.match(text, /^gateway_functions_seconds_bucket\{le="\+Inf",function_name="broken",code="500"\} 3$/m);
  t.match(text, /^# TYPE gateway_functions_seconds histogram$/m);
  t.match(text, /^process_resident_memory_bytes \d+/m, 'process metrics too');
});

// The call-records API and `whippet calls`: list, show (credentials redacted), cancel a queued call,
// retry refused for a call that is not a dead letter, behind basic auth.
import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { CLI, childEnv, startRouter, startUpstream } from '../helpers/start-router.js';
import { postAsync } from '../helpers/async-calls.js';

function calls(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'calls', ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

t.test('calls API and CLI', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'basic-auth-user'), 'admin');
  writeFileSync(join(dir, 'basic-auth-password'), 'pw');
  const fn = await startUpstream(t, (_req, res) => res.end('ran'));
  const router = await startRouter(t, {
    functions: `echo=${fn.url},other=${fn.url}`, queue: `sqlite:${join(dir, 'q.db')}`, async_worker: 'false',
    basic_auth: 'true', secret_mount_path: dir,
  });
  const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
  t.equal((await postAsync(router.url, 'echo/p?q=1', { headers: { 'X-Call-Id': 'keep-1', Authorization: 'Bearer secret-token', Cookie: 's=1' } })).status, 202, 'invocations stay open under basic_auth');
  t.equal((await postAsync(router.url, 'other', { headers: { 'X-Call-Id': 'drop-1' }, body: Buffer.from([0, 1, 2, 255]) })).status, 202);

  const denied = await request(`${router.url}/system/calls`);
  t.equal(denied.statusCode, 401, '/system/calls needs credentials');
  await denied.body.dump();
  const env = { OPENFAAS_URL: router.url, OPENFAAS_USER: 'admin', OPENFAAS_PASSWORD: 'pw' };

  const list = await calls(['list'], env);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /^CALL ID\s+FUNCTION\s+STATUS/);
  t.match(list.stdout, /drop-1\s+other\s+queued/);
  t.match(list.stdout, /keep-1\s+echo\s+queued/);
  t.ok(list.stdout.indexOf('drop-1') < list.stdout.indexOf('keep-1'), 'newest first');
  const filtered = await calls(['list', '--function', 'echo', '--json'], env);
  t.same((JSON.parse(filtered.stdout) as Array<{ id: string }>).map((c) => c.id), ['keep-1'], '--function filters');

  const show = await calls(['show', 'keep-1', '--json'], env);
  const shown = JSON.parse(show.stdout) as { headers: Record<string, string>; path: string; query: string; status: string };
  t.match(shown, { path: '/p', query: 'q=1', status: 'queued', headers: { authorization: '[redacted]', cookie: '[redacted]', 'x-call-id': 'keep-1' } });
  t.notMatch(show.stdout, /secret-token/, 'credentials never shown');

  const noAuth = await calls(['list'], { OPENFAAS_URL: router.url });
  t.equal(noAuth.code, 1);
  t.match(noAuth.stderr, /401 invalid credentials/);
  const flags = await calls(['list', '--gateway', router.url, '--user', 'admin', '--password', 'pw'], {});
  t.equal(flags.code, 0, 'flags work as well as env');

  const cancel = await calls(['cancel', 'drop-1'], env);
  t.equal(cancel.code, 0, cancel.stderr);
  t.match(cancel.stdout, /cancelled: drop-1/);
  const again = await calls(['cancel', 'drop-1'], env);
  t.equal(again.code, 1, 'cancelling twice is refused');
  t.match(again.stderr, /409 .*cancelled/);
  const retryQueued = await calls(['retry', 'keep-1'], env);
  t.equal(retryQueued.code, 1);
  t.match(retryQueued.stderr, /409/);
  const unknown = await calls(['show', 'nope'], env);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /404 no call nope/);

  const byStatus = await request(`${router.url}/system/calls?status=cancelled`, { headers: auth });
  t.same((await byStatus.body.json() as Array<{ id: string; status: string }>).map((c) => [c.id, c.status]), [['drop-1', 'cancelled']]);
  const badQuery = await request(`${router.url}/system/calls?status=bogus`, { headers: auth });
  t.equal(badQuery.statusCode, 400);
  t.equal(badQuery.headers['x-router-error'], 'ROUTER_ERR_BAD_QUERY');
  await badQuery.body.dump();
  const wrongMethod = await request(`${router.url}/system/calls/keep-1`, { method: 'PUT', headers: auth, body: '' });
  t.equal(wrongMethod.statusCode, 405);
  t.equal(wrongMethod.headers['allow'], 'GET, HEAD, DELETE');
  await wrongMethod.body.dump();
  t.equal(fn.requests.length, 0, 'nothing ran: no worker in this router');
});

// With basic_auth, /system/* needs the credentials from secret_mount_path;
// invocations stay open.
import t from 'tap';
import { request } from 'undici';
import { startRouter, startWatchdog } from '../helpers/start-router.js';

const basic = (s: string) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });

t.test('401 without or with wrong credentials, 200 with the right ones; /function open', async (t) => {
  const secrets = t.testdir({ 'basic-auth-user': 'admin\n', 'basic-auth-password': 'correct horse\n' });
  const wd = await startWatchdog(t, { fprocess: 'env' });
  const router = await startRouter(t, { functions: `echo=${wd.url}`, basic_auth: 'true', secret_mount_path: secrets });
  const none = await request(`${router.url}/system/functions`);
  t.equal(none.statusCode, 401);
  t.equal(none.headers['www-authenticate'], 'Basic realm="Restricted"');
  t.equal(await none.body.text(), 'invalid credentials: /system/* needs the Basic credentials in basic-auth-user and basic-auth-password (faas-cli login, or whippet calls --user/--password)\n');
  const wrong = await request(`${router.url}/system/functions`, { headers: basic('admin:correct horse battery') });
  t.equal(wrong.statusCode, 401); await wrong.body.dump();
  const one = await request(`${router.url}/system/function/echo`, { headers: basic('admin:wrong') });
  t.equal(one.statusCode, 401); await one.body.dump();
  const right = await request(`${router.url}/system/functions`, { headers: basic('admin:correct horse') });
  t.equal(right.statusCode, 200);
  t.match(await right.body.json(), [{ name: 'echo', upstream: `${wd.url}/` }]);
  const fn = await request(`${router.url}/function/echo`);
  t.equal(fn.statusCode, 200, 'invocations need no credentials');
  t.match(await fn.body.text(), /Http_Method=GET/);
  const health = await request(`${router.url}/healthz`);
  t.equal(health.statusCode, 200, '/healthz stays open'); await health.body.dump();
});

t.test('basic_auth without the secret files stops the start, naming the files', async (t) => {
  const dir = t.testdir({});
  await t.rejects(startRouter(t, { basic_auth: 'true', secret_mount_path: dir }), /exited with 1[\s\S]*basic-auth-user[\s\S]*basic-auth-password/);
});

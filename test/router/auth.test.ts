import t from 'tap';
import { join } from 'node:path';
import { checkBasicAuth, loadBasicAuth } from '../../router/auth.js';

const basic = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;

t.test('credentials come from the two files, without a trailing newline', async (t) => {
  const dir = t.testdir({ 'basic-auth-user': 'admin\n', 'basic-auth-password': 's3cr:et' });
  t.same(loadBasicAuth(dir), { user: 'admin', password: 's3cr:et' });
  t.match(t.throws(() => loadBasicAuth(join(dir, 'missing'))), { code: 'ERR_CONFIG', problems: [/basic-auth-user/, /basic-auth-password/] });
  const empty = t.testdir({ 'basic-auth-user': '', 'basic-auth-password': 'x' });
  t.match(t.throws(() => loadBasicAuth(empty)), { problems: [/is empty/] });
});

t.test('only the exact pair passes', async (t) => {
  const creds = { user: 'admin', password: 's3cr:et' };
  t.equal(checkBasicAuth(basic('admin:s3cr:et'), creds), true);
  t.equal(checkBasicAuth(`basic   ${Buffer.from('admin:s3cr:et').toString('base64')}`, creds), true);
  t.equal(checkBasicAuth(basic('admin:wrong'), creds), false);
  t.equal(checkBasicAuth(basic('root:s3cr:et'), creds), false);
  t.equal(checkBasicAuth(basic('admins3cr:et'.replace(':', '')), creds), false);
  t.equal(checkBasicAuth(undefined, creds), false);
  t.equal(checkBasicAuth('Bearer abc', creds), false);
});

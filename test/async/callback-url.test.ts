import t from 'tap';
import { checkCallbackUrl, compileAllowList } from '../../router/async/callback-url.js';
import { BadCallbackUrlError, CallbackNotAllowedError } from '../../router/async/errors.js';

t.test('allow list: names, *.suffixes, IPs and CIDRs', async (t) => {
  const allow = compileAllowList(['hooks.example.com', '*.example.org', '10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']);
  for (const host of ['hooks.example.com', 'HOOKS.example.com', 'hooks.example.com.', 'a.example.org', 'a.b.example.org', '10.0.0.1', '10.255.255.255', '192.168.1.7', 'fd12::1', '[::1]', '::1']) {
    t.ok(allow.allows(host), `${host} allowed`);
  }
  for (const host of ['example.com', 'evil-hooks.example.com', 'example.org', 'xexample.org', '11.0.0.1', '9.255.255.255', '192.168.1.8', 'fe80::1', '::2', '10.0.0.1.nip.io']) {
    t.notOk(allow.allows(host), `${host} refused`);
  }
  t.notOk(compileAllowList([]).allows('anything'), 'an empty list allows nothing');
  t.ok(compileAllowList(['0.0.0.0/0']).allows('8.8.8.8'), '/0 matches every IPv4 address');
});

t.test('callback URL must be absolute http(s)', async (t) => {
  t.equal(checkCallbackUrl('http://example.com/hook?x=1', undefined), 'http://example.com/hook?x=1');
  t.equal(checkCallbackUrl('HTTPS://Example.COM', undefined), 'https://example.com/', 'normalised');
  for (const bad of ['/relative', 'example.com/hook', 'ftp://example.com', 'javascript:alert(1)', 'http://', 'http://user:pw@example.com/', `http://x/${'a'.repeat(2050)}`]) {
    t.throws(() => checkCallbackUrl(bad, undefined), BadCallbackUrlError, `refused: ${bad.slice(0, 40)}`);
  }
  const allow = compileAllowList(['127.0.0.0/8']);
  t.equal(checkCallbackUrl('http://127.0.0.1:9000/x', allow), 'http://127.0.0.1:9000/x');
  t.throws(() => checkCallbackUrl('http://localhost:9000/x', allow), CallbackNotAllowedError, 'names are not resolved to match a CIDR');
  try {
    checkCallbackUrl('http://evil.test/', allow);
  } catch (err) {
    t.match(err, { code: 'ROUTER_ERR_CALLBACK_NOT_ALLOWED', status: 400, host: 'evil.test' });
  }
});

t.test('link-local and metadata IPs are refused at accept even without callback_allow', async (t) => {
  for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/',
    'http://[::ffff:169.254.169.254]/', 'http://169.254.170.2:80/v2/credentials',
    'http://[::169.254.169.254]/', 'http://[64:ff9b::a9fe:a9fe]/', 'http://[64:ff9b::100.100.100.200]/']) {
    t.throws(() => checkCallbackUrl(url, undefined), CallbackNotAllowedError, `${url} refused with no callback_allow`);
    t.throws(() => checkCallbackUrl(url, compileAllowList(['0.0.0.0/0', '::/0'])), CallbackNotAllowedError, `${url} refused even by a catch-all list`);
    t.doesNotThrow(() => checkCallbackUrl(url, undefined, true), `${url} allowed with callback_allow_link_local`);
  }
  t.doesNotThrow(() => checkCallbackUrl('http://127.0.0.1:9/', undefined), 'other addresses are unaffected');
  t.doesNotThrow(() => checkCallbackUrl('http://[64:ff9b::a01:203]/', undefined), 'other addresses behind NAT64 too (10.1.2.3)');
});

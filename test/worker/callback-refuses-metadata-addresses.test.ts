// Callbacks never reach link-local or cloud metadata addresses unless callback_allow_link_local is on
//: IP literals are refused before any connection, and a host name is checked on what
// it resolves to when the worker connects, so a name that resolves there later (DNS rebinding) is refused too.
import t from 'tap';
import type { LookupAddress } from 'node:dns';
import { callbackState, postCallback } from '../../router/worker/callback.js';
import { createCallbackDispatcher } from '../../router/worker/callback-dispatcher.js';
import { isRefusedCallbackAddress } from '../../router/callback-guard.js';
import { startUpstream } from '../helpers/start-router.js';

const policy = { retryHttpCodes: [502, 503], maxRetryAttempts: 10 };

t.test('the refused list', async (t) => {
  for (const address of ['169.254.169.254', '169.254.170.2', '[fe80::1]', 'fe80::abcd', 'fd00:ec2::254', '[fd00:ec2::254]',
    '100.100.100.200', '192.0.0.192', '::ffff:169.254.169.254', '[::ffff:a9fe:a9fe]']) {
    t.ok(isRefusedCallbackAddress(address), `${address} is refused`);
  }
  for (const address of ['127.0.0.1', '10.0.0.1', '::1', 'fd00:ec2::253', '100.100.100.201', 'example.com', '169.255.0.1']) {
    t.notOk(isRefusedCallbackAddress(address), `${address} is not refused`);
  }
});

t.test('an IP-literal metadata host is refused without a connection, and not retried', async (t) => {
  const dispatcher = createCallbackDispatcher({ timeoutMs: 2_000, allowLinkLocal: false });
  t.teardown(() => dispatcher.close());
  for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://[::ffff:169.254.169.254]/']) {
    const result = await postCallback(url, {}, Buffer.from('x'), { dispatcher, timeoutMs: 2_000 });
    t.equal(result.refused, true, `${url}: ${result.error}`);
    t.match(result.error, /link-local or metadata/);
    t.equal(callbackState(result, 1, policy), 'failed', 'given up at once, not retried ten times');
  }
});

t.test('a host name is checked on the addresses it resolves to when the worker connects', async (t) => {
  const receiver = await startUpstream(t, (_req, res) => res.end('ok'));
  const port = new URL(receiver.url).port;
  // The one piece not real here is DNS: these names resolve as a rebinding attacker's server would answer.
  const answers: Record<string, LookupAddress[]> = {
    'rebind.test': [{ address: '169.254.169.254', family: 4 }],
    'dual.test': [{ address: '127.0.0.1', family: 4 }, { address: 'fe80::1', family: 6 }],
    'fine.test': [{ address: '127.0.0.1', family: 4 }],
  };
  const lookups: string[] = [];
  const dispatcher = createCallbackDispatcher({
    timeoutMs: 2_000, allowLinkLocal: false,
    lookup: (hostname, _options, callback) => {
      lookups.push(hostname);
      const found = answers[hostname];
      if (found === undefined) callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      else callback(null, found);
    },
  });
  t.teardown(() => dispatcher.close());
  const rebound = await postCallback(`http://rebind.test:${port}/hook`, {}, Buffer.from('x'), { dispatcher, timeoutMs: 2_000 });
  t.equal(rebound.refused, true, `a name resolving to a metadata address is refused: ${rebound.error}`);
  t.match(rebound.error, /rebind\.test/);
  const dual = await postCallback(`http://dual.test:${port}/hook`, {}, Buffer.from('x'), { dispatcher, timeoutMs: 2_000 });
  t.equal(dual.refused, true, 'one refused address among several is enough');
  const fine = await postCallback(`http://fine.test:${port}/hook`, {}, Buffer.from('x'), { dispatcher, timeoutMs: 2_000 });
  t.same(fine, { statusCode: 200, error: null }, 'a name resolving elsewhere is delivered');
  t.ok(lookups.includes('rebind.test') && lookups.includes('fine.test'), 'the lookup ran at connect time');

  const real = createCallbackDispatcher({ timeoutMs: 2_000, allowLinkLocal: false });
  t.teardown(() => real.close());
  const local = await postCallback(`http://localhost:${port}/hook`, {}, Buffer.from('x'), { dispatcher: real, timeoutMs: 2_000 });
  t.same(local, { statusCode: 200, error: null }, 'real DNS through the guard works');
});

t.test('callback_allow_link_local=true lets them through', async (t) => {
  const dispatcher = createCallbackDispatcher({
    timeoutMs: 500, allowLinkLocal: true,
    lookup: () => { throw new Error('no lookup hook when allowed'); },
  });
  t.teardown(() => dispatcher.close());
  const result = await postCallback('http://169.254.169.254/', {}, Buffer.from('x'), { dispatcher, timeoutMs: 300, allowLinkLocal: true });
  t.notOk(result.refused, `not refused (it may still fail to connect here: ${result.error})`);
});

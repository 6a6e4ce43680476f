import t from 'tap';
import { callIdFrom, createUuidv7 } from '../../router/async/call-id.js';
import { encodeBody, redactHeaders, viewCall } from '../../router/async/call-view.js';
import { parseCallsQuery } from '../../router/async/calls-api.js';
import { BadCallIdError, BadQueryError } from '../../router/async/errors.js';
import type { CallRecord } from '../../router/queue/index.js';

t.test('X-Call-Id: client ids are validated, absent ones generated', async (t) => {
  t.match(callIdFrom(undefined), { id: /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, chosen: false }, 'a UUIDv7');
  // Time-ordered: ids made one after another sort in that order, also within one millisecond.
  const made = Array.from({ length: 2_000 }, () => callIdFrom(undefined).id);
  t.same([...made].sort(), made, 'generated ids sort in the order they were made');
  t.equal(new Set(made).size, made.length, 'and are all different');
  const ms = parseInt(made[0]!.replace(/-/g, '').slice(0, 12), 16);
  t.ok(Math.abs(ms - Date.now()) < 60_000, 'the first 48 bits are the time in milliseconds');
  // Within one millisecond the counter orders them; a clock that steps back does not break the order (a generator
  // of the test's own: the router's is left as it was).
  const uuidv7 = createUuidv7();
  const at = Date.now();
  const same = [uuidv7(at), uuidv7(at), uuidv7(at), uuidv7(at - 5_000), uuidv7(at - 1)];
  t.same([...same].sort(), same, 'ordered within a millisecond and across a clock stepping back');
  t.ok(same.every((id) => id.startsWith(at.toString(16).padStart(12, '0').replace(/^(.{8})/, '$1-'))), 'all on the last timestamp');
  t.ok(uuidv7(at + 1) > same.at(-1)!, 'a later millisecond sorts after');
  // 2^30 ids in one millisecond would be needed to reach the counter's end; from a seed below 2^29, 2^29 ids
  // within one millisecond stay on it, in order.
  const busy = createUuidv7();
  let last = busy(at);
  let inOrder = true;
  for (let i = 0; i < 100_000; i++) { const next = busy(at); if (next <= last) inOrder = false; last = next; }
  t.ok(inOrder, '100,000 ids in one millisecond, in order');
  t.ok(last.startsWith(same[0]!.slice(0, 13)), 'still on that millisecond');
  t.match(callIdFrom(''), { chosen: false });
  t.same(callIdFrom('order-42:v1_a.b'), { id: 'order-42:v1_a.b', chosen: true });
  t.same(callIdFrom('x'.repeat(128)), { id: 'x'.repeat(128), chosen: true });
  // UTF-8 sent in a header reaches Node as latin1 text: the refusal shows it as the client wrote it.
  t.throws(() => callIdFrom(Buffer.from('été', 'utf8').toString('latin1')), { message: 'invalid X-Call-Id "été": expected 1-128 characters of [A-Za-z0-9._:-]' });
  t.throws(() => callIdFrom('\u00ff'), { message: /invalid X-Call-Id "ÿ"/ }, 'bytes that are no UTF-8 are shown as they came');
  for (const bad of ['x'.repeat(129), 'a b', 'a/b', '../x', '.hidden', 'é', 'a%2Fb', ['a', 'b']]) {
    t.throws(() => callIdFrom(bad), BadCallIdError, `refused: ${String(bad).slice(0, 20)}`);
  }
});

t.test('record view: redaction and body encoding', async (t) => {
  t.same(redactHeaders({ authorization: 'Basic x', cookie: 'a=b', 'x-keep': 'v', 'Proxy-Authorization': 'y' }),
    { authorization: '[redacted]', cookie: '[redacted]', 'x-keep': 'v', 'Proxy-Authorization': '[redacted]' });
  t.same(encodeBody(Buffer.from('héllo')), { body: 'héllo', encoding: 'utf8' });
  t.same(encodeBody(Buffer.from([0xff, 0x00, 0xfe])), { body: '/wD+', encoding: 'base64' });
  const record = {
    id: 'c', headers: { authorization: 'Bearer t' },
    result: { statusCode: 200, headers: { a: 'b' }, bodySize: 3, body: Buffer.from([1, 2, 0xff]) },
  } as unknown as CallRecord;
  t.match(viewCall(record, true), { headers: { authorization: '[redacted]' }, result: { statusCode: 200, body: 'AQL/', encoding: 'base64', bodySize: 3 } });
  t.notOk('body' in (viewCall(record, false)['result'] as object), 'lists leave bodies out');
  t.match(viewCall({ ...record, result: { ...record.result!, body: null } }, true), { result: { bodyKept: false } }, 'a body over the size kept says so');
  t.equal(viewCall({ ...record, result: null }, true)['result'], null);
});

t.test('/system/calls query', async (t) => {
  t.same(parseCallsQuery(''), {});
  t.same(parseCallsQuery('function=echo&status=failed,expired&limit=5'), { functionName: 'echo', status: ['failed', 'expired'], limit: 5 });
  for (const bad of ['status=done', 'limit=0', 'limit=1001', 'limit=x', 'fn=echo', 'limit=10&limit=20', 'function=a&function=b']) t.throws(() => parseCallsQuery(bad), BadQueryError, bad);
  t.same(parseCallsQuery('status=failed&status=cancelled,expired'), { status: ['failed', 'cancelled', 'expired'] }, 'repeated status lists add up');
  t.same(parseCallsQuery('function=echo.openfaas-fn', 'openfaas-fn'), { functionName: 'echo' }, 'name.namespace as the other routes read it');
  t.same(parseCallsQuery('function=echo', 'openfaas-fn'), { functionName: 'echo' });
  t.throws(() => parseCallsQuery('function=echo.dev', 'openfaas-fn'), { code: 'ROUTER_ERR_NAMESPACE_NOT_FOUND', status: 404 }, 'another namespace: 404, as on /function/');
});

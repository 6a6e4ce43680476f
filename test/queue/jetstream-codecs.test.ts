// Pure parts of the jetstream backend: name escaping, the record envelope, the queue URL, fencing.

import t from 'tap';
import {
  callSubject, escapeToken, functionConsumer, functionSubjects, idSubjects, jetStreamNames, messageId, parseCallSubject, recordKey, unescapeToken,
} from '../../router/queue/jetstream/jetstream-names.js';
import { decodeEnvelope, encodeEnvelope } from '../../router/queue/jetstream/jetstream-envelope.js';
import { fence } from '../../router/queue/jetstream/jetstream-lease.js';
import { newRecord } from '../../router/queue/record.js';
import { parseNatsUrl } from '../../router/queue/jetstream/backend.js';

const record = newRecord({ id: 'a', functionName: 'echo', method: 'POST', path: '', query: '', headers: {}, body: Buffer.from('x'), callbackUrl: null }, 1);

t.test('names and keys', async (t) => {
  const names = jetStreamNames('whippet');
  t.same(names, {
    stream: 'whippet-calls', prefix: 'whippet', consumer: 'whippet-workers', legacy: 'whippet-legacy', bucket: 'whippet-records',
    bodies: 'whippet-bodies', subjects: 'whippet.calls.>', changes: 'whippet.changes.>',
  });
  t.equal(callSubject(names, 'echo.openfaas-fn', 'k1'), 'whippet.calls.echo_2Eopenfaas-fn.k1', 'a dot never splits the token');
  t.equal(functionSubjects(names, 'echo.openfaas-fn'), 'whippet.calls.echo_2Eopenfaas-fn.*');
  t.equal(idSubjects(names, 'k1'), 'whippet.calls.*.k1', 'a call is found by id whatever its function');
  t.same(parseCallSubject(names, 'whippet.calls.echo_2Eopenfaas-fn.k1'), { functionName: 'echo.openfaas-fn', key: 'k1' });
  t.equal(parseCallSubject(names, 'whippet.calls.echo'), null, 'a subject of the earlier layout');
  t.equal(functionConsumer(names, 'echo.openfaas-fn'), 'whippet-fn-echo_2Eopenfaas-fn');
  for (const value of ['a_b', 'x.*>é', 'plain', 'a_5Fb']) t.equal(unescapeToken(escapeToken(value)), value, `unescape(escape(${value}))`);
  t.equal(recordKey('3f2a-11'), '3f2a-11', 'UUID-like ids stay readable');
  t.equal(escapeToken('a_b'), 'a_5Fb', 'the escape character is escaped itself (injective)');
  t.equal(escapeToken('x.*>é'), 'x_2E_2A_3E_C3_A9');
  t.equal(escapeToken(''), '_');
  t.equal(messageId('k', 2), 'k:2');
  t.throws(() => jetStreamNames('a.b'));
});

t.test('the envelope keeps the result body raw, and drops it when the whole would not fit', async (t) => {
  const body = Buffer.alloc(1000, 7);
  const env = { record: { ...record, result: { statusCode: 200, headers: {}, bodySize: 1000, body } }, lease: { seq: 5, delivery: 2 } };
  const full = encodeEnvelope(env, 10_000);
  const back = decodeEnvelope(full);
  t.same(back.lease, { seq: 5, delivery: 2 });
  t.same(Buffer.from(back.record.result!.body!), body);
  t.equal(decodeEnvelope(full, false).record.result!.body, null, 'list leaves it out');
  const small = decodeEnvelope(encodeEnvelope(env, 900));
  t.equal(small.record.result!.body, null, 'too large: body dropped');
  t.equal(small.record.result!.bodySize, 1000, 'its size kept');
});

t.test('queue URLs', async (t) => {
  t.same(parseNatsUrl('nats://a:4222'), { servers: ['nats://a:4222'] });
  t.same(parseNatsUrl('nats://a:1,nats://b:2?replicas=3&name=x-1'), { servers: ['nats://a:1', 'nats://b:2'], replicas: 3, name: 'x-1' });
  for (const bad of ['nats://a:1?replicas=2', 'nats://a:1?other=1', 'nats://a:1?name=a.b', 'nats://a:1,http://b']) {
    t.throws(() => parseNatsUrl(bad), { code: 'QUEUE_ERR_URL' }, bad);
  }
});

t.test('fencing', async (t) => {
  const mine = { seq: 7, delivery: 2 };
  t.doesNotThrow(() => fence('a', null, mine, record, 0), 'nobody wrote yet');
  t.doesNotThrow(() => fence('a', { seq: 7, delivery: 1 }, mine, record, 0), 'an earlier delivery of my message: I take over');
  t.doesNotThrow(() => fence('a', mine, mine, record, 0));
  t.throws(() => fence('a', { seq: 7, delivery: 3 }, mine, record, 0), { code: 'QUEUE_ERR_LEASE_LOST' }, 'a later delivery took over');
  t.throws(() => fence('a', { seq: 8, delivery: 1 }, mine, record, 0), { code: 'QUEUE_ERR_LEASE_LOST' }, 'another message owns the call');
  t.throws(() => fence('a', null, mine, { ...record, round: 1 }, 0), { code: 'QUEUE_ERR_LEASE_LOST' }, 'redriven since');
});
